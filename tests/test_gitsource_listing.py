"""Tree listings and app-type rules as pure functions, without git."""

import pytest

from gitsource import AppType, GitSourceError
from gitsource.app_types import app_type_of
from gitsource.tree_listing import LsTreeReader, TreeListing, normalize_repo_path

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
    ".github/workflows/ci.yaml",
    "zeta/.config/x.yaml",
    "+plus/x.yaml",
]


@pytest.fixture
def listing():
    return TreeListing.from_paths(FILES)


def test_listing_parses_nul_separated_ls_tree_output_with_unusual_names():
    listing = TreeListing.from_ls_tree(b"a b/\xc3\xa9t\xc3\xa9.yaml\0a b/line\nbreak.yaml\0")
    assert listing.is_file("a b/été.yaml") and listing.is_file("a b/line\nbreak.yaml")
    assert listing.match_directories("*") == ["a b"]


def test_directories_include_every_ancestor_of_a_file(listing):
    assert listing.is_directory("deep") and listing.is_directory("deep/only") and listing.is_directory("deep/only/nested")
    assert listing.is_directory(".")
    assert not listing.is_directory("README.md")
    assert listing.is_file("README.md") and listing.is_file("apps/a/Chart.yaml")
    assert not listing.is_file("apps/a")


def test_only_files_directly_inside_decide_the_type(listing):
    assert listing.app_type("apps/a") is AppType.HELM
    assert listing.app_type("apps") is AppType.DIRECTORY
    assert listing.app_type(".") is AppType.DIRECTORY


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("apps/*", ["apps/a", "apps/b"]),
        ("apps/.hidden", []),
        ("./apps/*/", []),
        ("apps/[ab]", ["apps/a", "apps/b"]),
        ("apps/[^a]", ["apps/b"]),
        ("apps/[!a]", ["apps/a"]),
        ("apps[/]a", ["apps/a"]),
        ("apps[^x]*", ["apps/a", "apps/b"]),
        (r"apps/\a", ["apps/a"]),
        ("apps/?", ["apps/a", "apps/b"]),
        ("envs/*/apps/*", ["envs/dev/apps/api", "envs/prod/apps/api", "envs/prod/apps/web"]),
        ("envs/prod/apps/w*", ["envs/prod/apps/web"]),
        ("apps/a", ["apps/a"]),
        ("*", ["+plus", "apps", "deep", "envs", "zeta"]),
        ("*/*", ["apps/a", "apps/b", "deep/only", "envs/dev", "envs/prod"]),
        (".github/*", []),
        ("[.z]*", ["zeta"]),
        ("[.z]*[/]*", []),
        (".", []),
        ("", []),
        ("apps/A", []),
        ("apps/*/missing/*", []),
        ("nothing/*", []),
        ("README.md", []),
    ],
)
def test_match_directories_follows_go_path_match_and_skips_hidden_folders(listing, pattern, expected):
    assert listing.match_directories(pattern) == expected


def test_excluded_patterns_win_over_included_ones(listing):
    assert listing.match_folders(["apps/*", "envs/*/apps/*"], exclude=["envs/dev/*/*", "apps/b"]) == [
        ("apps/a", AppType.HELM),
        ("envs/prod/apps/api", AppType.DIRECTORY),
        ("envs/prod/apps/web", AppType.DIRECTORY),
    ]


def test_folders_under_a_hidden_folder_are_never_found():
    listing = TreeListing.from_paths([".github/workflows/ci.yaml", ".ci/apps/x/k.yaml", "apps/x/kustomization.yaml"])
    assert listing.match_directories("*") == ["apps"]
    assert listing.match_directories("*/*") == ["apps/x"]
    assert listing.match_directories("*/*/*") == []
    assert listing.match_directories("[.a]*/x") == ["apps/x"]


def test_file_names_are_the_files_directly_inside(listing):
    assert listing.file_names("apps/a") == ["Chart.yaml"]
    assert listing.file_names(".") == ["README.md"]


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
    assert [member.value for member in AppType] == ["helm", "kustomize", "directory", "jsonnet", "plugin"]
    assert AppType.HELM == "helm" and isinstance(AppType.HELM, str)


def ls_tree_output(paths):
    return "".join(f"{path}\0" for path in paths).encode()


@pytest.mark.parametrize("chunk_size", [1, 3, 7, 64, 10_000])
def test_reader_gives_the_same_listing_whatever_the_chunking(chunk_size):
    paths = sorted(
        ["apps/b/Chart.yaml", "apps/b/main.jsonnet", "apps/c/a.jsonnet", "apps/c/kustomization.yaml", "apps/d/x.yaml", "é/ü.yaml"]
    )
    output = ls_tree_output(paths)
    reader = LsTreeReader()
    for start in range(0, len(output), chunk_size):
        reader.feed(output[start : start + chunk_size])
    listing = reader.listing()
    assert listing.match_folders(["*/*"]) == TreeListing.from_paths(paths).match_folders(["*/*"])
    assert listing.match_folders(["apps/*"]) == [
        ("apps/b", AppType.HELM),
        ("apps/c", AppType.KUSTOMIZE),
        ("apps/d", AppType.DIRECTORY),
    ]
    assert listing.is_file("é/ü.yaml") and listing.is_directory("é")


def test_reader_types_a_directory_whose_files_span_two_chunks():
    first, second = ls_tree_output(["apps/a/Chart.yaml"]), ls_tree_output(["apps/a/z.jsonnet"])
    reader = LsTreeReader()
    reader.feed(first)
    reader.feed(second)
    assert reader.listing().app_type("apps/a") is AppType.HELM
    reader = LsTreeReader()
    reader.feed(ls_tree_output(["apps/a/a.jsonnet"]))
    reader.feed(ls_tree_output(["apps/a/kustomization.yaml"]))
    assert reader.listing().app_type("apps/a") is AppType.KUSTOMIZE


def test_reader_sorts_names_git_orders_differently_than_python():
    # In git's byte order; \xff is not UTF-8 and decodes to a surrogate escape (U+DCFF), which
    # sorts before U+FFFD, so these two must be re-sorted for the binary searches to find them.
    output = b"a/\xef\xbf\xbd.yaml\0a/\xff.yaml\0b/kustomization.yaml\0"
    listing = LsTreeReader()
    listing.feed(output)
    result = listing.listing()
    assert result.is_file("a/\udcff.yaml") and result.is_file("a/\ufffd.yaml")
    assert result.match_folders(["*"]) == [("a", AppType.DIRECTORY), ("b", AppType.KUSTOMIZE)]


def test_reader_accepts_output_without_a_final_separator():
    reader = LsTreeReader()
    reader.feed(b"apps/a/Chart.yaml\0apps/b/x.yaml")
    assert reader.listing().match_folders(["apps/*"]) == [("apps/a", AppType.HELM), ("apps/b", AppType.DIRECTORY)]


def test_sibling_names_sharing_a_prefix_are_matched_and_sorted():
    paths = ["app-x/a.yaml", "app/Chart.yaml", "app.d/k.yaml", "app/sub/y.yaml", "apps/kustomization.yaml"]
    typed = TreeListing.from_paths(paths).match_folders(["*"])
    assert typed == [
        ("app", AppType.HELM),
        ("app-x", AppType.DIRECTORY),
        ("app.d", AppType.DIRECTORY),
        ("apps", AppType.KUSTOMIZE),
    ]
    assert TreeListing.from_paths(paths).match_directories("app*/sub") == ["app/sub"]
