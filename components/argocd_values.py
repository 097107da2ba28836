"""Values for the argo-cd chart, as a pure function of the stack's settings.

Every key set here exists in the chart's values.yaml (checked by tests/test_argocd_values.py);
secrets stay `SecretStr` (or the caller's opaque secret value) so the component can mark them
as Pulumi secrets.
"""

from typing import Any

import yaml
from pydantic import SecretStr

from settings.argocd import ArgoCDSettings, SsoSettings

RELEASE_NAME = "argocd"
REDIS_SECRET_NAME = "argocd-redis"
"""The chart reads redis' password from this secret (key `auth`), made by a hook we cannot run."""


def chart_values(settings: ArgoCDSettings, *, host: str | None, admin_password_hash: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        # Helm hooks do not run under helm.v4.Chart, so the secret-init job would never create
        # argocd-redis: the component creates it instead.
        "redisSecretInit": {"enabled": False},
        "configs": {
            "cm": {"admin.enabled": settings.admin.enabled},
            "rbac": {
                "policy.default": settings.rbac.default_role,
                "policy.csv": settings.rbac.policy,
                "scopes": "[" + ", ".join(settings.rbac.scopes) + "]",
            },
            "secret": {
                "argocdServerAdminPassword": admin_password_hash,
                # The chart stamps the current time when this is empty: a diff on every run.
                "argocdServerAdminPasswordMtime": settings.admin.password_mtime,
            },
        },
    }
    if host:
        values["global"] = {"domain": host}
    if settings.sso:
        merge_values(values, _sso_values(settings.sso))
    if settings.ha:
        merge_values(values, _ha_values())
    for component, requirements in settings.resources.items():
        merge_values(values, {component: {"resources": requirements.model_dump(exclude_defaults=True)}})
    return values


def _sso_values(sso: SsoSettings) -> dict[str, Any]:
    extra: dict[str, SecretStr] = {}
    if sso.oidc:
        oidc = sso.oidc
        config = {
            "name": oidc.name,
            "issuer": oidc.issuer,
            "clientID": oidc.client_id,
            "clientSecret": "$oidc.clientSecret",
            "requestedScopes": oidc.requested_scopes,
        }
        if oidc.cli_client_id:
            config["cliClientID"] = oidc.cli_client_id
        extra["oidc.clientSecret"] = oidc.client_secret
        return {
            "configs": {"cm": {"oidc.config": _yaml(config)}, "secret": {"extra": extra}},
            "dex": {"enabled": False},  # Argo CD talks to the provider itself
        }
    connectors = []
    for connector in sso.dex:
        config = dict(connector.config)
        if connector.client_secret:
            key = f"dex.{connector.id}.clientSecret"
            config["clientSecret"] = f"${key}"  # a reference Argo CD resolves from argocd-secret
            extra[key] = connector.client_secret
        connectors.append({"type": connector.type, "id": connector.id, "name": connector.name, "config": config})
    values: dict[str, Any] = {"configs": {"cm": {"dex.config": _yaml({"connectors": connectors})}}}
    if extra:
        values["configs"]["secret"] = {"extra": extra}
    return values


def _ha_values() -> dict[str, Any]:
    """The chart's documented HA profile: redis-ha (needs three nodes) and two of everything stateless."""
    return {
        "redis-ha": {"enabled": True},
        "controller": {"replicas": 1, "pdb": {"enabled": True}},
        "server": {"autoscaling": {"enabled": True, "minReplicas": 2}, "pdb": {"enabled": True}},
        "repoServer": {"autoscaling": {"enabled": True, "minReplicas": 2}, "pdb": {"enabled": True}},
        "applicationSet": {"replicas": 2, "pdb": {"enabled": True}},
    }


def _yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def merge_values(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_values(into[key], value)
        else:
            into[key] = value
