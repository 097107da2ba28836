"""Paths, discovery patterns and app types, read from a real mirror."""

import pytest
from gitrepos import STANDARD_APPS, git, standard_app_repository

from gitsource import AppType, GitSourceError, RepositoryCache

STANDARD_APP_TYPES = {
    "apps/both": AppType.KUSTOMIZE,
    "apps/capital": AppType.KUSTOMIZE,
    "apps/guestbook": AppType.HELM,
    "apps/legacy": AppType.KUSTOMIZE,
    "apps/libs-only": AppType.JSONNET,
    "apps/monitoring": AppType.JSONNET,
    "apps/plain": AppType.DIRECTORY,
    "apps/podinfo": AppType.KUSTOMIZE,
}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("source"))


@pytest.fixture(scope="module")
def mirror(source, tmp_path_factory):
    return RepositoryCache(tmp_path_factory.mktemp("cache")).open(source.url)


@pytest.fixture(scope="module")
def main(mirror):
    return mirror.resolve("main")


@pytest.mark.parametrize(
    "path", ["", ".", "apps", "apps/guestbook", "apps/guestbook/", "./apps/guestbook", "apps/guestbook/Chart.yaml"]
)
def test_existing_paths(mirror, main, path):
    assert mirror.has_path(main, path)


@pytest.mark.parametrize("path", ["apps/missing", "apps/guest", "Apps/guestbook", "apps/guestbook/Chart.yml"])
def test_missing_paths(mirror, main, path):
    assert not mirror.has_path(main, path)


def test_paths_depend_on_the_commit(mirror, main):
    initial = mirror.resolve("v0.9.0")
    assert mirror.has_path(initial, "README.md")
    assert not mirror.has_path(initial, "apps")
    assert mirror.has_path(main, "apps")
    assert not mirror.has_path(mirror.resolve("release-1.0"), "apps/plain/configmap.yaml")
    assert mirror.has_path(main, "apps/plain/configmap.yaml")


def test_revision_names_are_accepted_where_a_commit_is_expected(mirror):
    assert mirror.has_path("main", "apps/plain/configmap.yaml")
    assert mirror.discover("v0.9.0", "apps/*") == []


def test_unknown_commit_is_a_clean_error(source, mirror):
    with pytest.raises(GitSourceError, match=f"commit {'f' * 40} not found in {source.url}"):
        mirror.discover("f" * 40, "apps/*")


def test_discover_matches_a_single_level_pattern(mirror, main):
    assert mirror.discover(main, "apps/*") == sorted(STANDARD_APP_TYPES)


def test_discover_matches_a_nested_pattern(mirror, main):
    assert mirror.discover(main, "envs/*/apps/*") == ["envs/dev/apps/api", "envs/prod/apps/api", "envs/prod/apps/web"]
    assert mirror.discover(main, "envs/prod/apps/*") == ["envs/prod/apps/api", "envs/prod/apps/web"]


def test_discover_without_a_match_is_empty(mirror, main):
    assert mirror.discover(main, "charts/*") == []
    assert mirror.discover(main, "apps/*/nothing") == []


@pytest.mark.parametrize(("path", "expected"), sorted(STANDARD_APP_TYPES.items()))
def test_detect_type_for_each_kind(mirror, main, path, expected):
    assert mirror.detect_type(main, path) is expected


def test_detect_type_of_nested_and_root_directories(mirror, main):
    assert mirror.detect_type(main, "envs/prod/apps/web") is AppType.HELM
    assert mirror.detect_type(main, "./envs/dev/apps/api/") is AppType.KUSTOMIZE
    # A chart in a subdirectory does not make its parent a chart.
    assert mirror.detect_type(main, "apps") is AppType.DIRECTORY
    assert mirror.detect_type(main, ".") is AppType.DIRECTORY


def test_detect_type_of_a_missing_path_or_a_file_is_an_error(source, mirror, main):
    with pytest.raises(GitSourceError, match=rf"path 'apps/missing' not found in {source.url} at {main[:12]}"):
        mirror.detect_type(main, "apps/missing")
    with pytest.raises(GitSourceError, match="is a file, not an application directory"):
        mirror.detect_type(main, "apps/guestbook/Chart.yaml")


def test_discover_typed_agrees_with_discover_and_detect_type(mirror, main):
    assert mirror.discover_typed(main, ["apps/*"]) == sorted(STANDARD_APP_TYPES.items())
    nested = mirror.discover_typed(main, ["envs/*/apps/*"])
    assert nested == [(path, mirror.detect_type(main, path)) for path in mirror.discover(main, "envs/*/apps/*")]


def test_listing_matches_git_ls_tree(source, mirror, main):
    listed = git("ls-tree", "-r", "--name-only", main, cwd=source.work).splitlines()
    assert set(listed) == set(STANDARD_APPS) | {"apps/plain/configmap.yaml"}
    assert all(mirror.has_path(main, path) for path in listed)


def test_one_listing_per_commit_serves_every_question(mirror, main, monkeypatch):
    mirror.discover(main, "apps/*")

    def no_more_git(*arguments, **_options):
        pytest.fail(f"git ran again: {arguments}")

    monkeypatch.setattr(mirror, "_git", no_more_git)
    monkeypatch.setattr("gitsource.mirror.stream_git", no_more_git)
    mirror.discover_typed(main, ["envs/*/apps/*"])
    mirror.detect_type(main, "apps/guestbook")
    assert mirror.has_path(main, "README.md")
    assert mirror.discover("main", "apps/*") == sorted(STANDARD_APP_TYPES)


def test_memoized_discovery_cannot_be_changed_by_a_caller(mirror, main):
    first = mirror.discover_typed(main, ["apps/*"])
    first.clear()
    mirror.discover(main, "apps/*").clear()
    assert mirror.discover_typed(main, ["apps/*"]) == sorted(STANDARD_APP_TYPES.items())
