"""The dashboard components inside the whole program, under mocks: the cloud resources they
register, their wiring to the chart, the outputs, and valid Kubernetes objects throughout."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.dashboard import address_in_status, cloud_armor_rules
from ops.mocks import INGRESS
from ops.program import ProgramRun, run_program
from ops.render import kubernetes_objects
from ops.validate import validate_object
from tests.registered import find, one

EKS = {"kind": "eks", "name": "platform-dev", "region": "eu-west-1"}
GKE = {"kind": "gke", "name": "platform-prd", "location": "europe-west1", "project": "acme-platform-prd"}
KUBECONFIG = {"kind": "kubeconfig", "context": "kind-gitops"}


def run(tmp_path: Path, stack: str, cluster: dict[str, Any], dashboard: dict[str, Any]) -> ProgramRun:
    stack_file = tmp_path / f"Pulumi.{stack}.yaml"
    stack_file.write_text(yaml.safe_dump({"config": {"gitops:cluster": cluster, "gitops:dashboard": dashboard}}))
    return run_program(stack, stack_file=stack_file)


def chart_values(run_: ProgramRun) -> dict[str, Any]:
    return one(run_, "kubernetes:helm.sh/v4:Chart").inputs["values"]


def chart_ingress(run_: ProgramRun, name: str) -> tuple[str, str]:
    """The URN of the chart's Ingress `name` and the address its controller gave it."""
    (urn,) = [urn for urn, child in run_.children.items() if child.type == INGRESS and child.name.endswith(f"/{name}")]
    return urn, address_in_status(run_.children[urn].state["status"])


def assert_kubernetes_objects_valid(run_: ProgramRun) -> None:
    problems = [str(p) for _, obj in kubernetes_objects(run_) for p in validate_object(obj)]
    assert problems == []


@pytest.fixture(scope="module")
def eks_run(tmp_path_factory) -> ProgramRun:
    dashboard = {
        "host": "argocd.dev.example.com",
        "ingress": "alb",
        "tls": {"mode": "acm"},
        "sourceRanges": ["203.0.113.0/24"],
        "dns": {"route53Zone": "dev.example.com"},
    }
    return run(tmp_path_factory.mktemp("eks"), "dev", EKS, dashboard)


def test_eks_acm_certificate_is_validated_through_the_route53_zone(eks_run):
    certificate = one(eks_run, "aws:acm/certificate:Certificate", inputs={"domainName": "argocd.dev.example.com"})
    assert certificate.inputs["validationMethod"] == "DNS"
    # The validation record is the one ACM asked for in the certificate's validation options.
    (option,) = certificate.outputs["domainValidationOptions"]
    record = one(eks_run, "aws:route53/record:Record", "dashboard-certificate-validation")
    assert (record.inputs["name"], record.inputs["type"], record.inputs["records"]) == (
        option["resourceRecordName"],
        option["resourceRecordType"],
        [option["resourceRecordValue"]],
    )
    assert record.inputs["zoneId"] == "Z0EXAMPLE0ZONE"
    validation = one(eks_run, "aws:acm/certificateValidation:CertificateValidation")
    assert validation.inputs["certificateArn"] == certificate.outputs["arn"]
    assert validation.inputs["validationRecordFqdns"] == [record.outputs["fqdn"]]
    assert record.urn in validation.dependencies
    assert ("aws:route53/getZone:getZone", {"name": "dev.example.com", "privateZone": False}) in eks_run.invokes


def test_eks_chart_names_the_validated_certificate_and_waits_for_it(eks_run):
    values = chart_values(eks_run)
    annotations = values["server"]["ingress"]["annotations"]
    certificate = one(eks_run, "aws:acm/certificate:Certificate")
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == certificate.outputs["arn"]
    assert annotations["alb.ingress.kubernetes.io/inbound-cidrs"] == "203.0.113.0/24"
    assert values["configs"]["params"]["server.insecure"] is True
    assert values["global"]["domain"] == "argocd.dev.example.com"
    chart = one(eks_run, "kubernetes:helm.sh/v4:Chart")
    validation = one(eks_run, "aws:acm/certificateValidation:CertificateValidation")
    assert validation.urn in chart.dependencies


def test_eks_alias_record_names_the_load_balancer_of_the_charts_ingress(eks_run):
    ingress, address = chart_ingress(eks_run, "argocd-server")
    assert address.endswith(".eu-west-1.elb.amazonaws.com")
    record = one(eks_run, "aws:route53/record:Record", "dashboard-address-record")
    assert record.inputs == {
        "name": "argocd.dev.example.com",
        "type": "A",
        "zoneId": "Z0EXAMPLE0ZONE",
        "aliases": [{"name": address, "zoneId": "Z32O12XQLNTSW2", "evaluateTargetHealth": True}],
        "allowOverwrite": False,
    }
    # Read from the chart's own Ingress, so the record waits for it; no Ingress is read on the side.
    assert ingress in record.dependencies
    assert find(eks_run, INGRESS) == []
    assert eks_run.outputs["loadBalancerAddress"] == (address, False)


def test_eks_dashboard_resources_use_an_aws_provider_in_the_clusters_region(eks_run):
    provider = one(eks_run, "pulumi:providers:aws", "cloud")
    assert provider.inputs["region"] == "eu-west-1"
    for type_ in ("aws:acm/certificate:Certificate", "aws:acm/certificateValidation:CertificateValidation"):
        assert one(eks_run, type_).provider.startswith(provider.urn)


def test_eks_outputs(eks_run):
    assert eks_run.outputs["dashboardUrl"] == ("https://argocd.dev.example.com", False)
    assert eks_run.outputs["cliLogin"] == ("argocd login argocd.dev.example.com", False)
    assert_kubernetes_objects_valid(eks_run)


def test_route53_zone_id_skips_the_zone_lookup(tmp_path):
    dashboard = {
        "host": "argocd.dev.example.com",
        "ingress": "alb",
        "tls": {"mode": "acm"},
        "dns": {"route53ZoneId": "Z0OTHER0ZONE"},
    }
    run_ = run(tmp_path, "dev", EKS, dashboard)
    assert not [token for token, _ in run_.invokes if token == "aws:route53/getZone:getZone"]
    assert one(run_, "aws:route53/record:Record", "dashboard-address-record").inputs["zoneId"] == "Z0OTHER0ZONE"


@pytest.fixture(scope="module")
def gke_run(tmp_path_factory) -> ProgramRun:
    dashboard = {
        "host": "argocd.example.com",
        "ingress": "gke",
        "tls": {"mode": "googleManaged"},
        "sourceRanges": ["203.0.113.0/24"],
        "dns": {"cloudDnsZone": "example-com"},
    }
    return run(tmp_path_factory.mktemp("gke"), "prd", GKE, dashboard)


def test_gke_static_ip_is_reserved_before_the_chart_and_named_on_the_ingress(gke_run):
    address = one(gke_run, "gcp:compute/globalAddress:GlobalAddress")
    assert address.inputs["name"] == "platform-prd-argocd"
    values = chart_values(gke_run)
    assert values["server"]["ingress"]["annotations"]["kubernetes.io/ingress.global-static-ip-name"] == "platform-prd-argocd"
    assert address.urn in one(gke_run, "kubernetes:helm.sh/v4:Chart").dependencies


def test_gke_source_ranges_become_a_cloud_armor_policy_on_the_backend(gke_run):
    policy = one(gke_run, "gcp:compute/securityPolicy:SecurityPolicy")
    allow = [rule for rule in policy.inputs["rules"] if rule["action"] == "allow"]
    assert allow[0]["match"]["config"]["srcIpRanges"] == ["203.0.113.0/24"]
    values = chart_values(gke_run)
    assert values["server"]["ingress"]["gke"]["backendConfig"]["securityPolicy"] == {"name": policy.inputs["name"]}


def test_gke_cloud_dns_record_and_the_load_balancer_address_are_the_static_ip(gke_run):
    address = one(gke_run, "gcp:compute/globalAddress:GlobalAddress")
    record = one(gke_run, "gcp:dns/recordSet:RecordSet")
    assert record.inputs["managedZone"] == "example-com"
    assert record.inputs["name"] == "argocd.example.com."
    assert record.inputs["type"] == "A"
    assert record.inputs["rrdatas"] == [address.outputs["address"]]
    assert address.urn in record.dependencies
    assert gke_run.outputs["loadBalancerAddress"] == (address.outputs["address"], False)
    # The address is reserved before the chart: nothing reads it back after.
    assert find(gke_run, "gitops:dashboard:DashboardAddress") == []
    provider = one(gke_run, "pulumi:providers:gcp", "cloud")
    assert provider.inputs["project"] == "acme-platform-prd"
    assert record.provider.startswith(provider.urn)


def test_gke_outputs_and_objects(gke_run):
    assert gke_run.outputs["cliLogin"] == ("argocd login argocd.example.com --grpc-web", False)
    assert gke_run.outputs["dashboardUrl"] == ("https://argocd.example.com", False)
    assert not [r for r in gke_run.registrations if r.type.startswith("aws:")]
    assert_kubernetes_objects_valid(gke_run)


def test_kubeconfig_nginx_needs_no_cloud_and_reads_the_ingress_after_the_chart(tmp_path):
    dashboard = {"host": "argocd.localtest.me", "ingress": "nginx"}
    run_ = run(tmp_path, "local", KUBECONFIG, dashboard)
    cloud = ("aws:", "gcp:", "pulumi:providers:aws", "pulumi:providers:gcp")
    assert not [r for r in run_.registrations if r.type.startswith(cloud)]
    assert chart_values(run_)["server"]["ingress"]["ingressClassName"] == "nginx"
    assert run_.outputs["dashboardUrl"] == ("http://argocd.localtest.me", False)
    assert run_.outputs["cliLogin"] == ("argocd login argocd.localtest.me:80 --plaintext --grpc-web", False)
    one(run_, "gitops:dashboard:DashboardAddress")
    assert run_.outputs["loadBalancerAddress"] == (chart_ingress(run_, "argocd-server")[1], False)
    assert_kubernetes_objects_valid(run_)


def test_the_load_balancer_address_is_the_ui_ingress_not_the_grpc_one(tmp_path):
    dashboard = {"host": "argocd.example.com", "ingress": "nginx", "tls": {"mode": "certManager", "issuer": "letsencrypt"}}
    run_ = run(tmp_path, "dev", KUBECONFIG, dashboard)
    _, ui = chart_ingress(run_, "argocd-server")
    _, grpc = chart_ingress(run_, "argocd-server-grpc")
    assert ui != grpc
    assert run_.outputs["loadBalancerAddress"] == (ui, False)


def test_unexposed_dashboard_adds_nothing(tmp_path):
    run_ = run(tmp_path, "dev", KUBECONFIG, {"host": "argocd.example.com"})
    assert "dashboardUrl" not in run_.outputs
    assert find(run_, "gitops:dashboard:DashboardAddress") == []
    assert "ingress" not in chart_values(run_).get("server", {})


def test_cloud_armor_rules_hold_ten_ranges_each_then_deny_everyone():
    ranges = [f"198.51.100.{i}/32" for i in range(12)]
    rules = cloud_armor_rules(ranges)
    assert [rule["action"] for rule in rules] == ["allow", "allow", "deny(403)"]
    assert rules[0]["match"]["config"]["src_ip_ranges"] == ranges[:10]
    assert rules[1]["match"]["config"]["src_ip_ranges"] == ranges[10:]
    assert rules[-1]["priority"] == 2147483647
    assert len({rule["priority"] for rule in rules}) == 3


def test_the_address_in_an_ingress_status_is_its_hostname_or_ip():
    assert address_in_status(None) is None
    assert address_in_status({"loadBalancer": {}}) is None
    assert address_in_status({"loadBalancer": {"ingress": [{"hostname": "k8s-argocd.elb.amazonaws.com"}]}}) == (
        "k8s-argocd.elb.amazonaws.com"
    )
    assert address_in_status({"load_balancer": {"ingress": [{"ip": "203.0.113.5"}]}}) == "203.0.113.5"
