"""Argo CD installed from the official argo-cd chart, with the secrets its Helm hooks would have made."""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pydantic import SecretStr

from components.argocd_values import (
    ARGOCD_SECRET_LABELS,
    ARGOCD_SECRET_NAME,
    REDIS_SECRET_NAME,
    RELEASE_NAME,
    argocd_secret_data,
    chart_values,
    merge_values,
)
from components.types import ComponentType
from settings.argocd import APP_VERSIONS, ArgoCDSettings, ChartSettings


@dataclass(frozen=True)
class ArgoCDArgs:
    settings: ArgoCDSettings
    host: str | None = None
    """The dashboard's host name (Argo CD's external URL), when it is exposed."""
    extra_values: dict[str, Any] | None = None
    """More chart values from other components (the dashboard's ingress), merged last."""


class ArgoCD(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    chart: k8s.helm.v4.Chart
    chart_version: str
    app_version: str | None
    """Argo CD's version in the chart, when the chart version is one this project knows."""
    admin_password: pulumi.Output[str] | None
    """The generated admin password (a secret); None when the stack supplies a hash."""

    def __init__(self, name: str, args: ArgoCDArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ComponentType.ARGOCD, name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        protected = pulumi.ResourceOptions(parent=self, protect=settings.deletion_protection)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": settings.namespace, "labels": {"app.kubernetes.io/part-of": "argocd"}},
            opts=protected,
        )
        self.namespace = namespace.metadata.name

        redis_password = random.RandomPassword(f"{name}-redis-password", length=32, special=False, opts=child)
        redis_secret = k8s.core.v1.Secret(
            f"{name}-redis-secret",
            metadata={"name": REDIS_SECRET_NAME, "namespace": self.namespace},
            type="Opaque",
            string_data={"auth": redis_password.result},
            opts=child,
        )

        if settings.admin.password_hash:
            self.admin_password = None
            admin_password_hash: Any = settings.admin.password_hash
        else:
            # random's bcrypt_hash is computed once and kept in state, so it does not change per run.
            # The provider marks both outputs secret; saying so here keeps them secret in previews too.
            generated = random.RandomPassword(f"{name}-admin-password", length=24, special=False, opts=child)
            self.admin_password = pulumi.Output.secret(generated.result)
            admin_password_hash = pulumi.Output.secret(generated.bcrypt_hash)

        argocd_secret = k8s.core.v1.Secret(
            f"{name}-argocd-secret",
            metadata={"name": ARGOCD_SECRET_NAME, "namespace": self.namespace, "labels": ARGOCD_SECRET_LABELS},
            type="Opaque",
            string_data=secret_leaves(argocd_secret_data(settings, admin_password_hash=admin_password_hash)),
            opts=child,
        )

        values = chart_values(settings, host=args.host)
        if args.extra_values:
            merge_values(values, args.extra_values)
        self.chart_version = settings.chart.version
        self.app_version = APP_VERSIONS.get(settings.chart.version)
        self.chart = k8s.helm.v4.Chart(
            f"{name}-chart",
            name=RELEASE_NAME,
            namespace=self.namespace,
            **chart_source(settings.chart),
            values=values,
            opts=pulumi.ResourceOptions(
                parent=self, protect=settings.deletion_protection, depends_on=[namespace, redis_secret, argocd_secret]
            ),
        )
        self.register_outputs(
            {"namespace": self.namespace, "chart_version": self.chart_version, "admin_password": self.admin_password}
        )


def chart_source(chart: ChartSettings) -> dict[str, Any]:
    """helm.v4.Chart's arguments for a chart from a local path, an OCI registry or a Helm repository."""
    if chart.path:
        return {"chart": chart.path}
    if chart.source.startswith("oci://"):
        return {"chart": f"{chart.source.rstrip('/')}/{chart.name}", "version": chart.version}
    return {"chart": chart.name, "version": chart.version, "repository_opts": k8s.helm.v4.RepositoryOptsArgs(repo=chart.source)}


def secret_leaves(value: Any) -> Any:
    """The value with each `SecretStr` turned into a Pulumi secret, so state keeps it encrypted."""
    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    if isinstance(value, dict):
        return {key: secret_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [secret_leaves(item) for item in value]
    return value
