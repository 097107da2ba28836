"""Resolving every kind of revision against a real mirror."""

import pytest
from gitrepos import git, repository_with_many_commits, standard_app_repository

from gitsource import GitSourceError, RepositoryCache, RevisionNotFound
from gitsource.mirror import revision_candidates


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def mirror(source, tmp_path_factory):
    return RepositoryCache(tmp_path_factory.mktemp("cache")).open(source.url)


def commit_of(source, revision):
    return git("rev-parse", f"{revision}^{{commit}}", cwd=source.work)


def test_branch_resolves_to_its_tip(source, mirror):
    assert mirror.resolve("main") == source.head()
    assert mirror.resolve("release-1.0") == commit_of(source, "release-1.0")
    assert mirror.resolve("release-1.0") != mirror.resolve("main")


def test_lightweight_tag_resolves_to_its_commit(source, mirror):
    assert mirror.resolve("v0.9.0") == commit_of(source, "v0.9.0")


def test_annotated_tag_is_peeled_to_the_commit_not_the_tag_object(source, mirror):
    tag_object = git("rev-parse", "refs/tags/v1.0.0", cwd=source.work)
    resolved = mirror.resolve("v1.0.0")
    assert resolved == commit_of(source, "v1.0.0")
    assert resolved != tag_object
    assert mirror.resolve(tag_object) == resolved


def test_full_and_short_commit_ids_resolve(source, mirror):
    release = commit_of(source, "release-1.0")
    assert mirror.resolve(release) == release
    assert mirror.resolve(release.upper()) == release
    assert mirror.resolve(release[:7]) == release
    assert mirror.resolve(release[:4]) == release


def test_head_is_the_remote_default_branch(source, mirror):
    assert mirror.resolve("HEAD") == source.head()


def test_fully_qualified_refs_resolve(source, mirror):
    assert mirror.resolve("refs/heads/release-1.0") == commit_of(source, "release-1.0")
    assert mirror.resolve("refs/tags/v1.0.0") == commit_of(source, "v1.0.0")


def test_unknown_revision_names_the_url_and_the_branches_and_tags_to_suggest(source, mirror):
    with pytest.raises(RevisionNotFound) as raised:
        mirror.resolve("mian")
    assert str(raised.value) == f"revision 'mian' not found in {source.url}"
    assert (raised.value.revision, sorted(raised.value.names)) == ("mian", ["main", "release-1.0", "v0.9.0", "v1.0.0"])


@pytest.mark.parametrize(
    "revision",
    ["zzz-nothing-like-it", "0" * 40, "abc", "-h", "--all", "main:README.md", "main~1", "HEAD^", "v1.0.0^{tree}", "nope\nmain"],
)
def test_revisions_that_are_no_commit_are_not_found(mirror, revision):
    with pytest.raises(GitSourceError, match=r"not found in file://"):
        mirror.resolve(revision)


def test_a_tree_id_is_not_a_commit(source, mirror):
    tree = git("rev-parse", "main^{tree}", cwd=source.work)
    with pytest.raises(GitSourceError, match="not found"):
        mirror.resolve(tree)


def test_empty_revision_is_refused(mirror):
    with pytest.raises(GitSourceError, match="empty revision"):
        mirror.resolve("  ")


def test_ambiguous_short_id_lists_the_candidates(tmp_path):
    # 1,000 commits make a shared 4-character prefix practically certain; the fixed dates make
    # the ids, and so the chosen prefix, the same on every run.
    source = repository_with_many_commits(tmp_path / "many", 1000)
    ids = git("rev-list", "main", cwd=source.work).split()
    prefixes = [commit[:4] for commit in ids]
    shared = next(prefix for prefix in prefixes if prefixes.count(prefix) > 1)
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    with pytest.raises(GitSourceError, match=rf"revision '{shared}' is ambiguous .* \(matches {shared}\w*, {shared}\w*"):
        mirror.resolve(shared)
    unique = next(commit for commit in ids if prefixes.count(commit[:4]) == 1)
    assert mirror.resolve(unique[:4]) == unique


def test_resolution_is_memoized(source, mirror, monkeypatch):
    mirror.resolve("release-1.0")
    monkeypatch.setattr(mirror, "_git", lambda *arguments: pytest.fail(f"git ran again: {arguments}"))
    assert mirror.resolve("release-1.0") == commit_of(source, "release-1.0")


def test_a_branch_wins_over_a_tag_of_the_same_name_as_in_argo_cd(tmp_path):
    source = standard_app_repository(tmp_path / "source")
    tagged = commit_of(source, "v0.9.0")
    source.tag("main", tagged)
    source.push()
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    assert mirror.resolve("main") == source.head() != tagged
    assert mirror.resolve("refs/tags/main") == tagged


@pytest.mark.parametrize(
    ("revision", "candidates"),
    [
        ("main", ["refs/heads/main", "refs/tags/main"]),
        ("cafe", ["refs/heads/cafe", "refs/tags/cafe", "cafe"]),
        ("HEAD", ["refs/gitops/remote-head"]),
        ("refs/tags/v1", ["refs/tags/v1"]),
        ("main~1", []),
        ("a..b", []),
        ("main@{1}", []),
    ],
)
def test_revision_candidates_follow_argo_cd_order(revision, candidates):
    assert revision_candidates(revision) == candidates
