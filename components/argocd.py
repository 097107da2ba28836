"""Argo CD installed from the official argo-cd chart, with the secrets its Helm hooks would have made."""

import asyncio
import secrets
import string
from dataclasses import dataclass
from typing import Any

import bcrypt
import pulumi
import pulumi_kubernetes as k8s
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
from components.ownership import owned, take_ownership
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

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=owned({"name": settings.namespace, "labels": {"app.kubernetes.io/part-of": "argocd"}}),
            opts=child,
        )
        self.namespace = namespace.metadata.name

        redis_password = kept_in_state(f"{name}-redis-password", {"password": new_password(32)}, child)
        redis_secret = k8s.core.v1.Secret(
            f"{name}-redis-secret",
            metadata=owned({"name": REDIS_SECRET_NAME, "namespace": self.namespace}),
            type="Opaque",
            string_data={"auth": redis_password["password"]},
            opts=child,
        )

        if settings.admin.password_hash:
            self.admin_password = None
            admin_password_hash: Any = settings.admin.password_hash
        else:
            password = new_password(24)
            # bcrypt salts every hash anew: the hash is kept with the password, not recomputed.
            generated = kept_in_state(
                f"{name}-admin-password", {"password": password, "bcryptHash": bcrypt_hash(password)}, child
            )
            self.admin_password = generated["password"]
            admin_password_hash = generated["bcryptHash"]

        argocd_secret = k8s.core.v1.Secret(
            f"{name}-argocd-secret",
            metadata=owned({"name": ARGOCD_SECRET_NAME, "namespace": self.namespace, "labels": ARGOCD_SECRET_LABELS}),
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
                parent=self,
                depends_on=[namespace, redis_secret, argocd_secret],
                transforms=[take_ownership],
            ),
        )
        self.register_outputs(
            {"namespace": self.namespace, "chart_version": self.chart_version, "admin_password": self.admin_password}
        )


def bcrypt_hash(password: str) -> pulumi.Output[str]:
    """Argo CD's hash of `password` (bcrypt, cost 10), worked out on another thread: bcrypt lets go
    of the interpreter while it hashes, for the 50 ms the rest of the program runs meanwhile."""
    hashing = asyncio.get_running_loop().run_in_executor(None, bcrypt.hashpw, password.encode(), bcrypt.gensalt(rounds=10))
    return pulumi.Output.from_input(hashing).apply(bytes.decode)


def new_password(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def kept_in_state(name: str, value: dict[str, str], opts: pulumi.ResourceOptions) -> pulumi.Output[Any]:
    """`value` (a secret) as first made: Pulumi's built-in Stash keeps what it was first given, and
    ignoring its later inputs keeps the stack stable on every run after, though `value` is new each time.
    Deleting the stash (or the stack) makes a new one."""
    stash = pulumi.Stash(
        name,
        input=pulumi.Output.secret(value),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=["input"])),
    )
    return pulumi.Output.secret(stash.output)


def chart_source(chart: ChartSettings) -> dict[str, Any]:
    """helm.v4.Chart's arguments for a chart from a local path, an OCI registry or a Helm repository."""
    if chart.path:
        return {"chart": chart.path}
    credentials = {}
    if chart.username and chart.password:
        credentials = {"username": chart.username, "password": pulumi.Output.secret(chart.password.get_secret_value())}
    if chart.source.startswith("oci://"):
        oci = {"chart": f"{chart.source.rstrip('/')}/{chart.name}", "version": chart.version}
        return {**oci, "repository_opts": k8s.helm.v4.RepositoryOptsArgs(**credentials)} if credentials else oci
    return {
        "chart": chart.name,
        "version": chart.version,
        "repository_opts": k8s.helm.v4.RepositoryOptsArgs(repo=chart.source, **credentials),
    }


def secret_leaves(value: Any) -> Any:
    """The value with each `SecretStr` turned into a Pulumi secret, so state keeps it encrypted."""
    if isinstance(value, SecretStr):
        return pulumi.Output.secret(value.get_secret_value())
    if isinstance(value, dict):
        return {key: secret_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [secret_leaves(item) for item in value]
    return value
