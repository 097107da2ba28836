"""The Automation API wrapper: project and stack files, backend, passphrase, the CLI's errors."""

import json
import os
import stat

import pytest
from pulumi.automation import CommandResult, InvalidVersionError
from pulumi.automation.errors import create_command_error
from typer.testing import CliRunner

from ops import automation
from ops.automation import backend_url, check_passphrase, command_error_summary, translate_error
from ops.ci import ci_matrix
from ops.cli import app
from ops.errors import OpsError
from ops.project import project_root, stack_file, stack_names

runner = CliRunner()


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    (root / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  gitops:cluster:\n    kind: eks\n    name: platform-dev\n    region: eu-west-1\n"
    )
    (root / "stacks" / "Pulumi.prd.yaml").write_text(
        "config:\n  gitops:cluster:\n    kind: gke\n    name: platform-prd\n    location: europe-west1\n"
        "    project: acme-platform-prd\n"
    )
    (root / "stacks" / "Pulumi.local.yaml").write_text("config:\n  gitops:cluster:\n    kind: kubeconfig\n")
    monkeypatch.chdir(root)
    for variable in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE"):
        monkeypatch.delenv(variable, raising=False)
    return root


def test_project_root_is_found_from_a_subdirectory(project):
    (project / "stacks" / "deep").mkdir()
    assert project_root(project / "stacks" / "deep") == project.resolve()


def test_no_project_file_is_an_error(tmp_path):
    with pytest.raises(OpsError, match=r"no Pulumi\.yaml in"):
        project_root(tmp_path)


def test_stack_files_live_in_stack_config_dir(project):
    assert stack_names(project) == ["dev", "local", "prd"]
    assert stack_file(project, "dev") == project / "stacks" / "Pulumi.dev.yaml"
    with pytest.raises(OpsError, match=r"unknown stack 'qa': no stacks/Pulumi\.qa\.yaml \(known stacks: dev, local, prd\)"):
        stack_file(project, "qa")
    with pytest.raises(OpsError, match="not a valid stack name"):
        stack_file(project, "../etc")


def test_the_backend_defaults_to_a_file_backend_in_the_project(project):
    url = backend_url(project, environ={})
    assert url == (project / ".pulumi-state").as_uri()
    assert (project / ".pulumi-state").is_dir()
    assert backend_url(project, environ={"PULUMI_BACKEND_URL": "s3://bucket/state"}) == "s3://bucket/state"


@pytest.mark.parametrize(
    ("backend", "provider", "environ", "needed"),
    [
        ("file:///x", None, {}, True),
        ("s3://bucket", "passphrase", {}, True),
        ("file:///x", None, {"PULUMI_CONFIG_PASSPHRASE": ""}, False),  # an empty passphrase is a passphrase
        ("file:///x", None, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/secrets/p"}, False),
        ("file:///x", "awskms://alias/gitops", {}, False),
        ("https://api.pulumi.com", None, {}, False),
    ],
)
def test_the_passphrase_is_required_only_where_it_is_used(backend, provider, environ, needed):
    if needed:
        with pytest.raises(OpsError, match="set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"):
            check_passphrase(backend, provider, environ)
    else:
        check_passphrase(backend, provider, environ)


def test_errors_name_a_backend_without_its_credentials():
    with pytest.raises(OpsError) as raised:
        check_passphrase("postgres://user:hunter2@db/state", None, {})
    assert "hunter2" not in str(raised.value)


def test_command_error_summary_picks_the_useful_line():
    error = create_command_error(
        CommandResult(stdout="Previewing update (dev):", stderr="error: preview failed\n\x1b[31merror: boom\x1b[0m", code=255)
    )
    assert command_error_summary(str(error)) == "boom"
    assert command_error_summary("stderr: error: dial tcp: connection refused").startswith("cluster unreachable:")
    assert command_error_summary("") == "unknown error"


def test_translate_error_covers_the_sdk_errors():
    conflict = create_command_error(CommandResult("", "error: [409] Conflict: Another update is currently in progress.", 255))
    assert "locked by another update" in str(translate_error(conflict, "prd"))
    assert "no such stack" in str(translate_error(create_command_error(CommandResult("", "no stack named 'x' found", 255)), "x"))
    assert "unusable pulumi CLI" in str(translate_error(InvalidVersionError("too old"), "dev"))
    assert "not on PATH" in str(translate_error(FileNotFoundError("[Errno 2] No such file or directory: 'pulumi'"), "dev"))
    assert translate_error(KeyError("a bug"), "dev") is None


def test_ci_matrix_skips_local_stacks_and_names_the_cloud(project):
    assert ci_matrix(project) == [
        {"stack": "dev", "cloud": "aws", "region": "eu-west-1"},
        {"stack": "prd", "cloud": "gcp", "region": "europe-west1"},
    ]


# --- open_stack against a stand-in `pulumi` executable ----------------------------------------

FAKE_PULUMI = """#!/bin/sh
echo "$PULUMI_BACKEND_URL $*" >> "{record}"
case "$*" in
  version) echo "v3.272.0" ;;
  *"stack --stack"*) echo "error: no stack named 'dev' found" >&2; exit 255 ;;
  *) echo "error: unexpected $*" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def fake_pulumi(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "calls.txt"
    script = bin_dir / "pulumi"
    script.write_text(FAKE_PULUMI.format(record=record))
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return record


def test_a_file_backend_without_a_passphrase_is_refused_before_pulumi_runs(project, fake_pulumi):
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE" in result.stderr
    assert not fake_pulumi.exists()


def test_open_stack_finds_the_stack_on_the_project_file_backend_without_selecting_it(project, fake_pulumi, monkeypatch):
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert "unknown stack 'dev': its stack file exists but the backend has no such stack" in result.stderr
    backend = (project / ".pulumi-state").resolve().as_uri()
    calls = fake_pulumi.read_text().splitlines()
    assert f"{backend} --non-interactive stack --stack dev" in calls
    assert not [call for call in calls if "select" in call]  # the user's selected stack stays theirs


def test_a_missing_pulumi_cli_is_reported_by_open_stack(project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(
        OpsError, match=r"^the pulumi CLI is not on PATH: install it from https://www\.pulumi\.com/docs/install/$"
    ):
        automation.open_stack("dev", project)


def test_the_ci_matrix_for_named_stacks(project):
    assert ci_matrix(project, only=["prd"]) == [{"stack": "prd", "cloud": "gcp", "region": "europe-west1"}]
    with pytest.raises(OpsError, match="local-tier stack"):
        ci_matrix(project, only=["local"])


def test_the_matrix_command_prints_a_github_output_line(project):
    result = runner.invoke(app, ["matrix", "dev"])
    assert (result.exit_code, result.stdout) == (0, 'matrix=[{"stack": "dev", "cloud": "aws", "region": "eu-west-1"}]\n')
    every = runner.invoke(app, ["matrix"])
    assert [row["stack"] for row in json.loads(every.stdout.removeprefix("matrix="))] == ["dev", "prd"]
    unknown = runner.invoke(app, ["matrix", "qa"])
    assert unknown.exit_code == 1 and unknown.stdout == ""
    assert "error: unknown stack 'qa': no stacks/Pulumi.qa.yaml" in unknown.stderr
