"""`python -m ops promote` end to end: a real project repository with stack files, a real app
repository behind a file:// URL, the real settings loader; only the Automation API stack is fake."""

import json
import shutil
from pathlib import Path

import git
import pytest
from typer.testing import CliRunner

from ops.cli import app
from tests.fake_stack import FakeStack, argocd_application, open_as_every_stack
from tests.gitrepos import SourceRepository, commit_checkout

runner = CliRunner()

STG = """\
# Staging: receives revisions promoted from dev.
config:
  gitops:promotion:
    source: dev   # the stage before this one
  gitops:repositories:
    apps:
      url: {url}
  gitops:applications:
    guestbook:
      repository: apps
      path: apps/guestbook
      revision: main  # follows dev until the first promotion
      destination: {{namespace: guestbook}}
    api:
        repository: apps
        path: "apps/api"
        revision: "v1"
        destination:
            namespace: api
"""

DEV = """\
config:
  gitops:repositories:
    apps:
      url: {url}
  gitops:applications:
    guestbook:
      repository: apps
      path: apps/guestbook
      revision: main
      destination: {{namespace: guestbook}}
"""

PRD = """\
config:
  gitops:promotion:
    source: stg
  gitops:repositories:
    apps:
      url: {url}
  gitops:applications:
    guestbook:
      repository: apps
      path: apps/guestbook
      revision: main
      destination: {{namespace: guestbook}}
"""


@pytest.fixture
def apps_repository(tmp_path):
    """A bare app repository served over file:// with two commits on main."""
    repository = SourceRepository(tmp_path / "apps")
    commits = [repository.commit({"apps/guestbook/version": version}, version) for version in ("1", "2")]
    repository.push()
    return repository.url, commits


@pytest.fixture
def project(tmp_path, monkeypatch, apps_repository):
    url, _ = apps_repository
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    for name, text in {"dev": DEV, "stg": STG, "prd": PRD}.items():
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(text.format(url=url))
    commit_checkout(root)
    repo = git.Repo(root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "git-cache"))
    return repo


@pytest.fixture
def source(monkeypatch, apps_repository):
    """The dev stack as the Automation API would return it: guestbook at the second commit."""
    url, commits = apps_repository
    fake = FakeStack(
        applications={
            "guestbook": {
                "requested": "main",
                "commit": commits[1],
                "repository": url,
                "configPath": ["gitops:applications", "guestbook", "revision"],
            }
        },
        resources=[argocd_application("guestbook", "Synced", "Healthy")],
    )
    return open_as_every_stack(monkeypatch, fake)


def stg_file(repo):
    return Path(repo.working_tree_dir) / "stacks" / "Pulumi.stg.yaml"


def test_promote_writes_the_commit_and_commits_it_on_a_new_branch(project, source, apps_repository):
    _, commits = apps_repository
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 0, result.output
    assert source.opened == ["dev"]
    assert source.calls == ["refresh", "outputs", "export"]
    after = stg_file(project).read_text()
    assert after == before.replace("revision: main  # follows", f"revision: {commits[1]}  # follows")
    assert project.active_branch.name == f"promote/dev-to-stg-{commits[1][:7]}"
    assert project.head.commit.message.startswith("Promote dev → stg\n\n- guestbook: main → " + commits[1])
    assert project.heads.main.commit != project.head.commit
    assert f"+      revision: {commits[1]}" in result.stdout
    assert not project.is_dirty(untracked_files=True)


def test_promote_json_names_the_branch_and_the_changes(project, source, apps_repository):
    url, commits = apps_repository
    result = runner.invoke(app, ["promote", "dev", "stg", "--app", "guestbook", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "promoted"
    assert document["branch"] == project.active_branch.name
    assert document["commit"] == project.head.commit.hexsha
    assert document["changes"] == [
        {
            "apps": ["guestbook"],
            "key": "gitops:applications.guestbook.revision",
            "configPath": ["gitops:applications", "guestbook", "revision"],
            "old": "main",
            "new": commits[1],
            "repository": url,
        }
    ]


def assert_nothing_written(repo, before):
    assert stg_file(repo).read_text() == before
    assert [head.name for head in repo.heads] == ["main"]
    assert repo.active_branch.name == "main"


def test_a_second_promotion_has_nothing_to_do(project, source):
    assert runner.invoke(app, ["promote", "dev", "stg"]).exit_code == 0
    branches = len(project.heads)
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 0
    assert "nothing to promote" in result.stdout
    assert len(project.heads) == branches


def test_a_dirty_working_tree_is_refused_before_touching_pulumi(project, source):
    (Path(project.working_tree_dir) / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n# x\n")
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 1
    assert "uncommitted changes (Pulumi.yaml)" in result.stderr
    assert source.opened == []
    assert_nothing_written(project, before)


def test_skipping_a_stage_is_refused(project, source):
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "prd"])
    assert result.exit_code == 1
    assert "prd accepts promotions only from stg" in result.stderr
    assert "skipping a stage is refused" in result.stderr
    assert source.opened == []
    assert_nothing_written(project, before)


def test_an_unknown_stack_is_refused(project, source):
    result = runner.invoke(app, ["promote", "dev", "qa"])
    assert result.exit_code == 1
    assert "unknown stack 'qa': no stacks/Pulumi.qa.yaml (known stacks: dev, prd, stg)" in result.stderr


@pytest.mark.parametrize("name", ["api", "nope"])
def test_an_unknown_app_is_refused(project, source, name):
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "stg", "--app", name, "--json"])
    assert result.exit_code == 1
    assert f"unknown app '{name}'" in result.stderr
    assert json.loads(result.stdout)["status"] == "refused"
    assert_nothing_written(project, before)


def test_a_commit_missing_from_the_repository_is_refused(project, source):
    source.applications["guestbook"]["commit"] = "f" * 40
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 1
    assert f"does not contain commit {'f' * 40}" in result.stderr
    assert_nothing_written(project, before)


def test_an_unhealthy_source_is_refused_unless_forced(project, source, apps_repository):
    source.resources = [argocd_application("guestbook", "OutOfSync", "Progressing")]
    before = stg_file(project).read_text()
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 1
    assert "guestbook is OutOfSync/Progressing" in result.stderr
    assert_nothing_written(project, before)

    forced = runner.invoke(app, ["promote", "dev", "stg", "--force"])
    assert forced.exit_code == 0, forced.output
    assert apps_repository[1][1] in stg_file(project).read_text()


def test_bad_target_settings_name_the_file_and_key(project, source):
    path = stg_file(project)
    path.write_text(path.read_text().replace("    source: dev", "    source: Dev!"))
    project.index.add(["stacks/Pulumi.stg.yaml"])
    project.index.commit("typo")
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 1
    assert "stacks/Pulumi.stg.yaml: gitops:promotion.source:" in result.stderr


def test_a_missing_pulumi_cli_is_one_clear_error(project, monkeypatch, tmp_path):
    only_git = tmp_path / "bin"
    only_git.mkdir()
    (only_git / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(only_git))
    result = runner.invoke(app, ["promote", "dev", "stg"])
    assert result.exit_code == 1
    assert result.stderr.strip() == ("error: the pulumi CLI is not on PATH: install it from https://www.pulumi.com/docs/install/")
