"""Tree listings and app-type rules as pure functions, without git."""

import pytest

from gitsource import AppType, GitSourceError
from gitsource.app_types import app_type_of
from gitsource.tree_listing import TreeListing, normalize_repo_path

FILES = [
    "README.md",
    "apps/a/Chart.yaml",
    "apps/a/templates/x.yaml",
    "apps/b/kustomization.yaml",
    "apps/.hidden/x.yaml",
    "envs/dev/apps/api/k.yaml",
    "envs/prod/apps/api/k.yaml",
    "envs/prod/apps/web/k.yaml",
    "deep/only/nested/file.txt",
]


@pytest.fixture
def listing():
    return TreeListing(FILES)


def test_listing_parses_nul_separated_ls_tree_output_with_unusual_names():
    listing = TreeListing.from_ls_tree(b"a b/\xc3\xa9t\xc3\xa9.yaml\0a b/line\nbreak.yaml\0")
    assert listing.file_names("a b") == ["été.yaml", "line\nbreak.yaml"]


def test_directories_include_every_ancestor_of_a_file(listing):
    assert listing.is_directory("deep") and listing.is_directory("deep/only") and listing.is_directory("deep/only/nested")
    assert listing.is_directory(".")
    assert not listing.is_directory("README.md")
    assert listing.is_file("README.md") and listing.is_file("apps/a/Chart.yaml")
    assert not listing.is_file("apps/a")


def test_file_names_are_direct_children_only(listing):
    assert listing.file_names("apps/a") == ["Chart.yaml"]
    assert listing.file_names(".") == ["README.md"]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("apps/*", ["apps/.hidden", "apps/a", "apps/b"]),
        ("./apps/*/", ["apps/.hidden", "apps/a", "apps/b"]),
        ("apps/[ab]", ["apps/a", "apps/b"]),
        ("apps/?", ["apps/a", "apps/b"]),
        ("envs/*/apps/*", ["envs/dev/apps/api", "envs/prod/apps/api", "envs/prod/apps/web"]),
        ("envs/prod/apps/w*", ["envs/prod/apps/web"]),
        ("apps/a", ["apps/a"]),
        ("*", ["apps", "deep", "envs"]),
        (".", ["."]),
        ("apps/A", []),
        ("apps/*/missing/*", []),
        ("nothing/*", []),
        ("README.md", []),
    ],
)
def test_match_directories_applies_fnmatch_per_segment(listing, pattern, expected):
    assert listing.match_directories(pattern) == expected


def test_a_star_never_crosses_a_slash(listing):
    assert "apps/a/templates" not in listing.match_directories("apps/*")
    assert listing.match_directories("apps/*/*") == ["apps/a/templates"]


@pytest.mark.parametrize(("path", "expected"), [("", "."), (".", "."), ("./apps/", "apps"), ("apps//a/./b", "apps/a/b")])
def test_normalize_repo_path(path, expected):
    assert normalize_repo_path(path) == expected


@pytest.mark.parametrize("path", ["/etc", "..", "../x", "apps/../../x"])
def test_paths_outside_the_repository_are_refused(path):
    with pytest.raises(GitSourceError):
        normalize_repo_path(path)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Chart.yaml", "values.yaml"], AppType.HELM),
        (["kustomization.yaml"], AppType.KUSTOMIZE),
        (["kustomization.yml"], AppType.KUSTOMIZE),
        (["Kustomization"], AppType.KUSTOMIZE),
        (["main.jsonnet"], AppType.JSONNET),
        (["lib.libsonnet", "a.yaml"], AppType.JSONNET),
        (["a.yaml", "b.json"], AppType.DIRECTORY),
        ([], AppType.DIRECTORY),
        (["chart.yaml", "kustomization.yaml.bak"], AppType.DIRECTORY),
        # Argo CD walks files in lexical order and the last marker wins.
        (["Chart.yaml", "kustomization.yaml"], AppType.KUSTOMIZE),
        (["Chart.yaml", "Kustomization"], AppType.KUSTOMIZE),
        (["kustomization.yaml", "myChart.yaml"], AppType.HELM),
        (["Chart.yaml", "main.jsonnet"], AppType.HELM),
        (["kustomization.yaml", "main.jsonnet"], AppType.KUSTOMIZE),
    ],
)
def test_app_type_follows_argo_cd_discovery(names, expected):
    assert app_type_of(names) is expected
    assert app_type_of(reversed(names)) is expected


def test_app_type_values_are_the_strings_argo_cd_users_write():
    assert [member.value for member in AppType] == ["helm", "kustomize", "directory", "jsonnet"]
    assert AppType.HELM == "helm" and isinstance(AppType.HELM, str)
