"""The dashboard's way in: what must exist before the chart (certificate, static IP, allowlist)
and what can only follow it (the DNS record for the load balancer the Ingress got).

The chart makes every Kubernetes object from `DashboardEndpoint.chart_values`; these components
register only cloud resources. pulumi_aws and pulumi_gcp are imported where they are needed:
each costs seconds to import, and most stacks need at most one of them.
"""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.dashboard_values import SERVER_SERVICE, dashboard_values, exposure
from components.types import ComponentType
from settings.cluster import ClusterSettings, GkeCluster
from settings.dashboard import DashboardSettings

CLOUD_ARMOR_RANGES_PER_RULE = 10
"""Cloud Armor accepts at most ten source ranges in one rule."""


@dataclass(frozen=True)
class DashboardEndpointArgs:
    settings: DashboardSettings
    cluster: ClusterSettings
    """The cluster's kind and name choose the cloud resources and name the static IP."""


class DashboardEndpoint(pulumi.ComponentResource):
    """Certificates, addresses and allowlists the chart's Ingress refers to by name or ARN."""

    chart_values: dict[str, Any]
    """Values for the argo-cd chart (`ArgoCDArgs.extra_values`); may hold outputs."""
    url: str | None
    cli_login: str | None
    certificate_arn: pulumi.Output[str] | None
    static_ip_address: pulumi.Output[str] | None
    address_source: str | None
    """Where the load balancer address comes from (`Exposure.address_source`); None when not exposed."""

    def __init__(self, name: str, args: DashboardEndpointArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ComponentType.DASHBOARD_ENDPOINT, name, None, opts)
        settings = args.settings
        plan = exposure(settings)
        self.url = plan.url if plan else None
        self.cli_login = plan.cli_login if plan else None
        self.address_source = plan.address_source if plan else None
        self.certificate_arn = None
        self.static_ip_address = None
        static_ip_name = security_policy_name = None
        if settings.ingress == "alb" and settings.tls.mode == "acm":
            self.certificate_arn = self._acm_certificate(name, settings)
        if settings.ingress == "gke" and isinstance(args.cluster, GkeCluster):
            static_ip_name, security_policy_name = self._gke_front(name, settings, args.cluster)
        self.chart_values = dashboard_values(
            settings,
            certificate_arn=self.certificate_arn,
            static_ip_name=static_ip_name,
            security_policy_name=security_policy_name,
        )
        self.register_outputs({"url": self.url, "cli_login": self.cli_login, "certificate_arn": self.certificate_arn})

    def _acm_certificate(self, name: str, settings: DashboardSettings) -> pulumi.Output[str]:
        import pulumi_aws as aws

        child = pulumi.ResourceOptions(parent=self)
        zone_id = route53_zone_id(self, settings)
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=settings.host,
            validation_method="DNS",
            # A replacement must exist before the ALB lets go of the old certificate.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        option = certificate.domain_validation_options.apply(lambda options: (options or [None])[0])
        record = aws.route53.Record(
            f"{name}-certificate-validation",
            zone_id=zone_id,
            name=option.apply(lambda o: o.resource_record_name if o else None),
            type=option.apply(lambda o: o.resource_record_type if o else None),
            records=[option.apply(lambda o: o.resource_record_value if o else None)],
            ttl=60,
            # The same CNAME validates every certificate for this name; a second stack may own it already.
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate-validation",
            # An ACM certificate's id is its ARN.
            certificate_arn=certificate.id,
            validation_record_fqdns=[record.fqdn],
            opts=child,
        )
        # Through the validation, so the Ingress only names a certificate that is issued.
        return validation.certificate_arn

    def _gke_front(self, name: str, settings: DashboardSettings, cluster: GkeCluster) -> tuple[pulumi.Output[str], Any]:
        import pulumi_gcp as gcp

        child = pulumi.ResourceOptions(parent=self)
        address = gcp.compute.GlobalAddress(
            f"{name}-static-ip",
            name=settings.dns.static_ip_name or f"{cluster.name}-argocd",
            description=f"Argo CD dashboard {settings.host}",
            opts=child,
        )
        self.static_ip_address = address.address
        policy_name = None
        if settings.source_ranges:
            policy = gcp.compute.SecurityPolicy(
                f"{name}-allowlist",
                name=f"{cluster.name}-argocd-allowlist",
                description=f"Who may reach the Argo CD dashboard {settings.host}",
                rules=cloud_armor_rules(settings.source_ranges),
                opts=child,
            )
            policy_name = policy.name
        if settings.dns.cloud_dns_zone:
            gcp.dns.RecordSet(
                f"{name}-record",
                managed_zone=settings.dns.cloud_dns_zone,
                name=f"{settings.host}.",
                type="A",
                ttl=300,
                rrdatas=[address.address],
                opts=child,
            )
        return address.name, policy_name


def cloud_armor_rules(source_ranges: list[str]) -> list[dict[str, Any]]:
    """Allow the ranges (ten per rule), deny everyone else with the mandatory default rule."""
    chunks = [
        source_ranges[i : i + CLOUD_ARMOR_RANGES_PER_RULE] for i in range(0, len(source_ranges), CLOUD_ARMOR_RANGES_PER_RULE)
    ]
    rules = [
        {
            "action": "allow",
            "priority": 1000 + index,
            "description": "dashboard.sourceRanges",
            "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": chunk}},
        }
        for index, chunk in enumerate(chunks)
    ]
    rules.append(
        {
            "action": "deny(403)",
            "priority": 2147483647,
            "description": "everyone else",
            "match": {"versioned_expr": "SRC_IPS_V1", "config": {"src_ip_ranges": ["*"]}},
        }
    )
    return rules


def route53_zone_id(parent: pulumi.Resource, settings: DashboardSettings) -> pulumi.Input[str]:
    import pulumi_aws as aws

    if settings.dns.route53_zone_id:
        return settings.dns.route53_zone_id
    zone = aws.route53.get_zone_output(
        name=settings.dns.route53_zone, private_zone=False, opts=pulumi.InvokeOutputOptions(parent=parent)
    )
    return zone.zone_id


@dataclass(frozen=True)
class DashboardAddressArgs:
    settings: DashboardSettings
    chart: k8s.helm.v4.Chart
    """The argo-cd chart: its `resources` hold the Ingress, with its status once the chart is ready."""


class DashboardAddress(pulumi.ComponentResource):
    """The load balancer address the chart's Ingress got, and the Route 53 record naming it."""

    load_balancer_address: pulumi.Output[str | None]

    def __init__(self, name: str, args: DashboardAddressArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ComponentType.DASHBOARD_ADDRESS, name, None, opts)
        settings = args.settings
        # Read from the chart's own Ingress: no read step of its own in every preview and refresh.
        self.load_balancer_address = args.chart.resources.apply(server_ingress_address)
        if settings.ingress == "alb" and settings.dns.route53:
            self._route53_record(name, settings)
        self.register_outputs({"load_balancer_address": self.load_balancer_address})

    def _route53_record(self, name: str, settings: DashboardSettings) -> None:
        import pulumi_aws as aws

        alb_zone = aws.elb.get_hosted_zone_id_output(opts=pulumi.InvokeOutputOptions(parent=self))
        aws.route53.Record(
            f"{name}-record",
            zone_id=route53_zone_id(self, settings),
            name=settings.host,
            type="A",
            aliases=[{"name": self.load_balancer_address, "zone_id": alb_zone.id, "evaluate_target_health": True}],
            allow_overwrite=False,
            opts=pulumi.ResourceOptions(parent=self),
        )


def load_balancer_address(
    name: str, endpoint: DashboardEndpoint, args: DashboardAddressArgs, opts: pulumi.ResourceOptions | None = None
) -> pulumi.Output[str | None] | None:
    """The dashboard's load balancer address (the `loadBalancerAddress` output), from where its
    exposure says it comes: the static IP reserved before the chart, or the chart's Ingress, read by
    a DashboardAddress after the chart. None when the dashboard is not exposed."""
    if endpoint.address_source == "static-ip":
        return endpoint.static_ip_address
    if endpoint.address_source == "ingress-status":
        return DashboardAddress(name, args, opts).load_balancer_address
    return None


def server_ingress_address(resources: list[Any] | None) -> pulumi.Output[str | None]:
    """The address in the status of the chart's argocd-server Ingress (the UI's: on nginx the gRPC
    host has an Ingress of its own), None until it has one."""
    ingresses = [resource for resource in resources or [] if isinstance(resource, k8s.networking.v1.Ingress)]

    def pick(found: list[tuple[Any, Any]]) -> str | None:
        return next((address_in_status(status) for metadata, status in found if _field(metadata, "name") == SERVER_SERVICE), None)

    return pulumi.Output.all(*[pulumi.Output.all(ingress.metadata, ingress.status) for ingress in ingresses]).apply(pick)


def address_in_status(status: Any) -> str | None:
    """The first hostname (ALB, ELB) or IP (most others) in an Ingress status, if any yet."""
    load_balancer = _field(status, "loadBalancer", "load_balancer")
    for entry in _field(load_balancer, "ingress") or []:
        found = _field(entry, "hostname") or _field(entry, "ip")
        if found:
            return found
    return None


def _field(value: Any, camel: str, snake: str | None = None) -> Any:
    """A field of an output object (a dict subclass read through its snake_case getters) or of its
    plain-dict form."""
    if value is None:
        return None
    if type(value) is dict:
        return value.get(camel, value.get(snake or camel))
    return getattr(value, snake or camel, None)
