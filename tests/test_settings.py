import json

import pulumi
import pytest
from pydantic import SecretStr

from settings import SettingsError, load_stack_file, parse_settings, read_stack_config
from settings.load import RENDER_SECRET_PLACEHOLDER

BCRYPT = "$2a$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"


def error_for(raw: dict, stack: str = "dev") -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, stack, secret_keys={"argocd"})
    return str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"argocd": {"ha": "yes"}}, 'stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"'),
        ({"argocd": {"namespace": 7}}, "gitops:argocd.namespace: expected a string, got 7"),
        ({"argocd": {"rbac": {"scopes": "groups"}}}, 'gitops:argocd.rbac.scopes: expected a list, got "groups"'),
        ({"argocd": {"hA": True}}, 'gitops:argocd.hA: unknown key (did you mean "ha"?)'),
        ({"clustr": {}}, 'gitops:clustr: unknown key (did you mean "cluster"?)'),
        ({"argocd": {"resources": {"servr": {}}}}, 'gitops:argocd.resources.servr: unknown key (did you mean "server"?)'),
        ({"cluster": {"kind": "eks", "region": "eu-west-1"}}, "gitops:cluster.name: required key is missing"),
        ({"cluster": {"kind": "ek"}}, "gitops:cluster: 'kind' must be one of 'eks', 'gke', 'kubeconfig', got \"ek\""),
        ({"cluster": {"kind": "eks", "name": "a", "region": "eu-west1"}}, 'gitops:cluster.region: "eu-west1" is not in'),
        ({"dashboard": {"host": "Argo CD.example.com"}}, "gitops:dashboard.host: 'Argo CD.example.com' is not a valid DNS name"),
        ({"argocd": {"chart": {"version": "latest"}}}, "gitops:argocd.chart.version: 'latest' is not a version like 10.1.1"),
        ({"argocd": {"chart": {"repository": "ftp://x"}}}, "gitops:argocd.chart.repository: 'ftp://x' is not an http(s)://"),
        (
            {"argocd": {"chart": {"repository": "https://a.b", "path": "./c"}}},
            "gitops:argocd.chart: set either repository or path",
        ),
        ({"argocd": {"admin": {"enabled": False}}}, "gitops:argocd: admin.enabled is false and no sso is set"),
        ({"argocd": {"admin": {"passwordHash": "hunter2"}}}, "gitops:argocd.admin: passwordHash must be a bcrypt hash"),
        (
            {
                "argocd": {
                    "sso": {"oidc": {"name": "x", "issuer": "https://id.example.com", "clientId": "c", "clientSecret": "s"}}
                }
            },
            "gitops: argocd.sso needs dashboard.host",
        ),
    ],
)
def test_each_class_of_bad_input_gets_one_clear_line(raw, expected):
    message = error_for(raw)
    assert expected in message
    assert message.startswith("stacks/Pulumi.dev.yaml: gitops:")
    assert "Traceback" not in message and "pydantic" not in message


def test_an_error_is_a_run_error_so_pulumi_prints_no_traceback():
    assert issubclass(SettingsError, pulumi.RunError)


def test_every_problem_is_reported_at_once():
    message = error_for({"argocd": {"ha": "yes", "namespace": "Bad_Name"}})
    assert len(message.splitlines()) == 2


def test_a_secret_value_is_never_echoed_in_an_error():
    message = error_for({"argocd": {"admin": {"passwordHash": 12345}}})
    assert "12345" not in message and "(secret)" in message


def test_a_secret_written_in_plain_text_is_refused():
    with pytest.raises(SettingsError, match=r"gitops:argocd: holds a password, token or key in plain text"):
        parse_settings({"argocd": {"admin": {"passwordHash": BCRYPT}}}, "dev", secret_keys=set())


def test_secrets_stay_secret_strings():
    settings = parse_settings({"argocd": {"admin": {"passwordHash": BCRYPT}}}, "dev", secret_keys={"argocd"})
    assert isinstance(settings.argocd.admin.password_hash, SecretStr)
    assert BCRYPT not in repr(settings) and BCRYPT not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("stack", "tier", "ha", "protected", "reconcile"),
    [
        ("local", "local", False, False, "auto"),
        ("dev", "development", False, False, "auto"),
        ("stg", "staging", False, False, "confirm"),
        ("prd", "production", True, True, "report"),
    ],
)
def test_defaults_follow_the_environment(stack, tier, ha, protected, reconcile):
    settings = parse_settings({}, stack)
    assert settings.environment.tier == tier
    assert (settings.argocd.ha, settings.argocd.deletion_protection, settings.drift.reconcile) == (ha, protected, reconcile)


def test_explicit_settings_beat_environment_defaults():
    settings = parse_settings({"environment": {"tier": "production"}, "argocd": {"ha": False}}, "edge")
    assert settings.argocd.ha is False and settings.argocd.deletion_protection is True


def test_the_cluster_defaults_to_the_kubeconfig_context():
    assert parse_settings({}, "local").cluster.kind == "kubeconfig"


def test_stack_file_secure_values_come_from_the_environment_or_a_placeholder(tmp_path, monkeypatch):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  gitops:argocd:\n"
        "    admin:\n"
        "      passwordHash:\n"
        "        secure: v1:abc\n"
        "  gitops:dashboard:\n"
        "    host: argocd.example.com\n"
    )
    config, secret_keys = read_stack_config(stack_file)
    assert secret_keys == {"gitops:argocd"}
    assert json.loads(config["gitops:argocd"])["admin"]["passwordHash"] == RENDER_SECRET_PLACEHOLDER
    monkeypatch.setenv("GITOPS_SECRET_ARGOCD_ADMIN_PASSWORDHASH", BCRYPT)
    settings = load_stack_file(stack_file)
    assert settings.argocd.admin.password_hash.get_secret_value() == BCRYPT


@pytest.mark.parametrize("content", ["config: [", "config: 5", "- a\n- b"])
def test_a_broken_stack_file_is_one_clear_error(tmp_path, content):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(content)
    with pytest.raises(SettingsError, match=r"Pulumi\.dev\.yaml: "):
        load_stack_file(stack_file)


def test_every_example_stack_is_valid():
    from ops.program import PROJECT_DIR

    files = sorted((PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))
    assert [f.name for f in files] == ["Pulumi.dev.yaml", "Pulumi.local.yaml", "Pulumi.prd.yaml", "Pulumi.stg.yaml"]
    kinds = {f.name: load_stack_file(f).cluster.kind for f in files}
    assert kinds == {
        "Pulumi.dev.yaml": "eks",
        "Pulumi.local.yaml": "kubeconfig",
        "Pulumi.prd.yaml": "gke",
        "Pulumi.stg.yaml": "eks",
    }
