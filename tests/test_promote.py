"""Promotion: planning, the byte-preserving stack file edit, the atomic write and the git commit."""

import os
from datetime import UTC, datetime
from pathlib import Path

import git
import pytest
from pulumi.automation import OutputValue

from ops import commits, stack_file_edit
from ops.argocd_status import ApplicationStatus
from ops.commits import repository_has_commit, verify_commits
from ops.errors import OpsError, PromotionRefused
from ops.promotion_branch import apply_plan, branch_name, ensure_clean
from ops.promotion_plan import Change, Plan, plan_promotion
from ops.stack_file_edit import edit_revisions, read_scalar, write_atomically
from settings import StackSettings
from tests.gitrepos import SourceRepository, commit_checkout

SHA_A = "a" * 40
SHA_B = "b" * 40

TARGET_YAML = """\
# Staging: receives revisions promoted from dev.
config:
  gitops:environment:
    tier: staging
  gitops:promotion:
    source: dev   # the stage before this one
  gitops:applications:
    guestbook:
      repository: apps
      path: apps/guestbook
      revision: main  # follows dev
    api:
        repository: apps
        path: "apps/api"
        revision: "v1.2.0"
    worker: {repository: apps, path: apps/worker, revision: 'v0.9'}
  gitops:discovery:
    web:
      repository: apps
      pattern: web/*
      revision: 0123456789abcdef0123456789abcdef01234567
"""


def settings_for(stack, **raw):
    return StackSettings.model_validate(raw, context={"stack": stack})


STG = settings_for("stg", promotion={"source": "dev"})


def entry(commit, path, requested="main", repository="file:///srv/apps.git"):
    return {"requested": requested, "commit": commit, "repository": repository, "configPath": path}


def outputs_of(**apps):
    return {"applications": OutputValue(value=apps, secret=False)}


def ready(*names):
    return {name: ApplicationStatus(name, "argocd", "Synced", "Healthy", SHA_A) for name in names}


SOURCE = outputs_of(
    guestbook=entry(SHA_A, ["gitops:applications", "guestbook", "revision"]),
    api=entry(SHA_B, ["gitops:applications", "api", "revision"], requested="v1.3.0"),
    frontend=entry(SHA_A, ["gitops:discovery", "web", "revision"]),
    backend=entry(SHA_A, ["gitops:discovery", "web", "revision"]),
)
ALL_READY = ready("guestbook", "api", "frontend", "backend")


# --- planning ---------------------------------------------------------------------------------


def test_plan_changes_each_config_path_once_and_lists_the_apps_sharing_it():
    plan = plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, TARGET_YAML)
    by_key = {c.key: c for c in plan.changes}
    assert set(by_key) == {
        "gitops:applications.guestbook.revision",
        "gitops:applications.api.revision",
        "gitops:discovery.web.revision",
    }
    assert by_key["gitops:applications.guestbook.revision"].old == "main"
    assert by_key["gitops:applications.api.revision"].new == SHA_B
    assert by_key["gitops:discovery.web.revision"].apps == ("backend", "frontend")


def test_plan_only_the_named_apps():
    plan = plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, TARGET_YAML, apps=["api"])
    assert [(c.apps, c.old, c.new) for c in plan.changes] == [(("api",), "v1.2.0", SHA_B)]


def test_an_app_already_at_the_commit_is_unchanged():
    source = outputs_of(web=entry("0123456789abcdef0123456789abcdef01234567", ["gitops:discovery", "web", "revision"]))
    plan = plan_promotion("dev", "stg", source, ready("web"), STG, TARGET_YAML)
    assert plan.changes == [] and plan.unchanged == ["web"]


def test_skipping_a_stage_is_refused():
    prd = settings_for("prd", promotion={"source": "stg"})
    with pytest.raises(PromotionRefused, match=r"prd accepts promotions only from stg.*skipping a stage is refused"):
        plan_promotion("dev", "prd", SOURCE, ALL_READY, prd, TARGET_YAML)


def test_a_stack_without_a_promotion_source_accepts_none():
    with pytest.raises(PromotionRefused, match="accepts no promotions"):
        plan_promotion("stg", "dev", SOURCE, ALL_READY, settings_for("dev"), TARGET_YAML)
    with pytest.raises(PromotionRefused, match="onto itself"):
        plan_promotion("stg", "stg", SOURCE, ALL_READY, settings_for("stg", promotion={"source": "stg"}), TARGET_YAML)


def test_an_unknown_app_is_refused_on_either_side():
    with pytest.raises(PromotionRefused, match="unknown app 'nope': stack 'dev' exports no such application"):
        plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, TARGET_YAML, apps=["nope"])
    source = outputs_of(extra=entry(SHA_A, ["gitops:applications", "extra", "revision"]))
    with pytest.raises(PromotionRefused, match="unknown app 'extra' in stack 'stg'"):
        plan_promotion("dev", "stg", source, ready("extra"), STG, TARGET_YAML, apps=["extra"])


def test_an_app_configured_without_a_revision_is_refused_with_a_hint():
    text = TARGET_YAML.replace("      revision: main  # follows dev\n", "")
    with pytest.raises(PromotionRefused, match=r"configures gitops:applications\.guestbook without `revision:`"):
        plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, text, apps=["guestbook"])


def test_an_app_the_target_does_not_configure_is_skipped_when_promoting_all():
    source = outputs_of(
        extra=entry(SHA_A, ["gitops:applications", "extra", "revision"]),
        api=entry(SHA_B, ["gitops:applications", "api", "revision"]),
    )
    plan = plan_promotion("dev", "stg", source, ready("extra", "api"), STG, TARGET_YAML)
    assert [c.apps for c in plan.changes] == [("api",)]
    assert any(note.startswith("extra: skipped") for note in plan.notes)


def test_an_unhealthy_or_out_of_sync_source_is_refused_unless_forced():
    statuses = {**ALL_READY, "api": ApplicationStatus("api", "argocd", "OutOfSync", "Healthy", SHA_B)}
    statuses.pop("guestbook")
    with pytest.raises(PromotionRefused, match="api is OutOfSync/Healthy; guestbook has no Argo CD Application"):
        plan_promotion("dev", "stg", SOURCE, statuses, STG, TARGET_YAML)
    plan = plan_promotion("dev", "stg", SOURCE, statuses, STG, TARGET_YAML, force=True)
    assert len(plan.changes) == 3
    assert "forced: api is OutOfSync/Healthy" in plan.notes


def test_apps_sharing_a_config_path_must_agree():
    source = outputs_of(
        frontend=entry(SHA_A, ["gitops:discovery", "web", "revision"]),
        backend=entry(SHA_B, ["gitops:discovery", "web", "revision"]),
    )
    with pytest.raises(PromotionRefused, match=r"share gitops:discovery\.web\.revision but run different commits"):
        plan_promotion("dev", "stg", source, ready("frontend", "backend"), STG, TARGET_YAML)


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        ({}, "exports no `applications` output"),
        ({"applications": OutputValue({"a": {}}, secret=True)}, "marks its `applications` output secret"),
        (outputs_of(a=entry("main", ["gitops:applications", "a", "revision"])), "is not a 40-hex commit"),
        (outputs_of(a=entry(SHA_A, ["gitops:other", "a"])), "configPath is not a path under"),
    ],
)
def test_malformed_source_outputs_are_refused(outputs, message):
    with pytest.raises(PromotionRefused, match=message):
        plan_promotion("dev", "stg", outputs, ALL_READY, STG, TARGET_YAML)


MULTI_SOURCE_YAML = """\
config:
  gitops:promotion: {source: dev}
  gitops:applications:
    redis:
      sources:
        - {repository: charts, chart: redis, revision: 19.0.1}
        - repository: apps
          revision: main   # the values
          ref: values
    pair:
      sources:
        - {repository: apps, path: apps/hub, revision: release}
        - {repository: apps, path: apps/plain, revision: main}
"""


def test_each_pinned_source_of_a_multi_source_app_is_promoted_into_its_own_entry():
    def source_entry(commit, app, index, requested="main"):
        return {**entry(commit, ["gitops:applications", app, "sources", index, "revision"], requested), "type": "helm"}

    outputs = outputs_of(
        redis={"sources": [{**source_entry(None, "redis", 0, "19.0.1")}, source_entry(SHA_A, "redis", 1)]},
        pair={"sources": [source_entry(SHA_A, "pair", 0, "release"), source_entry(SHA_B, "pair", 1)]},
        chart={**entry(None, ["gitops:applications", "chart", "revision"], "1.0.0"), "type": "helm"},
    )
    plan = plan_promotion("dev", "stg", outputs, ready("redis", "pair"), STG, MULTI_SOURCE_YAML)
    assert [(c.key, c.old, c.new) for c in plan.changes] == [
        ("gitops:applications.pair.sources[0].revision", "release", SHA_A),
        ("gitops:applications.pair.sources[1].revision", "main", SHA_B),
        ("gitops:applications.redis.sources[1].revision", "main", SHA_A),
    ]
    edited = edit_revisions(MULTI_SOURCE_YAML, {c.config_path: c.new for c in plan.changes})
    assert edited == (
        MULTI_SOURCE_YAML.replace("revision: main   # the values", f"revision: {SHA_A}   # the values")
        .replace("revision: release}", f"revision: {SHA_A}}}")
        .replace("path: apps/plain, revision: main}", f"path: apps/plain, revision: {SHA_B}}}")
    )
    assert read_scalar(edited, ("gitops:applications", "redis", "sources", 0, "revision")) == "19.0.1"
    only_pair = plan_promotion("dev", "stg", outputs, ready("pair"), STG, MULTI_SOURCE_YAML, apps=["pair"])
    assert {c.apps for c in only_pair.changes} == {("pair",)}


# --- the stack file ---------------------------------------------------------------------------


def test_edit_changes_only_the_revision_values_byte_for_byte():
    updates = {
        ("gitops:applications", "guestbook", "revision"): SHA_A,
        ("gitops:applications", "api", "revision"): SHA_B,
        ("gitops:applications", "worker", "revision"): SHA_A,
        ("gitops:discovery", "web", "revision"): SHA_B,
    }
    edited = edit_revisions(TARGET_YAML, updates)
    expected = (
        TARGET_YAML.replace("revision: main  # follows dev", f"revision: {SHA_A}  # follows dev")
        .replace('revision: "v1.2.0"', f'revision: "{SHA_B}"')
        .replace("revision: 'v0.9'}", f"revision: '{SHA_A}'}}")
        .replace("revision: 0123456789abcdef0123456789abcdef01234567", f"revision: {SHA_B}")
    )
    assert edited == expected
    for path, value in updates.items():
        assert read_scalar(edited, path) == value


def test_a_plain_value_that_yaml_would_read_as_a_number_is_quoted():
    digits = "1234567890" * 4
    exponent = "1" * 20 + "e" + "2" * 19
    text = "config:\n  gitops:applications:\n    a:\n      revision: main\n    b:\n      revision: main\n"
    edited = edit_revisions(
        text, {("gitops:applications", "a", "revision"): digits, ("gitops:applications", "b", "revision"): exponent}
    )
    assert f'revision: "{digits}"' in edited and f'revision: "{exponent}"' in edited
    assert read_scalar(edited, ("gitops:applications", "a", "revision")) == digits


def test_crlf_files_keep_their_line_endings():
    text = "config:\r\n  gitops:applications:\r\n    a:\r\n      revision: main # x\r\n"
    assert edit_revisions(text, {("gitops:applications", "a", "revision"): SHA_A}) == text.replace("main", SHA_A)


def test_an_edit_through_a_yaml_anchor_is_refused():
    text = "config:\n  gitops:applications:\n    a:\n      revision: &r main\n    b:\n      revision: *r\n"
    with pytest.raises(PromotionRefused, match="YAML anchor"):
        edit_revisions(text, {("gitops:applications", "a", "revision"): SHA_A})
    with pytest.raises(PromotionRefused, match="YAML anchor"):
        edit_revisions(text, {("gitops:applications", "b", "revision"): SHA_A})


def test_a_multi_line_revision_is_refused():
    text = "config:\n  gitops:applications:\n    a:\n      revision: |\n        main\n"
    with pytest.raises(PromotionRefused, match="spans several lines"):
        edit_revisions(text, {("gitops:applications", "a", "revision"): SHA_A})


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "Pulumi.stg.yaml"
    target.write_text(TARGET_YAML)
    os.chmod(target, 0o640)

    def crash(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(stack_file_edit.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "half")
    assert target.read_text() == TARGET_YAML
    assert [p.name for p in tmp_path.iterdir()] == ["Pulumi.stg.yaml"]
    monkeypatch.undo()
    write_atomically(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640


# --- git --------------------------------------------------------------------------------------


def make_app_repository(tmp_path: Path) -> tuple[str, list[str]]:
    """A bare repository served over file:// with two commits on main and a tag."""
    repository = SourceRepository(tmp_path / "apps")
    commits = [repository.commit({"apps/version": version}, f"version {version}") for version in ("1", "2")]
    repository.tag("v2")
    repository.push()
    return repository.url, commits


def make_project(tmp_path: Path) -> git.Repo:
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text("name: gitops\nruntime: python\nstackConfigDir: stacks\n")
    (root / "stacks" / "Pulumi.stg.yaml").write_text(TARGET_YAML)
    commit_checkout(root)
    return git.Repo(root)


@pytest.fixture
def git_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "git-cache"))


def test_repository_has_commit_over_file_url(tmp_path, git_cache):
    url, commits = make_app_repository(tmp_path)
    assert repository_has_commit(url, commits[0])
    assert repository_has_commit(url, commits[1])
    assert not repository_has_commit(url, "f" * 40)


def test_an_unreachable_repository_is_an_error_not_a_missing_commit(tmp_path, git_cache):
    with pytest.raises(OpsError, match="cannot read repository"):
        repository_has_commit((tmp_path / "missing.git").as_uri(), "f" * 40)


def test_verify_commits_refuses_a_commit_the_repository_lacks(tmp_path, git_cache):
    url, commits = make_app_repository(tmp_path)
    good = Change(("gitops:applications", "a", "revision"), ("a",), "main", commits[1], url)
    verify_commits(Plan("dev", "stg", [good]))
    bad = Change(("gitops:applications", "b", "revision"), ("b",), "main", "f" * 40, url)
    with pytest.raises(PromotionRefused, match=f"does not contain commit {'f' * 40}"):
        verify_commits(Plan("dev", "stg", [good, bad]))


def test_apply_plan_commits_only_the_stack_file_on_a_new_branch(tmp_path):
    repo = make_project(tmp_path)
    target = Path(repo.working_tree_dir) / "stacks" / "Pulumi.stg.yaml"
    plan = plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, TARGET_YAML, apps=["guestbook"])
    result = apply_plan(plan, repo, target, TARGET_YAML)

    assert result.branch == f"promote/dev-to-stg-{SHA_A[:7]}"
    assert repo.active_branch.name == result.branch
    assert repo.head.commit.hexsha == result.commit
    assert repo.head.commit.message.splitlines()[0] == "Promote dev → stg"
    assert f"- guestbook: main → {SHA_A}" in repo.head.commit.message
    assert list(repo.head.commit.stats.files) == ["stacks/Pulumi.stg.yaml"]
    assert target.read_text() == TARGET_YAML.replace("revision: main  #", f"revision: {SHA_A}  #")
    assert f"+      revision: {SHA_A}  # follows dev" in result.diff
    assert not repo.is_dirty(untracked_files=True)


def test_apply_plan_rolls_back_when_the_commit_fails(tmp_path, monkeypatch):
    repo = make_project(tmp_path)
    (Path(repo.git_dir) / "hooks" / "pre-commit").write_text("#!/bin/sh\nexit 1\n")
    os.chmod(Path(repo.git_dir) / "hooks" / "pre-commit", 0o755)
    target = Path(repo.working_tree_dir) / "stacks" / "Pulumi.stg.yaml"
    plan = plan_promotion("dev", "stg", SOURCE, ALL_READY, STG, TARGET_YAML)
    with pytest.raises(git.GitCommandError):
        apply_plan(plan, repo, target, TARGET_YAML)
    assert repo.active_branch.name == "main"
    assert [h.name for h in repo.heads] == ["main"]
    assert target.read_text() == TARGET_YAML
    assert not repo.is_dirty(untracked_files=True)


def test_a_dirty_working_tree_is_refused(tmp_path):
    repo = make_project(tmp_path)
    ensure_clean(repo)
    (tmp_path / "project" / "untracked.txt").write_text("fine")
    ensure_clean(repo)
    (tmp_path / "project" / "Pulumi.yaml").write_text("changed")
    with pytest.raises(PromotionRefused, match=r"uncommitted changes \(Pulumi.yaml\)"):
        ensure_clean(repo)


def test_branch_names_use_the_commit_or_a_timestamp():
    now = datetime(2026, 5, 1, 12, 30, 0, tzinfo=UTC)
    one = Plan("dev", "stg", [Change(("k",), ("a",), "main", SHA_A, "u")])
    two = Plan("dev", "stg", [Change(("k",), ("a",), "main", SHA_A, "u"), Change(("j",), ("b",), "main", SHA_B, "u")])
    assert branch_name(one, [], now) == "promote/dev-to-stg-aaaaaaa"
    assert branch_name(two, [], now) == "promote/dev-to-stg-20260501123000"
    assert branch_name(one, ["promote/dev-to-stg-aaaaaaa"], now) == "promote/dev-to-stg-aaaaaaa-20260501123000"


def test_repository_credentials_come_from_the_target_settings():
    from pydantic import SecretStr

    from settings.load import RENDER_SECRET_PLACEHOLDER

    def with_repositories(**repositories):
        return StackSettings.model_validate({"repositories": repositories}, context={"stack": "stg"})

    token = {"username": "bot", "password": SecretStr("s3cret")}
    own = with_repositories(apps={"url": "https://git.example.com/acme/apps.git", "credentials": token})
    assert commits.repository_credentials("https://git.example.com/acme/apps.git", own).password == "s3cret"
    assert commits.repository_credentials("https://git.example.com/acme/other.git", own) is None

    templates = with_repositories(
        org={"url": "https://git.example.com/acme", "credentialTemplate": True, "credentials": token},
        team={
            "url": "https://git.example.com/acme/team",
            "credentialTemplate": True,
            "credentials": {"username": "team", "password": SecretStr("t0ken")},
        },
    )
    assert commits.repository_credentials("https://git.example.com/acme/team/x.git", templates).password == "t0ken"
    assert commits.repository_credentials("https://git.example.com/acme/y.git", templates).username == "bot"

    placeholder = with_repositories(
        apps={
            "url": "https://git.example.com/acme/apps.git",
            "credentials": {"username": "bot", "password": SecretStr(RENDER_SECRET_PLACEHOLDER)},
        }
    )
    assert commits.repository_credentials("https://git.example.com/acme/apps.git", placeholder) is None
    assert commits.repository_credentials("https://git.example.com/acme/apps.git", None) is None
