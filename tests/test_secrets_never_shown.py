"""A canary in every secret-bearing setting never shows up: not in any command's output or errors,
not in a rendered file, not in a log record, for good settings and for bad ones alike."""

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops.cli import app
from ops.program import run_program
from tests.gitrepos import commit_checkout

CANARY = "Canary7Secret9Value"
"""Letters and digits only, so it also fits inside a bcrypt hash and survives base64 unchanged."""
SECURE = "{secure: v1:abc}"
SECRETS = {
    "ARGOCD_ADMIN_PASSWORDHASH": "$2a$10$" + (CANARY * 3)[:53],
    "ARGOCD_SSO_DEX_0_CLIENTSECRET": f"{CANARY}-dex-github",
    "ARGOCD_SSO_DEX_1_CONFIG_BINDPW": f"{CANARY}-dex-ldap",
    "ARGOCD_SSO_OIDC_CLIENTSECRET": f"{CANARY}-oidc",
    "REPOSITORIES_HTTPS_CREDENTIALS_PASSWORD": f"{CANARY}-token",
    "REPOSITORIES_SSH_CREDENTIALS_SSHPRIVATEKEY": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{CANARY}\n-----END-----\n",
    "REPOSITORIES_GITHUB_CREDENTIALS_GITHUBAPPPRIVATEKEY": f"-----BEGIN RSA PRIVATE KEY-----\n{CANARY}\n-----END-----\n",
    "REPOSITORIES_CHARTS_CREDENTIALS_PASSWORD": f"{CANARY}-charts",
    "ARGOCD_CHART_PASSWORD": f"{CANARY}-chart-mirror",
}
"""GITOPS_SECRET_<KEY PATH> → the value the render reveals for each `secure:` entry of the good stacks."""
SECRETS_OF_BAD_SETTINGS = {
    "CLUSTER_ROLEARN": CANARY,
    "DASHBOARD_HOST": CANARY,
    "DASHBOARD": f'{{"host": "{CANARY}.example.com"}}',
    "APPLICATIONS_WEB_HELM_VALUES_PASSWORD": CANARY,
}

REPOSITORIES = f"""\
  gitops:repositories:
    https:
      url: https://git.example.com/team/a.git
      credentials: {{username: robot, password: {SECURE}}}
    ssh:
      url: ssh://git@git.example.com/team/b.git
      credentials: {{sshPrivateKey: {SECURE}}}
    github:
      url: https://github.com/acme
      credentialTemplate: true
      credentials: {{githubAppId: 1, githubAppInstallationId: 2, githubAppPrivateKey: {SECURE}}}
    charts:
      url: https://charts.example.com
      type: helm
      credentials: {{username: robot, password: {SECURE}}}
"""
GOOD_STACKS = {
    "dev": f"""\
config:
  gitops:dashboard:
    host: argocd.example.com
  gitops:argocd:
    chart: {{repository: https://charts.internal.example.com, username: robot, password: {SECURE}}}
    admin:
      passwordHash: {SECURE}
    sso:
      dex:
        - type: github
          id: github
          name: GitHub
          config: {{clientID: argocd, orgs: [{{name: acme}}]}}
          clientSecret: {SECURE}
        - type: ldap
          id: ldap
          name: LDAP
          config: {{host: "ldap.example.com:636", bindDN: "cn=argocd,dc=example,dc=com", bindPW: {SECURE}}}
{REPOSITORIES}""",
    "stg": f"""\
config:
  gitops:dashboard:
    host: argocd.example.com
  gitops:argocd:
    sso:
      oidc: {{name: Okta, issuer: "https://acme.okta.com", clientId: argocd, clientSecret: {SECURE}}}
""",
}
BAD_CONFIGS = {
    "password in plain text": f"  gitops:repositories:\n    a:\n      url: https://git.example.com/a.git\n"
    f"      credentials: {{username: robot, password: {CANARY}}}\n",
    "Dex client secret in plain text": "  gitops:dashboard: {host: argocd.example.com}\n"
    "  gitops:argocd:\n    sso:\n      dex:\n"
    f"        - {{type: github, id: github, name: GitHub, config: {{clientSecret: {CANARY}}}}}\n",
    "chart repository credentials in its URL": f"  gitops:argocd:\n    chart: {{repository: 'https://robot:{CANARY}@charts.example.com'}}\n",
    "chart repository password in plain text": "  gitops:argocd:\n"
    f"    chart: {{repository: https://charts.example.com, username: robot, password: {CANARY}}}\n",
    "Helm repository credentials in its URL": "  gitops:repositories:\n"
    f"    c: {{url: 'https://robot:{CANARY}@charts.example.com', type: helm}}\n",
    "secure admin hash that is not a bcrypt hash": f"  gitops:argocd:\n    admin: {{passwordHash: {SECURE}}}\n",
    "secure value in a setting that is not secret": f"  gitops:dashboard:\n    host: {SECURE}\n",
    "secure value failing a format check": "  gitops:cluster:\n    kind: eks\n    name: platform-dev\n    region: eu-west-1\n"
    f"    roleArn: {SECURE}\n",
    "a whole block as one secure value": f"  gitops:dashboard: {SECURE}\n",
    "secure value in free-form Helm values": "  gitops:repositories:\n    a: {url: https://git.example.com/a.git}\n"
    "  gitops:applications:\n    web:\n      repository: a\n      path: web\n      destination: {namespace: web}\n"
    f"      helm: {{values: {{password: {SECURE}}}}}\n",
    "SSH key for an https URL": "  gitops:repositories:\n    ssh: {url: 'https://git.example.com/b.git', "
    f"credentials: {{sshPrivateKey: {SECURE}}}}}\n",
    "secret given twice": f"  gitops:repositories:\n    a:\n      url: https://git.example.com/a.git\n"
    f"      credentials:\n        password: {CANARY}\n        password: {CANARY}\n",
}


REVEALED_INSTEAD = {"secure admin hash that is not a bcrypt hash": {"ARGOCD_ADMIN_PASSWORDHASH": CANARY}}
"""What a bad case reveals instead of the good stacks' value."""


@pytest.fixture
def project(tmp_path, monkeypatch, caplog) -> Path:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    for stack, text in GOOD_STACKS.items():
        (root / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
    monkeypatch.chdir(root)
    for key, value in {**SECRETS, **SECRETS_OF_BAD_SETTINGS}.items():
        monkeypatch.setenv(f"GITOPS_SECRET_{key}", value)
    for variable in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    caplog.set_level(logging.DEBUG)
    return root


def test_the_canary_reaches_every_secret_of_the_good_stacks(project):
    """Otherwise the test below would prove nothing."""
    dev, stg = (
        run_program("dev", stack_file=project / "stacks/Pulumi.dev.yaml"),
        run_program("stg", stack_file=project / "stacks/Pulumi.stg.yaml"),
    )
    secret_inputs = str([r.inputs for r in dev.registrations + stg.registrations if r.secret_paths])
    for key, value in SECRETS.items():
        assert value.replace("\n", "\\n") in secret_inputs, key
    by_name = {r.name: r for r in dev.registrations}
    argocd_secret = by_name["argocd-argocd-secret"]
    assert argocd_secret.inputs["stringData"]["dex.ldap.bindPW"] == SECRETS["ARGOCD_SSO_DEX_1_CONFIG_BINDPW"]
    assert "stringData" in argocd_secret.secret_paths
    dex_config = by_name["argocd-chart"].inputs["values"]["configs"]["cm"]["dex.config"]
    assert "bindPW: $dex.ldap.bindPW" in dex_config and CANARY not in dex_config


def test_good_stacks_render_without_showing_a_secret(project, caplog, capfd):
    outputs = []
    for command in (["render", "--out", "rendered"], ["matrix", "dev", "stg"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert_no_canary(project, "\n".join(outputs), caplog, capfd)


@pytest.mark.parametrize(("case", "config"), BAD_CONFIGS.items(), ids=BAD_CONFIGS.keys())
def test_no_command_shows_a_secret_of_bad_settings(project, monkeypatch, caplog, capfd, case, config):
    for key, value in REVEALED_INSTEAD.get(case, {}).items():
        monkeypatch.setenv(f"GITOPS_SECRET_{key}", value)
    (project / "stacks" / "Pulumi.dev.yaml").write_text("config:\n" + config)
    commit_checkout(project, "stacks")
    outputs = []
    for command in (
        ["render", "--out", "rendered"],
        ["drift", "--stack", "dev"],
        ["reconcile", "--stack", "dev", "--json"],
        ["promote", "stg", "dev", "--json"],
        ["matrix", "dev"],
    ):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 1, (command, result.output)
        assert "stacks/Pulumi.dev.yaml: gitops:" in result.output, (command, result.output)  # stopped by the settings
        outputs.append(result.output)
    assert_no_canary(project, "\n".join(outputs), caplog, capfd)


def assert_no_canary(project: Path, output: str, caplog, capfd) -> None:
    captured = capfd.readouterr()
    assert CANARY not in output + captured.out + captured.err
    assert CANARY not in caplog.text
    written = [p for p in project.rglob("*") if p.is_file() and not p.is_relative_to(project / "stacks")]
    for path in written:
        if ".git" not in path.relative_to(project).parts:
            assert CANARY.encode() not in path.read_bytes(), path
