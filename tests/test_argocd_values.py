import pytest
import yaml
from pydantic import SecretStr

from components.argocd_values import argocd_secret_data, chart_values
from settings import parse_settings
from tests.chart_keys import unknown_chart_keys

HOST = "argocd.example.com"
OIDC = {"name": "Okta", "issuer": "https://acme.okta.com", "clientId": "argocd", "clientSecret": "oidc-client-secret"}
DEX = [
    {
        "type": "github",
        "id": "github",
        "name": "GitHub",
        "config": {"clientID": "abc", "orgs": [{"name": "acme"}]},
        "clientSecret": "gh",
    }
]
RESOURCES = {
    name: {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
    for name in ["server", "repoServer", "controller", "redis", "dex", "applicationSet"]
}

PROFILES = {
    "defaults": {},
    "ha": {"ha": True},
    "oidc": {"sso": {"oidc": OIDC}, "admin": {"enabled": False}},
    "dex": {"sso": {"dex": DEX}},
    "rbac": {"rbac": {"defaultRole": "", "policy": "g, team, role:admin\n", "scopes": ["groups", "email"]}},
    "resources": {"resources": RESOURCES},
}


def values_for(argocd: dict, stack: str = "dev") -> dict:
    settings = parse_settings({"argocd": argocd, "dashboard": {"host": HOST}}, stack, secret_keys={"argocd"})
    return chart_values(settings.argocd, host=HOST)


@pytest.mark.parametrize("profile", PROFILES)
def test_every_key_set_exists_in_the_chart(profile):
    assert unknown_chart_keys(values_for(PROFILES[profile])) == []


def test_the_key_check_catches_a_key_the_chart_does_not_have():
    assert unknown_chart_keys({"server": {"replicaCount": 2}, "redisSecretInit": {"enabled": False}}) == ["server.replicaCount"]


def test_hooks_that_do_not_run_under_chart_v4_are_replaced():
    values = values_for({})
    assert values["redisSecretInit"] == {"enabled": False}
    assert values["configs"]["secret"] == {"createSecret": False}


def test_no_secret_reaches_chart_values():
    values = values_for(PROFILES["oidc"]) | values_for(PROFILES["dex"])
    text = yaml.safe_dump(values)
    assert "oidc-client-secret" not in text and "clientSecret: gh" not in text
    assert not any(isinstance(leaf, SecretStr) for leaf in _leaves(values))


def test_ha_profile_runs_two_of_everything_stateless_and_redis_ha():
    values = values_for({"ha": True})
    assert values["redis-ha"]["enabled"] is True
    assert values["server"]["autoscaling"]["minReplicas"] == 2
    assert values["repoServer"]["autoscaling"]["minReplicas"] == 2
    assert values["applicationSet"]["replicas"] == 2
    assert "redis-ha" not in values_for({})


def test_ha_disruption_budgets_each_let_one_pod_go_at_a_time():
    # Enabled without a limit, the chart's budget says minAvailable: 0 and protects nothing.
    values = values_for({"ha": True})
    for component in ("server", "repoServer", "applicationSet"):
        assert values[component]["pdb"] == {"enabled": True, "maxUnavailable": 1}, component
    assert (
        values["redis-ha"]["podDisruptionBudget"] == values["redis-ha"]["haproxy"]["podDisruptionBudget"] == {"maxUnavailable": 1}
    )
    assert "pdb" not in values["controller"]  # one replica: a budget would protect nothing or block drains


def test_production_gets_ha_by_default():
    assert "redis-ha" in values_for({}, stack="prd")


def test_oidc_references_its_client_secret_in_argocd_secret_and_turns_off_dex():
    values = values_for(PROFILES["oidc"])
    config = yaml.safe_load(values["configs"]["cm"]["oidc.config"])
    assert config["clientSecret"] == "$oidc.clientSecret" and config["issuer"] == "https://acme.okta.com"
    assert values["dex"] == {"enabled": False}
    assert values["configs"]["cm"]["admin.enabled"] is False


def test_dex_connectors_reference_their_secrets():
    config = yaml.safe_load(values_for(PROFILES["dex"])["configs"]["cm"]["dex.config"])
    assert config["connectors"][0]["config"] == {
        "clientID": "abc",
        "orgs": [{"name": "acme"}],
        "clientSecret": "$dex.github.clientSecret",
    }


def test_argocd_secret_holds_admin_login_and_sso_client_secrets():
    settings = parse_settings({"argocd": PROFILES["dex"], "dashboard": {"host": HOST}}, "dev", secret_keys={"argocd"})
    data = argocd_secret_data(settings.argocd, admin_password_hash="HASH")
    assert data["admin.password"] == "HASH"
    assert data["admin.passwordMtime"] == "2025-01-01T00:00:00Z"
    assert data["dex.github.clientSecret"].get_secret_value() == "gh"


def test_rbac_and_resources_are_passed_to_the_chart():
    values = values_for(PROFILES["rbac"] | PROFILES["resources"])
    assert values["configs"]["rbac"] == {"policy.default": "", "policy.csv": "g, team, role:admin\n", "scopes": "[groups, email]"}
    assert values["controller"]["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}


def test_the_dashboard_host_becomes_the_chart_domain():
    assert values_for({})["global"] == {"domain": HOST}


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    else:
        yield value
