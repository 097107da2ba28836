"""`python -m ops drift` and `python -m ops reconcile`: every exit code and error path, with the
real settings loader and a fake Automation API stack that replays SDK events."""

import json

import pytest
from pulumi.automation import (
    CommandResult,
    DiffKind,
    EngineEvent,
    OpType,
    PropertyDiff,
    ResourcePreEvent,
    StepEventMetadata,
    SummaryEvent,
)
from pulumi.automation.errors import create_command_error
from typer.testing import CliRunner

from ops import automation
from ops.cli import app
from tests.fake_stack import FakeStack, argocd_application, open_as_every_stack

runner = CliRunner()

STACKS = {
    # dev: development tier, so drift.reconcile defaults to auto
    "dev": "config:\n  gitops:cluster:\n    kind: kubeconfig\n",
    # stg: staging tier, so confirm
    "stg": "config:\n  gitops:promotion:\n    source: dev\n",
    "prd": "config:\n  gitops:environment:\n    tier: production\n  gitops:drift:\n    reconcile: report\n",
}
EXPECTED_CHANGES = "error: no changes were expected but changes were proposed"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    for name, text in STACKS.items():
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text)
    monkeypatch.chdir(root)
    return root


def failure(stderr):
    """What the SDK raises for a failed CLI command with this stderr (its own classification)."""
    return create_command_error(CommandResult(stdout="", stderr=stderr, code=255))


def update_event(name, *paths, sequence=1):
    urn = f"urn:pulumi:dev::gitops::kubernetes:apps/v1:Deployment::{name}"
    metadata = StepEventMetadata(
        op=OpType.UPDATE,
        urn=urn,
        type="kubernetes:apps/v1:Deployment",
        provider="",
        detailed_diff={path: PropertyDiff(DiffKind.UPDATE, input_diff=False) for path in paths},
    )
    return EngineEvent(sequence=sequence, timestamp=0, resource_pre_event=ResourcePreEvent(metadata, planning=True))


SUMMARY = EngineEvent(sequence=99, timestamp=0, summary_event=SummaryEvent(False, 1, {"update": 1, "same": 3}, {}))


def dev_stack(events=(), preview_error=None, sync="Synced", **failures):
    """The dev stack: a preview replaying `events` then failing with `preview_error`, and a state
    whose guestbook Application is `sync` and Healthy."""
    return FakeStack(events, preview_error, resources=[argocd_application("guestbook", sync)], **failures)


@pytest.fixture
def stack(monkeypatch):
    """Install a fake stack for the next command; returns a setter."""
    return lambda fake: open_as_every_stack(monkeypatch, fake)


def drifted():
    return dev_stack([update_event("web", "spec.replicas", "status.readyReplicas"), SUMMARY], failure(EXPECTED_CHANGES))


# --- drift ------------------------------------------------------------------------------------


def test_no_drift_exits_0(project, stack):
    fake = stack(dev_stack([SUMMARY]))
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert "No drift in stack dev" in result.stdout
    assert fake.calls == ["refresh", "preview", "export"]


def test_drift_exits_2_with_the_resource_and_its_paths(project, stack, tmp_path):
    stack(drifted())
    summary = tmp_path / "summary.md"
    result = runner.invoke(app, ["drift", "--stack", "dev", "--json", "--markdown", str(summary)])
    assert result.exit_code == 2, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "drift"
    (resource,) = document["resources"]
    assert resource["name"] == "web"
    assert resource["changes"] == [{"path": "spec.replicas", "kind": "update"}]
    assert resource["ignored"] == ["status.readyReplicas"]
    assert document["applications"][0] == {
        "name": "guestbook",
        "namespace": "argocd",
        "sync": "Synced",
        "health": "Healthy",
        "revision": "c" * 40,
        "drift": False,
        "message": "",
    }
    markdown = summary.read_text()
    assert markdown.startswith("### :warning: Drift detected in stack dev")
    assert "| `web` | `kubernetes:apps/v1:Deployment` | update | spec.replicas (update) |" in markdown


def test_the_table_shows_the_drifted_resource(project, stack):
    stack(drifted())
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 2
    assert "Drift detected in stack dev" in result.stdout
    assert "spec.replicas" in result.stdout
    assert "guestbook" in result.stdout


def test_noise_only_changes_are_no_drift(project, stack):
    stack(dev_stack([update_event("web", "metadata.resourceVersion", "status"), SUMMARY], failure(EXPECTED_CHANGES)))
    assert runner.invoke(app, ["drift", "--stack", "dev"]).exit_code == 0


def test_an_out_of_sync_application_is_drift(project, stack):
    stack(dev_stack([SUMMARY], sync="OutOfSync"))
    result = runner.invoke(app, ["drift", "--stack", "dev", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["applications"][0]["drift"] is True


def test_a_locked_stack_is_an_error_not_drift(project, stack, tmp_path):
    stack(dev_stack(refresh_error=failure("error: the stack is currently locked by 1 lock(s)")))
    summary = tmp_path / "summary.md"
    result = runner.invoke(app, ["drift", "--stack", "dev", "--markdown", str(summary)])
    assert result.exit_code == 1
    assert "stack 'dev' is locked by another update" in result.stderr
    assert "Drift check failed for stack dev" in summary.read_text()


def test_an_unreachable_cluster_is_an_error(project, stack):
    stack(dev_stack(preview_error=failure("error: configured Kubernetes cluster is unreachable: dial tcp 10.0.0.1:443")))
    result = runner.invoke(app, ["drift", "--stack", "dev", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["status"] == "error"
    assert document["error"].startswith("preview of stack 'dev' failed: cluster unreachable:")


def test_a_preview_that_fails_for_another_reason_is_an_error(project, stack):
    stack(dev_stack([update_event("web", "spec.replicas")], failure("error: an unhandled error occurred: boom")))
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert "an unhandled error occurred: boom" in result.stderr


def test_an_unknown_stack_is_an_error(project, stack):
    stack(dev_stack([SUMMARY]))
    result = runner.invoke(app, ["drift", "--stack", "qa"])
    assert result.exit_code == 1
    assert "unknown stack 'qa'" in result.stderr


def test_a_stack_missing_from_the_backend_is_an_error(project, monkeypatch):
    def open_stack(name, root, create=False):
        with automation.automation_errors(name):
            raise failure("error: no stack named 'dev' found")

    monkeypatch.setattr(automation, "open_stack", open_stack)
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert "the backend has no such stack" in result.stderr


def test_bad_settings_are_an_error(project, stack):
    (project / "stacks" / "Pulumi.dev.yaml").write_text("config:\n  gitops:drift:\n    reconcile: sometimes\n")
    fake = stack(dev_stack([SUMMARY]))
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert "stacks/Pulumi.dev.yaml: gitops:drift.reconcile:" in result.stderr
    assert fake.calls == []


def test_a_missing_pulumi_cli_is_an_error(project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = runner.invoke(app, ["drift", "--stack", "dev"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: the pulumi CLI is not on PATH: install it from https://www.pulumi.com/docs/install/")


def test_a_usage_error_exits_1_never_2(project):
    assert runner.invoke(app, ["drift"]).exit_code == 1
    assert runner.invoke(app, ["drift", "--stack", "dev", "--bogus"]).exit_code == 1
    assert runner.invoke(app, ["reconcile"]).exit_code == 1


# --- reconcile --------------------------------------------------------------------------------


def test_reconcile_applies_under_auto(project, stack):
    fake = stack(drifted())
    result = runner.invoke(app, ["reconcile", "--stack", "dev"])
    assert result.exit_code == 0, result.output
    assert fake.calls == ["refresh", "preview", "export", "up"]
    assert "reconciled stack dev (policy auto): 3 same, 1 update" in result.stdout


def test_reconcile_without_drift_does_nothing(project, stack):
    fake = stack(dev_stack([SUMMARY]))
    result = runner.invoke(app, ["reconcile", "--stack", "dev"])
    assert result.exit_code == 0
    assert "up" not in fake.calls


def test_reconcile_leaves_out_of_sync_applications_to_argo_cd(project, stack):
    fake = stack(dev_stack([SUMMARY], sync="OutOfSync"))
    result = runner.invoke(app, ["reconcile", "--stack", "dev"])
    assert result.exit_code == 2
    assert "up" not in fake.calls
    assert "sync them in Argo CD" in result.stdout


def test_reconcile_under_confirm_needs_yes(project, stack):
    fake = stack(drifted())
    result = runner.invoke(app, ["reconcile", "--stack", "stg"])
    assert result.exit_code == 2
    assert "rerun with --yes" in result.stdout
    assert "up" not in fake.calls

    fake = stack(drifted())
    result = runner.invoke(app, ["reconcile", "--stack", "stg", "--yes", "--json"])
    assert result.exit_code == 0, result.output
    assert fake.calls[-1] == "up"
    assert json.loads(result.stdout)["reconcile"] == {
        "policy": "confirm",
        "action": "apply",
        "applied": {"update": 1, "same": 3},
        "error": None,
    }


def test_reconcile_under_report_never_applies(project, stack, tmp_path):
    fake = stack(drifted())
    summary = tmp_path / "summary.md"
    result = runner.invoke(app, ["reconcile", "--stack", "prd", "--yes", "--markdown", str(summary)])
    assert result.exit_code == 2
    assert "up" not in fake.calls
    assert "reconcile never applies" in result.stdout
    assert "Drift detected in stack prd" in summary.read_text()


def test_reconcile_reports_a_failed_up_as_an_error(project, stack):
    stack(dev_stack(drifted().events, failure(EXPECTED_CHANGES), up_error=failure("error: update failed\nerror: 1 error")))
    result = runner.invoke(app, ["reconcile", "--stack", "dev"])
    assert result.exit_code == 1
    assert "pulumi failed on stack 'dev': 1 error" in result.stderr


def test_reconcile_stops_on_a_drift_error(project, stack):
    fake = stack(dev_stack(refresh_error=failure("error: the stack is currently locked by 1 lock(s)")))
    result = runner.invoke(app, ["reconcile", "--stack", "dev", "--yes"])
    assert result.exit_code == 1
    assert "up" not in fake.calls


@pytest.mark.parametrize("command", [["drift", "--stack", "dev"], ["reconcile", "--stack", "dev"]])
def test_every_problem_of_a_bad_stack_file_is_its_own_error_line(project, command):
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        "config:\n  gitops:argocd:\n    ha: 'yes'\n  gitops:dashboard:\n    hots: argocd.example.com\n"
    )
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("error: stacks/Pulumi.dev.yaml: gitops:") for line in lines), lines
