"""How the Argo CD dashboard is reached: which ingress, where TLS ends, which DNS names it.

The checks that need the cluster kind or the tier live in StackSettings (settings/stack.py),
so their messages name the stack file and key like every other settings error.
"""

import ipaddress
from typing import Annotated, Literal

from pydantic import model_validator

from settings.base import DnsName, KubernetesName, Settings, formatted
from settings.errors import KeyProblems

DEFAULT_INGRESS_CLASS = "nginx"
IngressFamily = Literal["nginx", "alb", "gke", "none"]
TlsMode = Literal["secret", "certManager", "acm", "googleManaged", "passthrough", "none"]
GcpResourceName = Annotated[
    str, formatted("a Google Cloud resource name like platform-prd-argocd", pattern=r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
]
Route53ZoneId = Annotated[str, formatted("a Route 53 hosted zone ID like Z0EXAMPLE0ZONE", pattern=r"Z[A-Z0-9]{1,31}")]

TLS_MODES_BY_INGRESS: dict[str, tuple[str, ...]] = {
    "nginx": ("secret", "certManager", "passthrough", "none"),
    "alb": ("acm", "none"),
    "gke": ("googleManaged", "secret", "certManager", "none"),
    "none": ("none",),
}
"""Where each TLS mode can work: ACM certificates only attach to ALBs, Google-managed ones only to
GKE's load balancer, and only ingress-nginx can pass TLS through to argocd-server."""


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


Cidr = Annotated[str, formatted("a CIDR range like 203.0.113.0/24", check=_is_cidr)]


class TlsSettings(Settings):
    mode: TlsMode = "none"
    """secret (existing kubernetes.io/tls secret), certManager, acm (ALB), googleManaged (GKE),
    passthrough (argocd-server terminates TLS itself; ingress-nginx only) or none."""
    secret_name: KubernetesName | None = None
    """mode secret: the TLS secret in Argo CD's namespace; it must also cover grpc.<host> on nginx."""
    issuer: KubernetesName | None = None
    """mode certManager: the cert-manager issuer that signs the certificate."""
    issuer_kind: Literal["ClusterIssuer", "Issuer"] = "ClusterIssuer"
    """mode certManager: whether `issuer` is a ClusterIssuer or an Issuer in Argo CD's namespace."""

    @model_validator(mode="after")
    def _mode_fields(self):
        problems = []
        if self.mode == "secret" and not self.secret_name:
            problems.append(("secretName", "mode secret needs secretName, the TLS secret to serve"))
        if self.mode == "certManager" and not self.issuer:
            problems.append(("issuer", "mode certManager needs issuer, the cert-manager issuer to sign with"))
        if self.secret_name and self.mode != "secret":
            problems.append(("secretName", f"is only used with mode secret, not {self.mode}"))
        if self.issuer and self.mode != "certManager":
            problems.append(("issuer", f"is only used with mode certManager, not {self.mode}"))
        if problems:
            raise KeyProblems(*problems)
        return self

    @property
    def enabled(self) -> bool:
        return self.mode != "none"


class DnsSettings(Settings):
    route53_zone: DnsName | None = None
    """EKS: the public Route 53 hosted zone (its name) that gets the host's record and ACM's validation records."""
    route53_zone_id: Route53ZoneId | None = None
    """EKS: the hosted zone's id, when several zones share the name."""
    static_ip_name: GcpResourceName | None = None
    """GKE: name of the reserved global IP address; defaults to `<cluster name>-argocd`."""
    cloud_dns_zone: GcpResourceName | None = None
    """GKE: the Cloud DNS managed zone (its name) that gets the host's A record."""

    @model_validator(mode="after")
    def _one_zone_reference(self):
        if self.route53_zone and self.route53_zone_id:
            raise KeyProblems(("route53ZoneId", "set either route53Zone or route53ZoneId, not both"))
        return self

    @property
    def route53(self) -> bool:
        return bool(self.route53_zone or self.route53_zone_id)


class DashboardSettings(Settings):
    host: DnsName | None = None
    """The dashboard's host name; also Argo CD's external URL (needed by SSO)."""
    ingress: IngressFamily = "none"
    """nginx (any ingress class serving the generic Ingress), alb (AWS Load Balancer Controller), gke or none."""
    ingress_class_name: KubernetesName = DEFAULT_INGRESS_CLASS
    """ingress nginx: the IngressClass to use."""
    tls: TlsSettings = TlsSettings()
    allow_insecure_http: bool = False
    """Serve plain HTTP too (no redirect to HTTPS); needed for tls.mode none outside the local stack."""
    source_ranges: list[Cidr] = []
    """Client CIDRs allowed to reach the dashboard; empty allows everyone."""
    dns: DnsSettings = DnsSettings()

    @model_validator(mode="after")
    def _exposed_needs_host(self):
        problems = []
        if self.ingress != "none" and not self.host:
            problems.append(("host", f"ingress {self.ingress} needs host, the name the dashboard is served at"))
        if "ingress_class_name" in self.model_fields_set and self.ingress != "nginx":
            problems.append(("ingressClassName", f"is only used with ingress nginx, not {self.ingress}"))
        if problems:
            raise KeyProblems(*problems)
        return self

    @property
    def exposed(self) -> bool:
        return self.ingress != "none"


def dashboard_problems(dashboard: DashboardSettings, cluster_kind: str, tier: str) -> list[tuple[str, str]]:
    """What is wrong with the dashboard's settings given the cluster and the tier: (key to change,
    message) pairs, the key relative to the stack's settings."""
    problems = []
    ingress, mode, dns = dashboard.ingress, dashboard.tls.mode, dashboard.dns
    if ingress == "alb" and cluster_kind != "eks":
        problems.append(("dashboard.ingress", f"alb needs an EKS cluster, not cluster.kind {cluster_kind}"))
    if ingress == "gke" and cluster_kind != "gke":
        problems.append(("dashboard.ingress", f"gke needs a GKE cluster, not cluster.kind {cluster_kind}"))
    if mode not in TLS_MODES_BY_INGRESS[ingress]:
        allowed = ", ".join(TLS_MODES_BY_INGRESS[ingress])
        problems.append(("dashboard.tls.mode", f"{mode} does not work with dashboard.ingress {ingress} (use one of {allowed})"))
    if mode == "acm" and not dns.route53:
        problems.append(
            ("dashboard.dns.route53Zone", "tls.mode acm needs a Route 53 zone to validate the certificate through DNS")
        )
    if dns.route53 and ingress != "alb":
        key = "dashboard.dns.route53Zone" if dns.route53_zone else "dashboard.dns.route53ZoneId"
        problems.append((key, f"Route 53 records are made for dashboard.ingress alb only, not {ingress}"))
    if (dns.static_ip_name or dns.cloud_dns_zone) and ingress != "gke":
        key = "staticIpName" if dns.static_ip_name else "cloudDnsZone"
        problems.append((f"dashboard.dns.{key}", f"a static IP and Cloud DNS are for dashboard.ingress gke only, not {ingress}"))
    if dashboard.exposed and mode == "none" and tier != "local" and not dashboard.allow_insecure_http:
        problems.append(
            (
                "dashboard.tls.mode",
                "none serves the dashboard and its logins over plain HTTP; "
                "outside the local stack set dashboard.allowInsecureHttp: true to accept that",
            )
        )
    if dashboard.source_ranges and not dashboard.exposed:
        problems.append(("dashboard.sourceRanges", "has no effect without dashboard.ingress"))
    return problems
