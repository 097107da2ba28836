"""Every bad input is one line from `python -m ops render` naming the stack file and the key: the
exact line, exit code 1, no traceback, nothing written; one line each, coloured only on a terminal."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ops.cli import app
from ops.program import PROJECT_DIR
from tests.gitrepos import standard_app_repository

runner = CliRunner()
CANARY = "canary-3f9a7c"
GUESTBOOK = """\
  gitops:repositories:
    apps:
      url: {apps}
  gitops:applications:
    guestbook:
      repository: apps
      path: {path}
      destination:
        namespace: guestbook
"""
EKS = "  gitops:cluster:\n    kind: eks\n    name: platform-dev\n    region: eu-west-1\n"

# (stack file's config, the one line printed after "error: ")
CASES = {
    "a boolean that is not one": (
        '  gitops:argocd:\n    ha: "yes"\n',
        'stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"',
    ),
    "an absolute application path": (
        GUESTBOOK.replace("{path}", "/apps/guestbook"),
        "stacks/Pulumi.dev.yaml: gitops:applications.guestbook.path: "
        "path '/apps/guestbook' must be relative to the repository root",
    ),
    "an application path outside the repository": (
        GUESTBOOK.replace("{path}", "../outside"),
        "stacks/Pulumi.dev.yaml: gitops:applications.guestbook.path: path '../outside' points outside the repository",
    ),
    "credentials in the chart repository URL": (
        f"  gitops:argocd:\n    chart:\n      repository: https://robot:{CANARY}@charts.example.com\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.chart.repository: "
        "must not hold credentials (user:password@): a URL is stored and shown in plain text",
    ),
    "a secure value that fails its format check": (
        "  gitops:argocd:\n    admin:\n      passwordHash:\n        secure: v1:abc\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.passwordHash: "
        "expected a bcrypt hash like $2a$10$... (the hash, not the password), got a secret value (not shown)",
    ),
    "a plain-text password beside a secure one": (
        "  gitops:repositories:\n"
        "    a:\n      url: https://git.example.com/a.git\n"
        "      credentials: {username: robot, password: {secure: v1:abc}}\n"
        "    b:\n      url: https://git.example.com/b.git\n"
        f"      credentials: {{username: robot, password: {CANARY}}}\n",
        "stacks/Pulumi.dev.yaml: gitops:repositories.b.credentials.password: holds a password, token or key in plain text: "
        "make it a secure value with `pulumi config set --secret --path 'gitops:repositories.b.credentials.password' VALUE`",
    ),
    "a Dex client secret in plain text in its config": (
        "  gitops:dashboard:\n    host: argocd.example.com\n"
        "  gitops:argocd:\n    sso:\n      dex:\n        - type: github\n          id: github\n          name: GitHub\n"
        f"          config: {{clientID: argocd, clientSecret: {CANARY}}}\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.sso.dex[0].config.clientSecret: looks like a secret but is in plain text: "
        "make it a secure value with `pulumi config set --secret --path 'gitops:argocd.sso.dex[0].config.clientSecret' VALUE`, "
        "or a $key reference to argocd-secret",
    ),
    "a key given twice": (
        "  gitops:argocd:\n    ha: true\n    ha: false\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.ha: given twice (lines 3 and 4): keep one",
    ),
    "a misspelt namespace": (
        "  gitopz:dashboard:\n    host: argocd.example.com\n",
        'stacks/Pulumi.dev.yaml: gitopz:dashboard: gitops reads only gitops: keys (did you mean "gitops:dashboard"?)',
    ),
    "a key of this project in another namespace": (
        "  argocd:argocd:\n    ha: true\n",
        'stacks/Pulumi.dev.yaml: argocd:argocd: gitops reads only gitops: keys (did you mean "gitops:argocd"?)',
    ),
    "a key of this project without its namespace": (
        "  argocd:\n    ha: true\n",
        'stacks/Pulumi.dev.yaml: argocd: a Pulumi config key needs its namespace (did you mean "gitops:argocd"?)',
    ),
    "a destination server that is not a URL": (
        GUESTBOOK.replace("{path}", "apps/guestbook") + "        server: in-cluster\n",
        "stacks/Pulumi.dev.yaml: gitops:applications.guestbook.destination.server: "
        'expected a cluster API URL like https://kubernetes.default.svc, got "in-cluster"',
    ),
    "a project destination server that is not a URL": (
        "  gitops:projects:\n    team:\n      destinations:\n        - {server: kubernetes, namespace: '*'}\n",
        "stacks/Pulumi.dev.yaml: gitops:projects.team.destinations[0].server: expected a cluster API URL or glob "
        'like https://kubernetes.default.svc, https://*.example.com or !https://prod.example.com, got "kubernetes"',
    ),
    "an ingress class with the ALB family": (
        EKS + "  gitops:dashboard:\n    host: argocd.example.com\n    ingress: alb\n    ingressClassName: nginx\n"
        "    tls: {mode: acm}\n    dns: {route53Zone: example.com}\n",
        "stacks/Pulumi.dev.yaml: gitops:dashboard.ingressClassName: is only used with ingress nginx, not alb",
    ),
    "a repository scoped to a project that does not exist": (
        "  gitops:projects:\n    team:\n      destinations: [{server: https://kubernetes.default.svc, namespace: '*'}]\n"
        "  gitops:repositories:\n    apps:\n      url: https://git.example.com/apps.git\n      project: taem\n",
        'stacks/Pulumi.dev.yaml: gitops:repositories.apps.project: unknown project "taem" (did you mean "team"?)',
    ),
    "a promotion source without a stack file": (
        "  gitops:promotion:\n    source: dve\n",
        'stacks/Pulumi.dev.yaml: gitops:promotion.source: no stack "dve" has a stack file (did you mean "dev"?)',
    ),
    "a local chart path that does not exist": (
        "  gitops:argocd:\n    chart:\n      path: charts/argo-cd\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.chart.path: charts/argo-cd does not exist "
        "(relative paths start at the project directory)",
    ),
    "an SSH key for an https URL": (
        "  gitops:repositories:\n    apps:\n      url: https://git.example.com/apps.git\n"
        "      credentials:\n        sshPrivateKey: {secure: v1:abc}\n",
        "stacks/Pulumi.dev.yaml: gitops:repositories.apps.credentials.sshPrivateKey: "
        "an SSH key needs an ssh:// or git@host:path URL, not an https:// one",
    ),
    "a format with an example instead of a regular expression": (
        "  gitops:cluster:\n    kind: eks\n    name: platform-dev\n    region: eu-west1\n",
        'stacks/Pulumi.dev.yaml: gitops:cluster.region: expected an AWS region like eu-west-1, got "eu-west1"',
    ),
    "a bound in our words, not pydantic's": (
        GUESTBOOK.replace("{path}", "apps/guestbook") + "      revisionHistoryLimit: -1\n",
        "stacks/Pulumi.dev.yaml: gitops:applications.guestbook.revisionHistoryLimit: expected a number of at least 0, got -1",
    ),
    "a check across keys names the key to change": (
        "  gitops:argocd:\n    admin: {enabled: false}\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.enabled: is false and no sso is set: nobody could log in",
    ),
    "a secure value in a setting that is not a secret": (
        EKS + "    roleArn: {secure: v1:abc}\n",
        "stacks/Pulumi.dev.yaml: gitops:cluster.roleArn: "
        "is a secure value, but only passwords, tokens and keys are kept secret here: write this setting in plain text",
    ),
    "a key set without --path": (
        "  gitops:argocd.admin.passwordHash: {secure: v1:abc}\n",
        "stacks/Pulumi.dev.yaml: gitops:argocd.admin.passwordHash: is a key of its own, not one inside gitops:argocd: "
        "remove it (`pulumi config rm 'gitops:argocd.admin.passwordHash'`) "
        "and set it with --path (`pulumi config set --path 'gitops:argocd.admin.passwordHash' VALUE`)",
    ),
    "a YAML syntax error": (
        "  gitops:argocd: {ha: [}\n",
        "stacks/Pulumi.dev.yaml: not valid YAML at line 2, column 24: did not find expected node content "
        "(while parsing a flow node)",
    ),
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("apps"))


@pytest.fixture
def project(tmp_path, monkeypatch, apps) -> Path:
    """A project checkout with its stack files; the render runs the real program on them."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    monkeypatch.chdir(root)
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GITOPS_SECRET_ARGOCD_ADMIN_PASSWORDHASH", CANARY)
    return root


def write_stack(project: Path, config: str, stack: str = "dev") -> None:
    (project / "stacks" / f"Pulumi.{stack}.yaml").write_text("config:\n" + config)


@pytest.mark.parametrize(("config", "line"), CASES.values(), ids=CASES.keys())
def test_a_bad_input_is_one_line_naming_the_file_and_key_and_nothing_is_written(project, apps, config, line):
    write_stack(project, config.replace("{apps}", apps.url))
    result = runner.invoke(app, ["render", "--out", "rendered"])
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", f"error: {line}\n")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert CANARY not in result.output and "Traceback" not in result.output
    assert not (project / "rendered").exists()


def test_every_problem_of_every_stack_is_its_own_line_and_no_stack_is_rendered(project):
    write_stack(project, '  gitops:argocd:\n    ha: "yes"\n    namespace: Argo\n')
    write_stack(project, "  gitops:cluster:\n    kind: eks\n", stack="stg")
    write_stack(project, "", stack="local")
    result = runner.invoke(app, ["render", "--out", "rendered"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: stacks/Pulumi.dev.yaml: gitops:argocd.namespace: "
        "expected a Kubernetes name like team-api (lowercase letters, digits and '-', at most 63), got \"Argo\"",
        'error: stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"',
        "error: stacks/Pulumi.stg.yaml: gitops:cluster.name: required key is missing",
        "error: stacks/Pulumi.stg.yaml: gitops:cluster.region: required key is missing",
    ]
    assert result.stdout == "" and not (project / "rendered").exists()


def test_an_empty_config_renders(project):
    write_stack(project, "", stack="local")
    result = runner.invoke(app, ["render", "--out", "rendered"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and result.stdout.rstrip().endswith("written to rendered/")
    assert (project / "rendered" / "local" / "namespace-argocd.yaml").is_file()


def test_an_unknown_stack_is_one_line(project):
    write_stack(project, "", stack="local")
    result = runner.invoke(app, ["render", "--stack", "prod", "--out", "rendered"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "error: unknown stack 'prod': no stacks/Pulumi.prod.yaml (known stacks: local)\n"


def test_on_a_narrow_terminal_an_error_is_one_coloured_line(project):
    write_stack(project, '  gitops:argocd:\n    ha: "yes"\n')
    output = run_in_terminal([sys.executable, "-m", "ops", "render", "--out", "rendered"], project, columns=20)
    lines = output.decode().splitlines()
    assert len(lines) == 1
    assert "\x1b[" in lines[0]  # coloured
    assert strip_ansi(lines[0]) == 'error: stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"'
    assert not (project / "rendered").exists()


def test_outside_a_terminal_an_error_has_no_colour_and_no_wrap(project):
    write_stack(project, '  gitops:argocd:\n    ha: "yes"\n')
    result = subprocess.run(
        [sys.executable, "-m", "ops", "render"],
        cwd=project,
        env={**_environment(), "COLUMNS": "20"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == 'error: stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"\n'


def run_in_terminal(command: list[str], cwd: Path, columns: int) -> bytes:
    """The command's output when its stdout and stderr are a terminal `columns` wide."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    process = subprocess.Popen(command, cwd=cwd, env=_environment(), stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    try:
        while chunk := _read(controller):
            output += chunk
    finally:
        os.close(controller)
        process.wait(timeout=60)
    return output


def _read(descriptor: int) -> bytes:
    try:
        return os.read(descriptor, 65536)
    except OSError:  # Linux reports the end of a terminal's output as EIO
        return b""


def _environment() -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "TTY_COMPATIBLE")}
    return {**inherited, "PYTHONPATH": str(PROJECT_DIR), "TERM": "xterm-256color"}


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)
