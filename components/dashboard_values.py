"""Chart values that expose the dashboard, as pure functions of the dashboard settings.

The chart's own `server.ingress` (controllers `generic`, `aws`, `gke`) and `server.ingressGrpc`
make every Kubernetes object; this module only chooses their values. One rule holds on every
path: where TLS ends decides `server.insecure` and the backend protocol together. TLS ended at
the load balancer or ingress means argocd-server speaks plain HTTP (`server.insecure: true`, HTTP
backend; the chart's Ingress then targets the Service's HTTP port); TLS passed through means
argocd-server terminates it itself (`server.insecure: false`, HTTPS backend and port). Any other
pairing is the classic redirect loop (argocd-server redirecting the proxy's HTTP to HTTPS) or a 502/404.

Values may hold Pulumi outputs (the ACM certificate's ARN): the builder never looks inside them.
"""

import json
from dataclasses import dataclass
from typing import Any, Literal

from components.argocd_values import RELEASE_NAME
from settings.dashboard import DashboardSettings

SERVER_SERVICE = f"{RELEASE_NAME}-server"
"""The chart's argocd-server Service (and Ingress, BackendConfig, FrontendConfig) name for our release."""
SERVER_HTTP_PORT_NAME = "http"
SERVER_CONTAINER_PORT = 8080
"""argocd-server listens on 8080 for HTTP, HTTPS and gRPC; /healthz answers there."""
GRPC_HOST_PREFIX = "grpc."

_NGINX = "nginx.ingress.kubernetes.io/"
_ALB = "alb.ingress.kubernetes.io/"
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
"""The Kubernetes provider otherwise holds `pulumi up` until an Ingress has a load-balancer address."""


@dataclass(frozen=True)
class Exposure:
    """How the dashboard is reached, decided from the settings before any value is written."""

    tls_ends_at: Literal["load-balancer", "argocd-server", "nowhere"]
    server_insecure: bool
    backend_protocol: Literal["HTTP", "HTTPS"]
    redirect_to_https: bool
    grpc: Literal["grpc-host", "alb-grpc-service", "same-host", "grpc-web"]
    """How the CLI's gRPC gets through: a second host with a GRPC backend (nginx), the chart's
    gRPC Service chosen by content type (ALB), argocd-server's own TLS port (passthrough) or
    gRPC-web over HTTP/1.1 (GKE's load balancer, plain HTTP)."""
    url: str
    cli_host: str
    cli_flags: tuple[str, ...]
    address_source: Literal["ingress-status", "static-ip"]
    """Where the dashboard's load-balancer address (`loadBalancerAddress`) comes from: the status of
    the chart's Ingress, read after the chart (nginx, alb), or the static IP reserved before it (gke)."""
    awaits_address: bool
    """`pulumi up` waits for the Ingress's load-balancer address: only when a DNS record of this stack
    names it (alb with Route 53). Elsewhere nothing needs it, the GKE address is reserved beforehand,
    and a cluster without a load-balancer controller (kind, a local control plane) never gives one."""

    @property
    def cli_login(self) -> str:
        return " ".join(["argocd", "login", self.cli_host, *self.cli_flags])


def exposure(settings: DashboardSettings) -> Exposure | None:
    if not settings.exposed or not settings.host:
        return None
    host, mode = settings.host, settings.tls.mode
    if mode == "passthrough":
        tls_ends_at = "argocd-server"
    elif mode == "none":
        tls_ends_at = "nowhere"
    else:
        tls_ends_at = "load-balancer"
    server_insecure = tls_ends_at != "argocd-server"
    if tls_ends_at == "nowhere":
        # Plain HTTP/1.1 only: gRPC needs HTTP/2, gRPC-web does not.
        grpc, cli_host, cli_flags = "grpc-web", f"{host}:80", ("--plaintext", "--grpc-web")
    elif settings.ingress == "nginx" and tls_ends_at == "argocd-server":
        grpc, cli_host, cli_flags = "same-host", host, ()
    elif settings.ingress == "nginx":
        grpc, cli_host, cli_flags = "grpc-host", GRPC_HOST_PREFIX + host, ()
    elif settings.ingress == "alb":
        grpc, cli_host, cli_flags = "alb-grpc-service", host, ()
    else:
        # GKE's load balancer speaks HTTP/1.1 to an HTTP backend: no end-to-end gRPC.
        grpc, cli_host, cli_flags = "grpc-web", host, ("--grpc-web",)
    return Exposure(
        tls_ends_at=tls_ends_at,
        server_insecure=server_insecure,
        backend_protocol="HTTP" if server_insecure else "HTTPS",
        redirect_to_https=tls_ends_at != "nowhere" and not settings.allow_insecure_http,
        grpc=grpc,
        url=f"{'http' if tls_ends_at == 'nowhere' else 'https'}://{host}",
        cli_host=cli_host,
        cli_flags=cli_flags,
        address_source="static-ip" if settings.ingress == "gke" else "ingress-status",
        awaits_address=settings.ingress == "alb" and settings.dns.route53,
    )


def dashboard_values(
    settings: DashboardSettings,
    *,
    certificate_arn: Any = None,
    static_ip_name: Any = None,
    security_policy_name: Any = None,
) -> dict[str, Any]:
    """Chart values for the dashboard's ingress; empty when the dashboard is not exposed.

    certificate_arn: the validated ACM certificate (ingress alb, tls acm).
    static_ip_name: the reserved global address (ingress gke).
    security_policy_name: the Cloud Armor policy holding `sourceRanges` (ingress gke).
    """
    plan = exposure(settings)
    if plan is None:
        return {}
    if settings.ingress == "nginx":
        server = _nginx(settings, plan)
    elif settings.ingress == "alb":
        server = _alb(settings, plan, certificate_arn)
    else:
        server = _gke(settings, plan, static_ip_name, security_policy_name)
    server["ingress"] = {"enabled": True, "hostname": settings.host, **server["ingress"]}
    if not plan.awaits_address:
        for ingress in (server["ingress"], server.get("ingressGrpc")):
            if ingress:
                ingress["annotations"] = {**ingress.get("annotations", {}), **SKIP_AWAIT}
    return {
        # The chart would make Argo CD's external URL https:// whatever the TLS mode; SSO redirects
        # and notification links are built from it.
        "configs": {"params": {"server.insecure": plan.server_insecure}, "cm": {"url": plan.url}},
        "server": server,
    }


def _nginx(settings: DashboardSettings, plan: Exposure) -> dict[str, Any]:
    annotations: dict[str, str] = {}
    if plan.tls_ends_at == "argocd-server":
        # ingress-nginx hands the TCP stream to argocd-server, which serves UI and gRPC on 443.
        annotations[_NGINX + "ssl-passthrough"] = "true"
    annotations[_NGINX + "backend-protocol"] = plan.backend_protocol
    if plan.redirect_to_https:
        annotations[_NGINX + "force-ssl-redirect"] = "true"
    elif plan.tls_ends_at == "load-balancer":
        annotations[_NGINX + "ssl-redirect"] = "false"  # plain HTTP explicitly allowed
    if settings.source_ranges:
        annotations[_NGINX + "whitelist-source-range"] = ",".join(settings.source_ranges)
    annotations.update(_cert_manager_annotations(settings))
    ingress: dict[str, Any] = {
        "controller": "generic",
        "ingressClassName": settings.ingress_class_name,
        "annotations": annotations,
    }
    ingress.update(_tls_values(settings, settings.host))
    server: dict[str, Any] = {"ingress": ingress}
    if plan.grpc == "grpc-host":
        grpc_host = GRPC_HOST_PREFIX + settings.host
        grpc_annotations = {**annotations, _NGINX + "backend-protocol": "GRPC"}
        grpc_annotations.pop(_NGINX + "ssl-redirect", None)
        grpc: dict[str, Any] = {
            "enabled": True,
            "ingressClassName": settings.ingress_class_name,
            "hostname": grpc_host,
            "annotations": grpc_annotations,
        }
        grpc.update(_tls_values(settings, grpc_host))
        server["ingressGrpc"] = grpc
    return server


def _alb(settings: DashboardSettings, plan: Exposure, certificate_arn: Any) -> dict[str, Any]:
    listeners = [{"HTTP": 80}, {"HTTPS": 443}] if plan.tls_ends_at == "load-balancer" else [{"HTTP": 80}]
    annotations: dict[str, Any] = {
        _ALB + "scheme": "internet-facing",
        # Pods as targets: the chart's gRPC Service can then stay ClusterIP.
        _ALB + "target-type": "ip",
        _ALB + "backend-protocol": plan.backend_protocol,
        _ALB + "listen-ports": json.dumps(listeners, separators=(",", ":")),
    }
    if plan.tls_ends_at == "load-balancer":
        annotations[_ALB + "certificate-arn"] = certificate_arn
    if plan.redirect_to_https:
        annotations[_ALB + "ssl-redirect"] = "443"
    if settings.source_ranges:
        annotations[_ALB + "inbound-cidrs"] = ",".join(settings.source_ranges)
    return {
        "ingress": {
            "controller": "aws",
            "ingressClassName": "alb",
            "annotations": annotations,
            "aws": {
                "serviceType": "ClusterIP",
                # ALB forwards gRPC only from an HTTPS listener; without TLS the CLI uses gRPC-web.
                "backendProtocolVersion": "GRPC" if plan.tls_ends_at == "load-balancer" else "HTTP1",
            },
        }
    }


def _gke(settings: DashboardSettings, plan: Exposure, static_ip_name: Any, security_policy_name: Any) -> dict[str, Any]:
    annotations: dict[str, Any] = {
        "kubernetes.io/ingress.class": "gce",
        "kubernetes.io/ingress.global-static-ip-name": static_ip_name,
    }
    annotations.update(_cert_manager_annotations(settings))
    backend_config: dict[str, Any] = {
        # The load balancer's default check asks `/` on the serving port; argocd-server's
        # readiness endpoint is /healthz on its container port.
        "healthCheck": {
            "type": "HTTP",
            "requestPath": "/healthz",
            "port": SERVER_CONTAINER_PORT,
            "checkIntervalSec": 30,
            "timeoutSec": 5,
            "healthyThreshold": 1,
            "unhealthyThreshold": 2,
        }
    }
    if security_policy_name is not None:
        backend_config["securityPolicy"] = {"name": security_policy_name}
    ingress: dict[str, Any] = {
        "controller": "gke",
        "annotations": annotations,
        "gke": {
            "backendConfig": backend_config,
            # An empty frontendConfig makes the chart skip the FrontendConfig and its annotation.
            "frontendConfig": {"redirectToHttps": {"enabled": True}} if plan.redirect_to_https else {},
            "managedCertificate": {"create": settings.tls.mode == "googleManaged", "extraDomains": []},
        },
    }
    ingress.update(_tls_values(settings, settings.host))
    return {
        "ingress": ingress,
        "service": {
            "annotations": {
                # Container-native load balancing (NEGs), and the BackendConfig the chart names like the Service.
                "cloud.google.com/neg": json.dumps({"ingress": True}),
                "cloud.google.com/backend-config": json.dumps({"ports": {SERVER_HTTP_PORT_NAME: SERVER_SERVICE}}),
            }
        },
    }


def _cert_manager_annotations(settings: DashboardSettings) -> dict[str, str]:
    tls = settings.tls
    if tls.mode != "certManager":
        return {}
    key = "cert-manager.io/cluster-issuer" if tls.issuer_kind == "ClusterIssuer" else "cert-manager.io/issuer"
    return {key: tls.issuer}


def _tls_values(settings: DashboardSettings, host: str) -> dict[str, Any]:
    """`tls: true` makes the chart name the secret itself (argocd-server-tls / argocd-server-grpc-tls),
    which cert-manager then fills; an existing secret goes in through `extraTls`."""
    tls = settings.tls
    if tls.mode == "certManager":
        return {"tls": True}
    if tls.mode == "secret":
        return {"tls": False, "extraTls": [{"hosts": [host], "secretName": tls.secret_name}]}
    return {"tls": False}
