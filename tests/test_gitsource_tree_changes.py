"""A discovery worked out from the last commit's and `git diff-tree` finds what listing the whole
tree finds, on real repositories whose branch moves in every way a tree can change."""

from __future__ import annotations

import shutil

import pytest

import gitsource.mirror
from gitsource import RepositoryCache
from gitsource.mirror import LISTINGS_DIRECTORY
from gitsource.tree_changes import TreeChanges
from tests.gitrepos import STANDARD_APPS, SourceRepository

PATTERN_SETS = [
    (["apps/*"], []),
    (["apps/*", "envs/*/apps/*"], ["apps/b*"]),
    (["*"], []),
    (["apps/[a-z/]*"], []),  # a class that can match "/": no walk by depth
    (["envs/*/apps/*"], ["envs/prod/*"]),
]

# Each step changes the tree of main: files to write (path -> content) and paths to delete.
STEPS: list[tuple[str, dict[str, str], list[str]]] = [
    ("nothing a discovery sees", {"README.md": "# moved\n", "apps/plain/extra.yaml": "kind: Secret\n"}, []),
    (
        "new folders of every kind",
        {
            "apps/new-chart/Chart.yaml": "name: new\n",
            "apps/new-chart/templates/a.yaml": "kind: A\n",
            "apps/new-kustomize/kustomization.yaml": "resources: []\n",
            "apps/new-jsonnet/lib/x.libsonnet": "{}\n",
            "apps/new-jsonnet/main.jsonnet": "{}\n",
            "apps/new-both/Chart.yaml": "name: both\n",
            "apps/new-both/kustomization.yaml": "resources: []\n",
            "apps/zz-late/zChart.yaml": "name: late\n",
            "apps/zz-late/kustomization.yaml": "resources: []\n",
            "apps/only-subfolders/deeper/deployment.yaml": "kind: A\n",
            "apps/.hidden/Chart.yaml": "name: hidden\n",
            "apps/.hidden/inner/Chart.yaml": "name: hidden\n",
            "envs/stage/apps/api/kustomization.yaml": "resources: []\n",
            "apps/bravo/deployment.yaml": "kind: A\n",
            "apps/caf\u00e9/deployment.yaml": "kind: A\n",
        },
        [],
    ),
    ("a folder removed", {}, ["apps/podinfo/kustomization.yaml", "apps/podinfo/deployment.yaml"]),
    (
        "a folder renamed",
        {path.replace("guestbook", "guestbook-2"): text for path, text in STANDARD_APPS.items() if "guestbook/" in path},
        ["apps/guestbook"],
    ),
    ("a marker added to a found folder", {"apps/plain/kustomization.yaml": "resources: []\n"}, []),
    ("a marker removed from a found folder", {}, ["apps/both/kustomization.yaml"]),
    ("a file becomes a folder", {"apps/notes/Chart.yaml": "name: notes\n"}, ["apps/notes"]),
    ("a folder becomes a file", {"apps/new-kustomize": "now a file\n"}, ["apps/new-kustomize"]),
    ("a whole top-level folder removed", {}, ["envs"]),
]


def apply(repository: SourceRepository, written: dict[str, str], deleted: list[str]) -> str:
    for path in deleted:
        target = repository.work / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    commit = repository.commit(written)
    repository.push()
    return commit


def listed_from_scratch(cache_root, url, commit, include, exclude):
    """What discovery finds with nothing stored: the whole tree listed."""
    mirror = RepositoryCache(cache_root).open(url)
    shutil.rmtree(mirror.path / LISTINGS_DIRECTORY, ignore_errors=True)
    return mirror.discover_typed(commit, include, exclude)


@pytest.fixture
def source(tmp_path):
    repository = SourceRepository(tmp_path / "source")
    repository.commit({**STANDARD_APPS, "apps/notes": "a file\n"})
    repository.push()
    return repository


def test_each_change_of_the_tree_gives_what_a_full_listing_gives(source, tmp_path, monkeypatch):
    listings = []
    real_stream_git = gitsource.mirror.stream_git
    monkeypatch.setattr("gitsource.mirror.stream_git", lambda *a, **k: listings.append(a) or real_stream_git(*a, **k))
    commit = source.head()
    for include, exclude in PATTERN_SETS:
        RepositoryCache(tmp_path / "cache").open(source.url).discover_typed(commit, include, exclude)
    listed_before = {}
    for step, written, deleted in STEPS:
        commit = apply(source, written, deleted)
        for include, exclude in PATTERN_SETS:
            expected = listed_from_scratch(tmp_path / "reference", source.url, commit, include, exclude)
            listings.clear()
            found = RepositoryCache(tmp_path / "cache").open(source.url).discover_typed(commit, include, exclude)
            assert found == expected, (step, include, exclude)
            listed_before[step, tuple(include)] = bool(listings)
    # The tree is listed again only where a found folder's type may have changed.
    assert not any(listed for (step, _), listed in listed_before.items() if not step.startswith("a marker"))
    assert listed_before["a marker added to a found folder", ("apps/*",)]


def test_a_later_commit_is_discovered_without_listing_its_tree(source, tmp_path, monkeypatch):
    first = RepositoryCache(tmp_path / "cache").open(source.url)
    first.discover_typed(source.head(), ["apps/*"])
    commit = apply(source, {"apps/fresh/Chart.yaml": "name: fresh\n"}, [])
    monkeypatch.setattr("gitsource.mirror.stream_git", lambda *a, **k: pytest.fail("the tree was listed"))
    found = RepositoryCache(tmp_path / "cache").open(source.url).discover_typed(commit, ["apps/*"])
    assert ("apps/fresh", "helm") in found and ("apps/guestbook", "helm") in found


def test_a_last_commit_the_mirror_does_not_hold_means_listing_the_tree(source, tmp_path):
    mirror = RepositoryCache(tmp_path / "cache").open(source.url)
    found = mirror.discover_typed(source.head(), ["apps/*"])
    # A mirror keeps every commit it fetched (a partial clone never prunes them): only a damaged
    # or foreign cache can name a commit it lacks as the last one discovered.
    mirror._store_discovery(("0" * 40, ("apps/*",), ()), found)
    later = apply(source, {"apps/fresh/Chart.yaml": "name: fresh\n"}, [])
    assert RepositoryCache(tmp_path / "cache").open(source.url).discover_typed(later, ["apps/*"]) == sorted(
        [*found, ("apps/fresh", "helm")]
    )


def test_diff_tree_records_say_which_entries_came_and_went():
    tree, blob, none, some = "040000", "100644", "000000", "a" * 40
    output = "".join(
        f":{before} {after} {some} {some} {status}\0{path}\0"
        for before, after, status, path in [
            (none, tree, "A", "apps/new"),
            (none, blob, "A", "apps/new/Chart.yaml"),
            (tree, none, "D", "apps/old"),
            (blob, blob, "M", "apps/kept/values.yaml"),
            (blob, tree, "T", "apps/flipped"),
            ("120000", none, "D", "apps/link"),
        ]
    ).encode()
    changes = TreeChanges.from_diff_tree(output)
    assert changes.new_trees == {"apps/new", "apps/flipped"}
    assert changes.gone_trees == {"apps/old"}
    assert changes.new_files == {"apps/new/Chart.yaml"}
    assert changes.gone_files == {"apps/flipped", "apps/link"}
