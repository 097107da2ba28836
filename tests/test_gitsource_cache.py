"""Cloning, reusing and refreshing mirrors, and failing cleanly when a remote is unreachable."""

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from gitrepos import SourceRepository, git, mirror_config, standard_app_repository

import gitsource.mirror
from gitsource import Credentials, GitSourceError, RepositoryCache
from gitsource.cache import default_cache_root, mirror_directory_name

TOKEN = "s3cr3t-token-value"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def source(tmp_path):
    return standard_app_repository(tmp_path / "source")


def test_first_open_clones_a_bare_blobless_mirror_of_branches_tags_and_the_remote_head(source, tmp_path):
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    assert mirror.url == source.url
    assert mirror.path.parent == tmp_path / "cache"
    assert git("rev-parse", "--is-bare-repository", cwd=mirror.path, environment={"GIT_DIR": str(mirror.path)}) == "true"
    config = mirror_config(mirror.path)
    assert f"remote.origin.url={source.url}" in config
    assert "remote.origin.fetch=+refs/heads/*:refs/heads/*" in config
    assert "remote.origin.fetch=+refs/tags/*:refs/tags/*" in config
    assert "remote.origin.partialclonefilter=blob:none" in config
    refs = git("for-each-ref", "--format=%(refname)", cwd=mirror.path, environment={"GIT_DIR": str(mirror.path)}).split()
    assert sorted(refs) == [
        "refs/gitops/remote-head",
        "refs/heads/main",
        "refs/heads/release-1.0",
        "refs/tags/v0.9.0",
        "refs/tags/v1.0.0",
    ]
    assert sorted(os.listdir(tmp_path / "cache")) == [mirror.path.name, f"{mirror.path.name}.lock"]


def test_mirror_directory_name_is_readable_and_unique_per_url():
    name = mirror_directory_name("https://github.com/org/repo.git")
    assert name.startswith("github.com_org_repo.git-")
    assert len(name.rsplit("-", 1)[1]) == 12
    assert name != mirror_directory_name("https://github.com/org/repo")
    assert mirror_directory_name("git@github.com:org/repo.git").startswith("github.com_org_repo.git-")
    assert "/" not in mirror_directory_name("file:///tmp/a b/../c")


def test_cache_root_comes_from_the_environment_or_the_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "configured"))
    assert default_cache_root() == tmp_path / "configured"
    assert RepositoryCache().root == tmp_path / "configured"
    monkeypatch.delenv("GITOPS_GIT_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_root() == tmp_path / "home" / ".cache" / "gitops" / "git"


def test_a_new_cache_on_the_same_root_fetches_instead_of_cloning(source, tmp_path):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    marker = first.path / "clone-marker"
    marker.write_text("a re-clone would remove this file")
    inode = first.path.stat().st_ino
    new_commit = source.commit({"apps/new/kustomization.yaml": "resources: []\n"})
    source.push()

    second = RepositoryCache(tmp_path / "cache").open(source.url)

    assert second.path == first.path
    assert second.path.stat().st_ino == inode
    assert marker.exists()
    assert second.resolve("main") == new_commit
    assert "apps/new" in second.discover(new_commit, "apps/*")


def test_one_cache_fetches_each_url_at_most_once(source, tmp_path):
    cache = RepositoryCache(tmp_path / "cache")
    mirror = cache.open(source.url)
    before = mirror.resolve("main")
    source.commit({"late.txt": "late\n"})
    source.push()
    assert cache.open(source.url) is mirror
    assert cache.open(f"  {source.url}  ") is mirror
    assert mirror.resolve("main") == before
    assert RepositoryCache(tmp_path / "cache").open(source.url).resolve("main") == source.head()


def test_fetch_follows_force_pushes_deleted_branches_and_moved_tags(source, tmp_path):
    RepositoryCache(tmp_path / "cache").open(source.url)
    git("branch", "--delete", "--force", "release-1.0", cwd=source.work)
    source.tag("v0.9.0", "main")
    source.push()
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    assert mirror.resolve("v0.9.0") == source.head()
    with pytest.raises(GitSourceError, match=r"revision 'release-1\.0' not found"):
        mirror.resolve("release-1.0")


def test_an_incomplete_mirror_directory_is_cloned_again(source, tmp_path):
    cache_root = tmp_path / "cache"
    broken = cache_root / mirror_directory_name(source.url)
    broken.mkdir(parents=True)
    (broken / "leftover").write_text("half a clone\n")
    mirror = RepositoryCache(cache_root).open(source.url)
    assert not (broken / "leftover").exists()
    assert mirror.resolve("main") == source.head()


def test_staging_directories_of_killed_clones_are_removed(source, tmp_path):
    cache_root = tmp_path / "cache"
    name = mirror_directory_name(source.url)
    leftover = cache_root / f".{name}.abandoned"
    leftover.mkdir(parents=True)
    (leftover / "objects").mkdir()
    RepositoryCache(cache_root).open(source.url)
    assert sorted(os.listdir(cache_root)) == [name, f"{name}.lock"]


def test_missing_remote_fails_naming_the_url_and_the_reason(tmp_path):
    url = (tmp_path / "nowhere.git").as_uri()
    with pytest.raises(GitSourceError) as raised:
        RepositoryCache(tmp_path / "cache").open(url)
    message = str(raised.value)
    assert message.startswith(f"cannot clone {url}: ")
    assert "does not appear to be a git repository" in message
    assert "\n" not in message
    assert os.listdir(tmp_path / "cache") == [f"{mirror_directory_name(url)}.lock"]
    assert not (tmp_path / "cache" / mirror_directory_name(url)).exists()


def test_unreachable_host_error_never_shows_the_credentials(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://bob:{TOKEN}@127.0.0.1:{port}/org/repo.git"
    with pytest.raises(GitSourceError) as raised:
        RepositoryCache(tmp_path / "cache").open(url, Credentials(username="bob", password=TOKEN))
    message = str(raised.value)
    assert message.startswith(f"cannot clone http://127.0.0.1:{port}/org/repo.git: ")
    assert "Failed to connect" in message or "Could not connect" in message
    assert TOKEN not in message and TOKEN not in repr(raised.value) and "bob:" not in message


def test_remote_that_disappears_fails_the_fetch(source, tmp_path):
    RepositoryCache(tmp_path / "cache").open(source.url)
    source.remote.rename(source.remote.with_name("moved.git"))
    with pytest.raises(GitSourceError, match=rf"^cannot fetch {source.url}: .*does not appear to be a git repository"):
        RepositoryCache(tmp_path / "cache").open(source.url)


def test_a_silent_server_times_out_instead_of_hanging(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/repo.git"
        started = time.monotonic()
        with pytest.raises(GitSourceError, match=rf"^cannot clone {url}: timed out after 0.5 s$"):
            RepositoryCache(tmp_path / "cache", network_timeout=0.5).open(url)
    assert time.monotonic() - started < 10


def test_credentials_in_the_url_or_given_never_reach_the_mirror_config(source, tmp_path):
    userinfo_url = source.url.replace("file://", f"file://bob:{TOKEN}@")
    cache = RepositoryCache(tmp_path / "cache")
    mirror = cache.open(userinfo_url, Credentials(username="bob", password=TOKEN))
    assert mirror.url == source.url
    assert TOKEN not in mirror_config(mirror.path)
    assert TOKEN not in repr(mirror)
    for path in mirror.path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


def test_two_processes_opening_the_same_url_share_one_mirror(source, tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from gitsource import RepositoryCache
        print(RepositoryCache({str(tmp_path / "cache")!r}).open({source.url!r}).resolve("main"))
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [process.communicate(timeout=60) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], results
    assert [out.strip() for out, _ in results] == [source.head(), source.head()]
    entries = sorted(os.listdir(tmp_path / "cache"))
    name = mirror_directory_name(source.url)
    assert entries == [name, f"{name}.lock"]


def test_empty_remote_can_be_mirrored_but_has_no_revisions(tmp_path):
    empty = SourceRepository(tmp_path / "empty")
    mirror = RepositoryCache(tmp_path / "cache").open(empty.url)
    with pytest.raises(GitSourceError, match="revision 'HEAD' not found"):
        mirror.resolve("HEAD")


def test_a_later_run_reads_a_commits_listing_from_disk_without_asking_git(source, tmp_path, monkeypatch):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    commit = first.resolve("main")
    expected = first.discover_typed(commit, ["apps/*"])
    assert first.has_path(commit, "apps")

    def no_git_listing(*args, **kwargs):
        raise AssertionError("the tree was listed again")

    monkeypatch.setattr("gitsource.mirror.stream_git", no_git_listing)
    later = RepositoryCache(tmp_path / "cache").open(source.url)
    assert later.discover_typed(commit, ["apps/*"]) == expected
    assert later.has_path(commit, "apps") and not later.has_path(commit, "missing")


def test_what_a_later_run_reads_from_disk_is_what_git_gave(source, tmp_path, monkeypatch):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    commit = first.resolve("main")
    folders = [folder for folder, _ in first.discover_typed(commit, ["apps/*"])]
    answers = {folder: (first.detect_type(commit, folder), first.file_names(commit, folder)) for folder in folders}
    assert len({app_type for app_type, _ in answers.values()}) > 1 and first.discover_typed(commit, ["nothing/*"]) == []

    monkeypatch.setattr("gitsource.mirror.stream_git", lambda *a, **k: pytest.fail("the tree was listed again"))
    later = RepositoryCache(tmp_path / "cache").open(source.url)
    assert {folder: (later.detect_type(commit, folder), later.file_names(commit, folder)) for folder in folders} == answers
    assert later.discover_typed(commit, ["nothing/*"]) == []


def test_a_discovery_alone_stores_what_it_found_and_not_the_listing(source, tmp_path, monkeypatch):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    commit = first.resolve("main")
    first.discover_typed(commit, ["apps/*"])
    stored = sorted(path.name.removesuffix(".marshal").rpartition(".")[2] for path in (first.path / "gitops-listings").iterdir())
    assert stored == ["discovery", "latest"]
    listings = []
    real_stream_git = gitsource.mirror.stream_git
    monkeypatch.setattr("gitsource.mirror.stream_git", lambda *a, **k: listings.append(a) or real_stream_git(*a, **k))
    later = RepositoryCache(tmp_path / "cache").open(source.url)
    assert later.has_path(commit, "apps") and later.is_file(commit, "README.md")
    assert len(listings) == 1
    assert len(list((first.path / "gitops-listings").iterdir())) == 3  # the listing, stored once a question needed it


def test_a_damaged_stored_listing_is_listed_again(source, tmp_path):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    commit = first.resolve("main")
    expected = first.discover_typed(commit, ["apps/*"])
    assert first.has_path(commit, "apps")
    stored = sorted((first.path / "gitops-listings").iterdir())
    assert len(stored) == 3  # the listing, what apps/* found in it, and the commit it was last found in
    for path in stored:
        path.write_bytes(b"\x00 truncated")
    assert RepositoryCache(tmp_path / "cache").open(source.url).discover_typed(commit, ["apps/*"]) == expected


def test_a_later_run_reads_what_each_set_of_patterns_found_from_disk(source, tmp_path, monkeypatch):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    commit = first.resolve("main")
    everything = first.discover_typed(commit, ["apps/*"])
    some = first.discover_typed(commit, ["apps/*"], exclude=[everything[0][0]])

    def no_listing(*args, **kwargs):
        raise AssertionError("the listing was read again")

    monkeypatch.setattr("gitsource.mirror.Mirror._listing", no_listing)
    later = RepositoryCache(tmp_path / "cache").open(source.url)
    assert later.discover_typed(commit, ["apps/*"]) == everything
    assert later.discover_typed(commit, ["apps/*"], exclude=[everything[0][0]]) == some == everything[1:]


def missing_objects(mirror_path: Path) -> set[str]:
    """Objects the mirror knows of but never downloaded (listing them fetches nothing)."""
    listed = git("rev-list", "--objects", "--all", "--missing=print", cwd=mirror_path, environment={"GIT_DIR": str(mirror_path)})
    return {line[1:] for line in listed.splitlines() if line.startswith("?")}


def test_head_follows_the_remote_default_branch_on_every_fetch(source, tmp_path):
    cache_root = tmp_path / "cache"
    assert RepositoryCache(cache_root).open(source.url).resolve("HEAD") == source.head()
    release = git("rev-parse", "release-1.0", cwd=source.work)
    source.set_default_branch("release-1.0")
    assert RepositoryCache(cache_root).open(source.url).resolve("HEAD") == release
    source.set_default_branch("main")
    assert RepositoryCache(cache_root).open(source.url).resolve("HEAD") == source.head()


def test_a_remote_head_naming_a_deleted_branch_leaves_head_unresolvable_and_the_rest_readable(source, tmp_path):
    cache_root = tmp_path / "cache"
    RepositoryCache(cache_root).open(source.url)
    source.set_default_branch("gone")
    mirror = RepositoryCache(cache_root).open(source.url)
    with pytest.raises(GitSourceError, match="revision 'HEAD' not found"):
        mirror.resolve("HEAD")
    assert mirror.resolve("main") == source.head()


def test_a_large_unused_branch_is_not_downloaded_and_answers_stay_the_same(source, tmp_path):
    source.switch_orphan("gh-pages")
    packaged = source.commit({"index.yaml": "entries: {}\n", "charts/app-1.0.0.tgz": "x" * 200_000}, "charts")
    big_blob = git("rev-parse", f"{packaged}:charts/app-1.0.0.tgz", cwd=source.work)
    source.switch("main")
    source.push()
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    assert big_blob in missing_objects(mirror.path)
    assert mirror.resolve("gh-pages") == packaged
    assert mirror.has_path(packaged, "charts/app-1.0.0.tgz")
    assert mirror.discover("main", "apps/*")
    assert big_blob in missing_objects(mirror.path)  # listing and discovery read no file contents
