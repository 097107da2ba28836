"""Dashboard settings: each bad combination fails with the stack file and the key to change."""

from typing import Any

import pytest

from settings import SettingsError, parse_settings

EKS = {"kind": "eks", "name": "platform-dev", "region": "eu-west-1"}
GKE = {"kind": "gke", "name": "platform-prd", "location": "europe-west1", "project": "acme-platform-prd"}
KUBECONFIG = {"kind": "kubeconfig", "context": "kind-gitops"}
HOST = "argocd.example.com"


def parse(stack: str, cluster: dict[str, Any], dashboard: dict[str, Any]):
    return parse_settings({"cluster": cluster, "dashboard": {"host": HOST, **dashboard}}, stack)


def error_of(stack: str, cluster: dict[str, Any], dashboard: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as raised:
        parse(stack, cluster, dashboard)
    return str(raised.value)


BAD = [
    ("dev", GKE, {"ingress": "alb", "tls": {"mode": "none"}, "allowInsecureHttp": True}, "dashboard.ingress: alb needs an EKS"),
    ("local", KUBECONFIG, {"ingress": "alb"}, "dashboard.ingress: alb needs an EKS cluster, not cluster.kind kubeconfig"),
    ("dev", EKS, {"ingress": "gke", "tls": {"mode": "googleManaged"}}, "dashboard.ingress: gke needs a GKE cluster"),
    ("dev", EKS, {"ingress": "alb", "tls": {"mode": "acm"}}, "dashboard.dns.route53Zone: tls.mode acm needs a Route 53 zone"),
    ("dev", EKS, {"ingress": "nginx", "tls": {"mode": "acm"}}, "dashboard.tls.mode: acm does not work with"),
    ("dev", GKE, {"ingress": "nginx", "tls": {"mode": "googleManaged"}}, "dashboard.tls.mode: googleManaged does not work"),
    ("dev", EKS, {"ingress": "alb", "tls": {"mode": "googleManaged"}}, "googleManaged does not work with dashboard.ingress alb"),
    ("prd", GKE, {"ingress": "gke", "tls": {"mode": "passthrough"}}, "passthrough does not work with dashboard.ingress gke"),
    ("dev", KUBECONFIG, {"ingress": "nginx", "tls": {"mode": "none"}}, "dashboard.tls.mode: none serves the dashboard"),
    ("stg", EKS, {"ingress": "alb", "dns": {"route53Zone": "example.com"}}, "set dashboard.allowInsecureHttp: true"),
    ("dev", EKS, {"ingress": "nginx", "dns": {"route53Zone": "example.com"}}, "dashboard.dns.route53Zone: Route 53 records"),
    ("prd", GKE, {"ingress": "nginx", "dns": {"staticIpName": "ip"}}, "dashboard.dns.staticIpName"),
    ("local", KUBECONFIG, {"ingress": "none", "sourceRanges": ["203.0.113.0/24"]}, "dashboard.sourceRanges: has no effect"),
]


@pytest.mark.parametrize(("stack", "cluster", "dashboard", "expected"), BAD)
def test_bad_combinations_name_the_stack_file_and_key(stack, cluster, dashboard, expected):
    message = error_of(stack, cluster, dashboard)
    assert message.startswith(f"stacks/Pulumi.{stack}.yaml: ")
    assert expected in message


FIELD_ERRORS = [
    (
        {"host": "Argo CD.example.com", "ingress": "nginx"},
        'gitops:dashboard.host: expected a DNS name like argocd.example.com, got "Ar',
    ),
    ({"host": None, "ingress": "nginx"}, "gitops:dashboard.host: ingress nginx needs host"),
    ({"ingress": "traefik"}, "gitops:dashboard.ingress: expected one of"),
    ({"ingress": "nginx", "tls": {"mode": "secret"}}, "gitops:dashboard.tls.secretName: mode secret needs secretName"),
    ({"ingress": "nginx", "tls": {"mode": "certManager"}}, "gitops:dashboard.tls.issuer: mode certManager needs issuer"),
    ({"ingress": "nginx", "tls": {"mode": "none", "issuer": "x"}}, "gitops:dashboard.tls.issuer: is only used"),
    (
        {"ingress": "nginx", "sourceRanges": ["10.0.0.1/8"]},
        'gitops:dashboard.sourceRanges[0]: expected a CIDR range like 203.0.113.0/24, got "10.',
    ),
    ({"ingress": "nginx", "allowInsecureHttp": "yes"}, "gitops:dashboard.allowInsecureHttp: expected true or false"),
    ({"ingress": "nginx", "tls": {"mod": "none"}}, 'gitops:dashboard.tls.mod: unknown key (did you mean "mode"?)'),
    ({"ingress": "alb", "dns": {"route53Zone": "example.com", "route53ZoneId": "Z123"}}, "set either route53Zone or"),
]


@pytest.mark.parametrize(("dashboard", "expected"), FIELD_ERRORS)
def test_field_errors_name_the_key(dashboard, expected):
    message = error_of("local", KUBECONFIG, dashboard)
    assert message.startswith("stacks/Pulumi.local.yaml: ")
    assert expected in message


def test_every_problem_is_reported_at_once():
    message = error_of("dev", KUBECONFIG, {"ingress": "alb", "tls": {"mode": "acm"}})
    assert "dashboard.ingress: alb needs an EKS" in message
    assert "dashboard.dns.route53Zone: tls.mode acm needs" in message


GOOD = [
    ("local", KUBECONFIG, {"ingress": "nginx"}),  # plain HTTP needs no opt-in on the local stack
    ("dev", KUBECONFIG, {"ingress": "nginx", "tls": {"mode": "none"}, "allowInsecureHttp": True}),
    ("dev", EKS, {"ingress": "alb", "tls": {"mode": "acm"}, "dns": {"route53Zone": "example.com"}}),
    ("dev", EKS, {"ingress": "alb", "tls": {"mode": "acm"}, "dns": {"route53ZoneId": "Z0EXAMPLE0ZONE"}}),
    ("dev", EKS, {"ingress": "nginx", "tls": {"mode": "certManager", "issuer": "letsencrypt"}}),
    ("prd", GKE, {"ingress": "gke", "tls": {"mode": "googleManaged"}, "dns": {"cloudDnsZone": "example-com"}}),
    ("prd", GKE, {"ingress": "nginx", "tls": {"mode": "passthrough"}, "sourceRanges": ["203.0.113.0/24"]}),
]


@pytest.mark.parametrize(("stack", "cluster", "dashboard"), GOOD)
def test_good_combinations_parse(stack, cluster, dashboard):
    settings = parse(stack, cluster, dashboard)
    assert settings.dashboard.ingress == dashboard["ingress"]


def test_defaults_keep_the_dashboard_unexposed():
    settings = parse_settings({}, "dev")
    assert settings.dashboard.ingress == "none"
    assert settings.dashboard.tls.mode == "none"
    assert settings.dashboard.allow_insecure_http is False
