"""The real flow through the `pulumi` CLI: a throwaway Python project in tmp on a file backend.

Its program declares only component resources (no provider plugin, no cluster, no network) and
exports an `applications` output shaped like the real program's. Drift is made by adding a
resource the stack does not have yet; reconcile applies it; promote carries the exported commit
into the next stack's file. Skipped when the CLI is not installed.
"""

import json
import shutil
import sys
from pathlib import Path

import git
import pytest
from typer.testing import CliRunner

from ops import automation
from ops.cli import app
from tests.gitrepos import SourceRepository, commit_checkout

pytestmark = pytest.mark.skipif(
    shutil.which("pulumi") is None,
    reason="the pulumi CLI is not on PATH (https://www.pulumi.com/docs/install/); this test drives a real stack",
)

runner = CliRunner()

PROGRAM = """\
import os

import pulumi


class Thing(pulumi.ComponentResource):
    def __init__(self, name):
        super().__init__("test:index:Thing", name, {}, None)
        self.register_outputs({})


Thing("a")
if os.environ.get("GITOPS_IT_EXTRA"):
    Thing("b")
pulumi.export(
    "applications",
    {
        "guestbook": {
            "requested": "main",
            "commit": os.environ["GITOPS_IT_COMMIT"],
            "repository": os.environ["GITOPS_IT_URL"],
            "configPath": ["gitops:applications", "guestbook", "revision"],
        }
    },
)
"""

NEXT = """\
config:
  gitops:promotion:
    source: it
  gitops:repositories:
    apps:
      url: {url}
  gitops:applications:
    guestbook:
      repository: apps
      path: apps/guestbook
      revision: main   # promoted from it
      destination: {{namespace: guestbook}}
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    apps = SourceRepository(tmp_path / "apps")
    commit = apps.commit({"apps/guestbook/kustomization.yaml": "resources: []\n"}, "app")
    apps.push()
    url = apps.url

    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text(
        "name: gitops\nstackConfigDir: stacks\nruntime:\n  name: python\n  options:\n"
        f"    toolchain: pip\n    virtualenv: {sys.prefix}\n"
    )
    (root / "__main__.py").write_text(PROGRAM)
    (root / "stacks" / "Pulumi.it.yaml").write_text("config: {}\n")
    (root / "stacks" / "Pulumi.next.yaml").write_text(NEXT.format(url=url))
    (root / ".gitignore").write_text("__pycache__/\n")

    monkeypatch.chdir(root)
    monkeypatch.setenv("PULUMI_BACKEND_URL", (tmp_path / "state").as_uri())
    (tmp_path / "state").mkdir()
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "integration")
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "git-cache"))
    monkeypatch.setenv("GITOPS_IT_URL", url)
    monkeypatch.setenv("GITOPS_IT_COMMIT", commit)
    monkeypatch.delenv("GITOPS_IT_EXTRA", raising=False)

    stack = automation.open_stack("it", root, create=True)
    stack.up(color="never")

    # `stack init` wrote the encryption salt into the stack file: commit everything now.
    commit_checkout(root, "project")
    return root, git.Repo(root), commit


def drift(*args):
    result = runner.invoke(app, ["drift", "--stack", "it", "--json", *args])
    return result.exit_code, json.loads(result.stdout), result


def test_drift_reconcile_and_promote_through_the_real_cli(project, monkeypatch):
    root, repo, commit = project

    code, report, result = drift()
    assert code == 0, result.output
    assert report["status"] == "clean"

    monkeypatch.setenv("GITOPS_IT_EXTRA", "1")
    code, report, result = drift()
    assert code == 2, result.output
    assert [(r["name"], r["operation"]) for r in report["resources"]] == [("b", "create")]

    reconciled = runner.invoke(app, ["reconcile", "--stack", "it"])  # development tier: policy auto
    assert reconciled.exit_code == 0, reconciled.output
    code, report, result = drift()
    assert code == 0, result.output

    # No Argo CD Application exists in this stack, so only --force promotes from it.
    refused = runner.invoke(app, ["promote", "it", "next"])
    assert refused.exit_code == 1
    assert "guestbook has no Argo CD Application in the state" in refused.stderr
    promoted = runner.invoke(app, ["promote", "it", "next", "--force", "--json"])
    assert promoted.exit_code == 0, promoted.output
    document = json.loads(promoted.stdout)
    assert repo.active_branch.name == document["branch"] == f"promote/it-to-next-{commit[:7]}"
    text = (Path(root) / "stacks" / "Pulumi.next.yaml").read_text()
    assert f"revision: {commit}   # promoted from it" in text


def test_a_missing_stack_is_an_error_not_drift(project):
    (Path(project[0]) / "stacks" / "Pulumi.ghost.yaml").write_text("config: {}\n")
    result = runner.invoke(app, ["drift", "--stack", "ghost"])
    assert result.exit_code == 1
    assert "the backend has no such stack" in result.stderr
