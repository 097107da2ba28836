import json

import pulumi
import pytest
from pydantic import SecretStr

from ops.mocks import install
from settings import SettingsError, load_settings, load_stack_file, parse_settings, read_stack_file
from settings.load import RENDER_SECRET_PLACEHOLDER
from settings.secrets import looks_secret

BCRYPT = "$2a$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"


def error_for(raw: dict, stack: str = "dev") -> str:
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, stack, secret_keys={"argocd"})
    return str(caught.value)


OIDC = {"name": "x", "issuer": "https://id.example.com", "clientId": "c", "clientSecret": SecretStr("s")}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"argocd": {"ha": "yes"}}, 'gitops:argocd.ha: expected true or false, got "yes"'),
        ({"argocd": {"namespace": 7}}, "gitops:argocd.namespace: expected a string, got 7"),
        ({"argocd": {"rbac": {"scopes": "groups"}}}, 'gitops:argocd.rbac.scopes: expected a list, got "groups"'),
        ({"argocd": {"hA": True}}, 'gitops:argocd.hA: unknown key (did you mean "ha"?)'),
        (
            {"argocd": {"admin": {"password_hash": "x"}}},
            'gitops:argocd.admin.password_hash: unknown key (did you mean "passwordHash"?)',
        ),
        ({"clustr": {}}, 'gitops:clustr: unknown key (did you mean "cluster"?)'),
        ({"argocd": {"resources": {"servr": {}}}}, 'gitops:argocd.resources.servr: unknown key (did you mean "server"?)'),
        ({"cluster": {"kind": "eks", "region": "eu-west-1"}}, "gitops:cluster.name: required key is missing"),
        ({"cluster": {"kind": "ek"}}, 'gitops:cluster.kind: expected one of "eks", "gke" or "kubeconfig", got "ek"'),
        ({"cluster": {"kind": {"a": 1}}}, 'gitops:cluster.kind: expected one of "eks", "gke" or "kubeconfig", got a mapping'),
        (
            {"environment": {"tier": []}},
            'gitops:environment.tier: expected one of "local", "development", "staging" or "production", got a list',
        ),
        (
            {"cluster": {"kind": "eks", "name": "a", "region": "eu-west1"}},
            'gitops:cluster.region: expected an AWS region like eu-west-1, got "eu-west1"',
        ),
        (
            {"cluster": {"kind": "gke", "name": "a", "location": "europe-west1", "project": "Acme"}},
            'gitops:cluster.project: expected a Google Cloud project ID like acme-platform-prd, got "Acme"',
        ),
        (
            {"dashboard": {"host": "Argo CD.example.com"}},
            'gitops:dashboard.host: expected a DNS name like argocd.example.com, got "Argo CD.example.com"',
        ),
        (
            {"dashboard": {"ingress": "nginix"}},
            'gitops:dashboard.ingress: expected one of "nginx", "alb", "gke" or "none", got "nginix" (did you mean "nginx"?)',
        ),
        (
            {"argocd": {"chart": {"version": "latest"}}},
            'gitops:argocd.chart.version: expected a version like 10.1.1, got "latest"',
        ),
        (
            {"argocd": {"chart": {"repository": "ftp://x"}}},
            'gitops:argocd.chart.repository: expected an https:// or oci:// URL like https://argoproj.github.io/argo-helm, got "ftp://x"',
        ),
        (
            {"argocd": {"chart": {"repository": "https://a.b", "path": "./c"}}},
            "gitops:argocd.chart.path: set either repository or path, not both",
        ),
        (
            {"argocd": {"chart": {"username": "robot"}}},
            "gitops:argocd.chart.username: credentials need the `repository` they are for",
        ),
        (
            {"argocd": {"chart": {"repository": "oci://registry.example.com/charts", "username": "robot"}}},
            "gitops:argocd.chart.password: required key is missing: username and password go together",
        ),
        (
            {"argocd": {"admin": {"enabled": False}}},
            "gitops:argocd.admin.enabled: is false and no sso is set: nobody could log in",
        ),
        (
            {"argocd": {"admin": {"passwordMtime": "yesterday"}}},
            'gitops:argocd.admin.passwordMtime: expected an RFC 3339 time like 2025-01-01T00:00:00Z, got "yesterday"',
        ),
        (
            {"argocd": {"resources": {"server": {"limits": {"memory": "lots"}}}}},
            'gitops:argocd.resources.server.limits.memory: expected a Kubernetes quantity like 250m or 512Mi, got "lots"',
        ),
        ({"argocd": {"sso": {}}}, "gitops:argocd.sso: set dex (a list of connectors) or oidc"),
        (
            {"argocd": {"sso": {"oidc": OIDC}}},
            "gitops:dashboard.host: required key is missing: argocd.sso redirects to Argo CD's external URL",
        ),
        ({"projects": {"team": {"destinations": []}}}, "gitops:projects.team.destinations: expected at least 1 item, got none"),
        (
            {"repositories": {"Apps": {"url": "https://a.example.com/x.git"}}},
            "gitops:repositories.Apps: expected a Kubernetes name like team-api",
        ),
    ],
)
def test_each_class_of_bad_input_gets_one_clear_line(raw, expected):
    message = error_for(raw)
    assert message.startswith(f"stacks/Pulumi.dev.yaml: {expected}")
    assert len(message.splitlines()) == 1
    assert "Traceback" not in message and "pydantic" not in message and "Input should" not in message


def test_an_error_is_a_run_error_so_pulumi_prints_no_traceback():
    assert issubclass(SettingsError, pulumi.RunError)


def test_every_problem_is_reported_at_once():
    message = error_for({"argocd": {"ha": "yes", "namespace": "Bad_Name"}})
    assert len(message.splitlines()) == 2


def test_a_secret_value_is_never_echoed_in_an_error():
    assert error_for({"argocd": {"admin": {"passwordHash": 12345}}}) == (
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.passwordHash: "
        "expected a string, got a number (not shown: this setting is a secret)"
    )
    assert error_for({"argocd": {"admin": {"passwordHash": SecretStr("hunter2-secret")}}}) == (
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.passwordHash: "
        "expected a bcrypt hash like $2a$10$... (the hash, not the password), got a secret value (not shown)"
    )


def test_a_secret_written_in_plain_text_is_refused():
    with pytest.raises(SettingsError) as caught:
        parse_settings({"argocd": {"admin": {"passwordHash": BCRYPT}}}, "dev")
    assert str(caught.value) == (
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.passwordHash: holds a password, token or key in plain text: "
        "make it a secure value with `pulumi config set --secret --path 'gitops:argocd.admin.passwordHash' VALUE`"
    )


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
    read = read_stack_file(stack_file)
    assert read.secret_keys == {"gitops:argocd"}
    assert read.secure_paths == {("gitops:argocd", "admin", "passwordHash")}
    assert json.loads(read.config["gitops:argocd"])["admin"]["passwordHash"] == RENDER_SECRET_PLACEHOLDER
    monkeypatch.setenv("GITOPS_SECRET_ARGOCD_ADMIN_PASSWORDHASH", BCRYPT)
    settings = load_stack_file(stack_file)
    assert settings.argocd.admin.password_hash.get_secret_value() == BCRYPT


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("config: [", "not valid YAML at line 2, column 1: did not find expected node content (while parsing a flow node)"),
        ("config: 5", "config: expected a mapping of keys like gitops:argocd, got a single value"),
        ("- a\n- b", "expected a mapping with a `config:` mapping, got a list"),
        ("config:\n  gitops:argocd:\n    ha: true\n    ha: false\n", "gitops:argocd.ha: given twice (lines 3 and 4): keep one"),
        ("config:\n  gitops:argocd: {}\n  gitops:argocd: {}\n", "gitops:argocd: given twice (lines 2 and 3): keep one"),
        ("config:\n  gitops:dashboard: {host: caf\xe9.example.com}\n", "not UTF-8 text"),
    ],
)
def test_a_broken_stack_file_is_one_line_with_its_relative_path(tmp_path, content, expected):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_bytes(content.encode("latin-1"))
    with pytest.raises(SettingsError) as caught:
        load_stack_file(stack_file)
    assert str(caught.value) == f"stacks/Pulumi.dev.yaml: {expected}"


@pytest.mark.parametrize("content", ["", "config:\n", "config: {}\n", "# nothing yet\nconfig:\n"])
def test_an_empty_stack_file_or_config_is_accepted(tmp_path, content):
    stack_file = tmp_path / "Pulumi.local.yaml"
    stack_file.write_text(content)
    assert load_stack_file(stack_file).cluster.kind == "kubeconfig"


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


@pytest.fixture
def engine(tmp_path, monkeypatch):
    """The Pulumi runtime handing a program its config, run in a project directory."""
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    monkeypatch.chdir(tmp_path)

    def run(config: dict[str, dict], secret_keys: set[str]):
        install("gitops", "dev", {key: json.dumps(value) for key, value in config.items()}, secret_keys)
        return load_settings()

    yield run
    pulumi.runtime.reset_options()


REPOSITORIES = {
    "a": {"url": "https://git.example.com/a.git", "credentials": {"password": "token-a"}},
    "b": {"url": "https://git.example.com/b.git", "credentials": {"password": "token-b"}},
}


def test_under_the_engine_secure_leaves_are_read_from_the_stack_file(tmp_path, engine):
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  gitops:repositories:\n"
        "    a: {url: 'https://git.example.com/a.git', credentials: {password: {secure: v1:a}}}\n"
        "    b: {url: 'https://git.example.com/b.git', credentials: {password: token-b}}\n"
    )
    # The engine only says gitops:repositories holds a secret; the file says which leaf.
    with pytest.raises(SettingsError) as caught:
        engine({"gitops:repositories": REPOSITORIES}, {"gitops:repositories"})
    assert str(caught.value).startswith(
        "stacks/Pulumi.dev.yaml: gitops:repositories.b.credentials.password: holds a password, token or key in plain text"
    )


def test_under_the_engine_a_secret_from_elsewhere_than_the_stack_file_counts_as_secure(engine):
    settings = engine({"gitops:repositories": REPOSITORIES}, {"gitops:repositories"})
    assert settings.repositories["b"].credentials.password.get_secret_value() == "token-b"


def test_under_the_engine_keys_of_other_namespaces_are_checked_too(engine):
    with pytest.raises(SettingsError) as caught:
        engine({"gitopz:argocd": {"ha": True}, "aws:region": "eu-west-1", "kubernetes:namespace": "x"}, set())
    assert (
        str(caught.value)
        == 'stacks/Pulumi.dev.yaml: gitopz:argocd: gitops reads only gitops: keys (did you mean "gitops:argocd"?)'
    )


def dex(config: dict, **connector) -> dict:
    return {
        "dashboard": {"host": "argocd.example.com"},
        "argocd": {"sso": {"dex": [{"type": "ldap", "id": "ldap", "name": "LDAP", "config": config, **connector}]}},
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"repositories": {"a": {"url": "git@github.com:acme/a.git", "credentials": {"password": SecretStr("token")}}}},
            "gitops:repositories.a.credentials.password: a password or token needs an https:// URL, not an SSH one",
        ),
        (
            {
                "repositories": {
                    "a": {"url": "https://c.example.com", "type": "helm", "credentials": {"sshPrivateKey": SecretStr("k")}}
                }
            },
            "gitops:repositories.a.credentials.sshPrivateKey: a Helm repository takes username and password credentials only",
        ),
        (
            dex({"bindDN": "cn=argocd", "userSearch": {"baseDN": "dc=example", "password": "hunter22"}}),
            "gitops:argocd.sso.dex[0].config.userSearch.password: looks like a secret but is in plain text",
        ),
        (
            dex({"clientSecret": "$dex.ldap.clientSecret"}, clientSecret=SecretStr("s3cret-value")),
            "gitops:argocd.sso.dex[0].config.clientSecret: set clientSecret or config.clientSecret, not both",
        ),
    ],
)
def test_credentials_and_free_form_secrets_name_the_key(raw, expected):
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, "dev")
    assert str(caught.value).startswith(f"stacks/Pulumi.dev.yaml: {expected}")


def test_free_form_secrets_may_be_references_or_secure_values():
    settings = parse_settings(
        dex({"bindPW": "$ldap-bind:password", "host": "ldap.example.com", "token": SecretStr("t0ken-value")}), "dev"
    )
    assert settings.argocd.sso.dex[0].config["bindPW"] == "$ldap-bind:password"


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        *[(key, True) for key in ("clientSecret", "bindPW", "password", "api_token", "privateKey")],
        *[(key, False) for key in ("clientID", "tokenURL", "insecureSkipVerify", "userNameKey")],
    ],
)
def test_which_free_form_keys_look_secret(key, secret):
    assert looks_secret(key) is secret


def test_the_program_and_the_commands_find_stack_files_where_pulumi_yaml_says(tmp_path, engine):
    from ops.project import stack_file, stack_names

    (tmp_path / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: environments\n")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "Pulumi.dev.yaml").write_text("config:\n  gitops:argocd:\n    ha: 'yes'\n")
    assert stack_file(tmp_path, "dev") == tmp_path / "environments" / "Pulumi.dev.yaml"
    assert stack_names(tmp_path) == ["dev"]
    # Under the engine the program reads the same file: its secure leaves and its known stacks.
    (tmp_path / "environments" / "Pulumi.dev.yaml").write_text(
        "config:\n  gitops:promotion:\n    source: stg\n  gitops:repositories:\n"
        "    a: {url: 'https://git.example.com/a.git', credentials: {password: {secure: v1:a}}}\n"
    )
    with pytest.raises(SettingsError, match=r'gitops:promotion\.source: no stack "stg" has a stack file \(stacks: dev\)'):
        engine({"gitops:promotion": {"source": "stg"}, "gitops:repositories": REPOSITORIES}, {"gitops:repositories"})
    (tmp_path / "Pulumi.yaml").write_text("name: gitops\nruntime: python\n")
    (tmp_path / "Pulumi.prd.yaml").write_text("config: {}\n")
    assert stack_names(tmp_path) == ["prd"]  # without stackConfigDir, beside Pulumi.yaml
