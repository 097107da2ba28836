"""Chart values for each ingress family and TLS mode: real chart keys, and TLS, protocol, port and
redirect that agree (the redirect-loop / 404 trap)."""

import json
from typing import Any

import pytest

from components.dashboard_values import SERVER_SERVICE, dashboard_values, exposure
from settings.dashboard import TLS_MODES_BY_INGRESS, DashboardSettings
from tests.chart_keys import unknown_chart_keys

HOST = "argocd.example.com"
ARN = "arn:aws:acm:eu-west-1:111111111111:certificate/0d1e2f"
TLS = {
    "secret": {"mode": "secret", "secretName": "argocd-example-tls"},
    "certManager": {"mode": "certManager", "issuer": "letsencrypt"},
    "acm": {"mode": "acm"},
    "googleManaged": {"mode": "googleManaged"},
    "passthrough": {"mode": "passthrough"},
    "none": {"mode": "none"},
}


def dashboard(ingress: str, mode: str, **extra: Any) -> DashboardSettings:
    return DashboardSettings.model_validate({"host": HOST, "ingress": ingress, "tls": TLS[mode], **extra})


def values_for(settings: DashboardSettings) -> dict[str, Any]:
    return dashboard_values(settings, certificate_arn=ARN, static_ip_name="platform-prd-argocd", security_policy_name=None)


COMBINATIONS = [
    (ingress, mode, allow_http)
    for ingress in ("nginx", "alb", "gke")
    for mode in TLS_MODES_BY_INGRESS[ingress]
    for allow_http in (False, True)
]


@pytest.mark.parametrize(("ingress", "mode", "allow_http"), COMBINATIONS)
def test_every_key_set_exists_in_the_chart(ingress, mode, allow_http):
    values = values_for(dashboard(ingress, mode, allowInsecureHttp=allow_http, sourceRanges=["203.0.113.0/24"]))
    assert values["server"]["ingress"]["enabled"] is True
    assert unknown_chart_keys(values) == []


def test_the_key_check_catches_a_misspelt_key():
    values = values_for(dashboard("gke", "googleManaged"))
    values["server"]["ingress"]["gke"]["managedCertificates"] = {"create": True}
    assert unknown_chart_keys(values) == ["server.ingress.gke.managedCertificates"]


def observed(values: dict[str, Any], ingress: str) -> tuple[bool, str, bool]:
    """What the chart and the controller would do with these values: argocd-server's TLS, the
    protocol the proxy speaks to it, and whether plain HTTP is redirected."""
    insecure = values["configs"]["params"]["server.insecure"]
    server_ingress = values["server"]["ingress"]
    annotations = server_ingress["annotations"]
    if ingress == "nginx":
        protocol = annotations["nginx.ingress.kubernetes.io/backend-protocol"]
        redirect = annotations.get("nginx.ingress.kubernetes.io/force-ssl-redirect") == "true"
    elif ingress == "alb":
        protocol = annotations["alb.ingress.kubernetes.io/backend-protocol"]
        redirect = annotations.get("alb.ingress.kubernetes.io/ssl-redirect") == "443"
    else:
        # GKE talks HTTP to the service port the BackendConfig is bound to (by port name).
        ports = json.loads(values["server"]["service"]["annotations"]["cloud.google.com/backend-config"])["ports"]
        protocol = "HTTP" if set(ports) == {"http"} and ports["http"] == SERVER_SERVICE else "?"
        redirect = server_ingress["gke"]["frontendConfig"].get("redirectToHttps", {}).get("enabled") is True
    return insecure, protocol, redirect


AGREEMENT = [
    # family, TLS mode, allowInsecureHttp → server.insecure, backend protocol, HTTP→HTTPS redirect
    ("nginx", "secret", False, True, "HTTP", True),
    ("nginx", "certManager", False, True, "HTTP", True),
    ("nginx", "passthrough", False, False, "HTTPS", True),
    ("nginx", "none", False, True, "HTTP", False),
    ("nginx", "secret", True, True, "HTTP", False),
    ("alb", "acm", False, True, "HTTP", True),
    ("alb", "acm", True, True, "HTTP", False),
    ("alb", "none", True, True, "HTTP", False),
    ("gke", "googleManaged", False, True, "HTTP", True),
    ("gke", "certManager", False, True, "HTTP", True),
    ("gke", "googleManaged", True, True, "HTTP", False),
    ("gke", "none", True, True, "HTTP", False),
]


@pytest.mark.parametrize(("ingress", "mode", "allow_http", "insecure", "protocol", "redirect"), AGREEMENT)
def test_tls_protocol_and_redirect_agree(ingress, mode, allow_http, insecure, protocol, redirect):
    assert observed(values_for(dashboard(ingress, mode, allowInsecureHttp=allow_http)), ingress) == (insecure, protocol, redirect)


@pytest.mark.parametrize(("ingress", "mode", "allow_http"), COMBINATIONS)
def test_no_combination_pairs_plain_http_backend_with_tls_server_or_back(ingress, mode, allow_http):
    insecure, protocol, _ = observed(values_for(dashboard(ingress, mode, allowInsecureHttp=allow_http)), ingress)
    assert (insecure, protocol) in {(True, "HTTP"), (False, "HTTPS")}


def test_the_address_comes_from_the_ingress_except_on_gke_where_it_is_reserved_first():
    assert exposure(dashboard("nginx", "none")).address_source == "ingress-status"
    assert exposure(dashboard("alb", "acm")).address_source == "ingress-status"
    assert exposure(dashboard("gke", "googleManaged")).address_source == "static-ip"


def test_nginx_with_tls_at_the_ingress_serves_grpc_on_a_second_host():
    values = values_for(dashboard("nginx", "certManager", ingressClassName="public"))
    server = values["server"]
    assert server["ingress"]["ingressClassName"] == "public"
    assert server["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert server["ingress"]["tls"] is True
    grpc = server["ingressGrpc"]
    assert grpc["enabled"] is True
    assert grpc["hostname"] == f"grpc.{HOST}"
    assert grpc["ingressClassName"] == "public"
    assert grpc["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPC"
    assert grpc["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert grpc["tls"] is True
    assert exposure(dashboard("nginx", "certManager")).cli_login == f"argocd login grpc.{HOST}"


def test_cert_manager_namespaced_issuer_uses_the_issuer_annotation():
    settings = DashboardSettings.model_validate(
        {"host": HOST, "ingress": "nginx", "tls": {"mode": "certManager", "issuer": "local-ca", "issuerKind": "Issuer"}}
    )
    annotations = values_for(settings)["server"]["ingress"]["annotations"]
    assert annotations["cert-manager.io/issuer"] == "local-ca"
    assert "cert-manager.io/cluster-issuer" not in annotations


def test_an_existing_secret_goes_through_extra_tls_for_both_hosts():
    server = values_for(dashboard("nginx", "secret"))["server"]
    assert server["ingress"]["tls"] is False  # `tls: true` would name the chart's own argocd-server-tls
    assert server["ingress"]["extraTls"] == [{"hosts": [HOST], "secretName": "argocd-example-tls"}]
    assert server["ingressGrpc"]["extraTls"] == [{"hosts": [f"grpc.{HOST}"], "secretName": "argocd-example-tls"}]


def test_nginx_passthrough_lets_argocd_server_terminate_tls_and_grpc_on_one_host():
    values = values_for(dashboard("nginx", "passthrough"))
    annotations = values["server"]["ingress"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/ssl-passthrough"] == "true"
    assert "ingressGrpc" not in values["server"]
    assert exposure(dashboard("nginx", "passthrough")).cli_login == f"argocd login {HOST}"


def test_plain_http_nginx_uses_grpc_web_and_no_grpc_host():
    settings = dashboard("nginx", "none")
    values = values_for(settings)
    assert "ingressGrpc" not in values["server"]
    plan = exposure(settings)
    assert plan.url == f"http://{HOST}"
    assert plan.cli_login == f"argocd login {HOST}:80 --plaintext --grpc-web"
    # Argo CD's own URL (SSO redirects, links) says http too; the chart alone would say https.
    assert values["configs"]["cm"]["url"] == f"http://{HOST}"


def test_only_an_alb_with_route53_records_waits_for_its_load_balancer_address():
    waits = dashboard("alb", "acm", dns={"route53Zone": "example.com"})
    assert exposure(waits).awaits_address
    assert "pulumi.com/skipAwait" not in values_for(waits)["server"]["ingress"]["annotations"]
    for settings in (dashboard("nginx", "none"), dashboard("nginx", "certManager"), dashboard("gke", "googleManaged")):
        server = values_for(settings)["server"]
        for ingress in (server["ingress"], server.get("ingressGrpc")):
            if ingress:
                assert ingress["annotations"]["pulumi.com/skipAwait"] == "true", settings


def test_alb_uses_the_charts_grpc_service_with_ip_targets_and_the_acm_certificate():
    settings = dashboard("alb", "acm", sourceRanges=["203.0.113.0/24", "198.51.100.7/32"])
    ingress = values_for(settings)["server"]["ingress"]
    assert ingress["controller"] == "aws"
    assert ingress["ingressClassName"] == "alb"
    assert ingress["aws"] == {"serviceType": "ClusterIP", "backendProtocolVersion": "GRPC"}
    annotations = ingress["annotations"]
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == ARN
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}, {"HTTPS": 443}]
    assert annotations["alb.ingress.kubernetes.io/inbound-cidrs"] == "203.0.113.0/24,198.51.100.7/32"
    assert exposure(settings).cli_login == f"argocd login {HOST}"


def test_alb_without_tls_has_only_an_http_listener_and_no_grpc_target_group():
    settings = dashboard("alb", "none", allowInsecureHttp=True)
    ingress = values_for(settings)["server"]["ingress"]
    assert json.loads(ingress["annotations"]["alb.ingress.kubernetes.io/listen-ports"]) == [{"HTTP": 80}]
    assert "alb.ingress.kubernetes.io/certificate-arn" not in ingress["annotations"]
    assert ingress["aws"]["backendProtocolVersion"] == "HTTP1"
    assert "--grpc-web" in exposure(settings).cli_flags


def test_gke_health_check_neg_static_ip_and_managed_certificate():
    values = dashboard_values(
        dashboard("gke", "googleManaged"), static_ip_name="platform-prd-argocd", security_policy_name="platform-prd-allowlist"
    )
    ingress = values["server"]["ingress"]
    assert ingress["controller"] == "gke"
    assert ingress["annotations"]["kubernetes.io/ingress.global-static-ip-name"] == "platform-prd-argocd"
    backend = ingress["gke"]["backendConfig"]
    assert backend["healthCheck"]["requestPath"] == "/healthz"
    assert backend["healthCheck"]["port"] == 8080
    assert backend["securityPolicy"] == {"name": "platform-prd-allowlist"}
    assert ingress["gke"]["managedCertificate"]["create"] is True
    assert json.loads(values["server"]["service"]["annotations"]["cloud.google.com/neg"]) == {"ingress": True}
    assert exposure(dashboard("gke", "googleManaged")).cli_login == f"argocd login {HOST} --grpc-web"


@pytest.mark.parametrize("mode", ["secret", "certManager", "none"])
def test_gke_creates_a_managed_certificate_only_when_asked(mode):
    # The chart's default is `create: true`; left alone it would make one for every GKE ingress.
    values = values_for(dashboard("gke", mode, allowInsecureHttp=mode == "none"))
    assert values["server"]["ingress"]["gke"]["managedCertificate"]["create"] is False


def test_unexposed_dashboard_sets_no_values():
    settings = DashboardSettings.model_validate({"host": HOST})
    assert dashboard_values(settings) == {}
    assert exposure(settings) is None
