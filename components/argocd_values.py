"""Values for the argo-cd chart and the contents of argocd-secret, as pure functions of the settings.

Every key set here exists in the chart's values.yaml (checked by tests/test_argocd_values.py).
No secret goes into chart values: Pulumi would mark the whole `values` input secret and every
diff of it would be opaque. Secrets go to argocd-secret, which the component owns.
"""

import re
from typing import Any

import yaml
from pydantic import SecretStr

from settings.argocd import ArgoCDSettings, DexConnector, SsoSettings

RELEASE_NAME = "argocd"
REDIS_SECRET_NAME = "argocd-redis"
"""The chart reads redis' password from this secret (key `auth`), made by a hook we cannot run."""
ARGOCD_SECRET_NAME = "argocd-secret"
ARGOCD_SECRET_LABELS = {"app.kubernetes.io/name": ARGOCD_SECRET_NAME, "app.kubernetes.io/part-of": "argocd"}
"""Argo CD only reads secrets labelled part-of=argocd."""


def chart_values(settings: ArgoCDSettings, *, host: str | None) -> dict[str, Any]:
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
            "secret": {"createSecret": False},
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


def argocd_secret_data(settings: ArgoCDSettings, *, admin_password_hash: Any) -> dict[str, Any]:
    """argocd-secret's keys: the admin login and the client secrets SSO settings refer to."""
    data: dict[str, Any] = {
        "admin.password": admin_password_hash,
        # Pinned: the chart would stamp the current time, a diff on every run.
        "admin.passwordMtime": settings.admin.password_mtime,
    }
    if settings.sso and settings.sso.oidc:
        data["oidc.clientSecret"] = settings.sso.oidc.client_secret
    for connector in settings.sso.dex if settings.sso else []:
        if connector.client_secret:
            data[_dex_secret_key(connector.id)] = connector.client_secret
        data.update(_dex_config_with_references(connector)[1])
    return data


def _dex_secret_key(connector_id: str, path: tuple[str, ...] = ("clientSecret",)) -> str:
    return re.sub(r"[^-._A-Za-z0-9]", "_", ".".join(("dex", connector_id, *path)))


def _dex_config_with_references(connector: DexConnector) -> tuple[dict[str, Any], dict[str, SecretStr]]:
    """The connector's config with each secure value in it replaced by a `$key` reference to
    argocd-secret (Argo CD resolves those when it hands the config to Dex), and those values by key."""
    secrets: dict[str, SecretStr] = {}

    def referenced(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, SecretStr):
            key = _dex_secret_key(connector.id, path)
            secrets[key] = value
            return "$" + key
        if isinstance(value, dict):
            return {name: referenced(item, (*path, str(name))) for name, item in value.items()}
        if isinstance(value, list):
            return [referenced(item, (*path, str(index))) for index, item in enumerate(value)]
        return value

    return referenced(connector.config, ()), secrets


def _sso_values(sso: SsoSettings) -> dict[str, Any]:
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
        return {
            "configs": {"cm": {"oidc.config": _yaml(config)}},
            "dex": {"enabled": False},  # Argo CD talks to the provider itself
        }
    connectors = []
    for connector in sso.dex:
        config = _dex_config_with_references(connector)[0]
        if connector.client_secret:
            # A reference Argo CD resolves from argocd-secret when it hands the config to Dex.
            config["clientSecret"] = "$" + _dex_secret_key(connector.id)
        connectors.append({"type": connector.type, "id": connector.id, "name": connector.name, "config": config})
    return {"configs": {"cm": {"dex.config": _yaml({"connectors": connectors})}}}


def _ha_values() -> dict[str, Any]:
    """The chart's documented HA profile: redis-ha (needs three nodes) and two of everything stateless.

    A PodDisruptionBudget the chart makes without a limit says `minAvailable: 0`, which protects
    nothing: each one here lets a drain take one pod at a time. The single application controller
    gets none (with one replica a budget either protects nothing or blocks every drain)."""
    one_at_a_time = {"enabled": True, "maxUnavailable": 1}
    return {
        "redis-ha": {
            "enabled": True,
            "podDisruptionBudget": {"maxUnavailable": 1},
            "haproxy": {"podDisruptionBudget": {"maxUnavailable": 1}},
        },
        "controller": {"replicas": 1},
        "server": {"autoscaling": {"enabled": True, "minReplicas": 2}, "pdb": one_at_a_time},
        "repoServer": {"autoscaling": {"enabled": True, "minReplicas": 2}, "pdb": one_at_a_time},
        "applicationSet": {"replicas": 2, "pdb": one_at_a_time},
    }


def _yaml(document: Any) -> str:
    return yaml.safe_dump(document, sort_keys=False, default_flow_style=False)


def merge_values(into: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_values(into[key], value)
        else:
            into[key] = value
