"""AppProject rules as Argo CD applies them: its glob, URL normalisation, deny patterns, and the
answers only the cluster knows."""

import pytest

from components.project_permissions import (
    Destination,
    InvalidGlob,
    destination_permitted,
    glob_match,
    normalize_git_url,
    source_permitted,
)
from settings.applications import ProjectDestination


def allowed(*entries):
    return [ProjectDestination.model_validate(entry) for entry in entries]


@pytest.mark.parametrize(
    ("pattern", "text", "separators", "expected"),
    [
        ("https://github.com/acme/*", "https://github.com/acme/api", "/", True),
        ("https://github.com/*", "https://github.com/acme/api", "/", False),  # `*` stops at `/`
        ("https://github.com/**", "https://github.com/acme/api", "/", True),
        ("https://github.com/acme/?pi", "https://github.com/acme/api", "/", True),
        ("team-*", "team-a/b", "", True),  # destinations use no separator
        ("{dev,stg}-*", "stg-web", "", True),
        ("{dev,stg}-*", "prd-web", "", False),
        ("{a,b{c,d}}x", "bdx", "", True),
        ("[!a]pp", "bpp", "", True),
        ("[!a]pp", "app", "", False),
        ("[a-c]pp", "cpp", "", True),
        ("[abc]pp", "dpp", "", False),
        (r"team\*", "team*", "", True),
        (r"team\*", "teamx", "", False),
        ("a,b}", "a,b}", "", True),  # outside braces, `,` and `}` are plain text
    ],
)
def test_glob_matches_like_gobwas_glob(pattern, text, separators, expected):
    assert glob_match(pattern, text, separators) is expected


@pytest.mark.parametrize("pattern", ["{a,b", "[a", "[]", "a\\"])
def test_patterns_gobwas_cannot_compile_are_invalid(pattern):
    with pytest.raises(InvalidGlob):
        glob_match(pattern, "a")


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("https://GitHub.com/Acme/API.git", "https://github.com/acme/api"),
        ("  https://github.com/acme/api  ", "https://github.com/acme/api"),
        ("git@github.com:acme/api.git", "git@github.com/acme/api"),
        ("ssh://git@github.com/acme/api.git", "git@github.com/acme/api"),
        ("https://github.com/acme/{a,b}", None),  # Go's URL parser would escape the braces
    ],
)
def test_urls_are_normalised_like_argo_cd(url, normalized):
    assert normalize_git_url(url) == normalized


def test_sources_match_with_or_without_dot_git_and_in_any_case():
    assert source_permitted("https://github.com/Acme/API", ["https://github.com/acme/api.git"]) is True
    assert source_permitted("git@github.com:acme/api.git", ["git@github.com:acme/*"]) is True
    assert source_permitted("https://github.com/acme/api", ["https://github.com/other/*"]) is False


def test_a_matching_deny_entry_refuses_whatever_else_allows():
    repos = ["*", "!https://github.com/evil/*"]
    assert source_permitted("https://github.com/evil/tool.git", repos) is False
    assert source_permitted("https://github.com/acme/api", repos) is True


def test_a_deny_entry_alone_permits_every_other_repository_as_in_argo_cd():
    assert source_permitted("https://github.com/acme/api", ["!https://github.com/evil/*"]) is True


def test_an_unparseable_entry_leaves_the_decision_to_argo_cd():
    assert source_permitted("https://github.com/acme/api", ["https://github.com/acme/{api,web}"]) is None


def test_deny_namespace_refuses_only_that_namespace():
    rules = allowed({"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"})
    assert destination_permitted(Destination.of(None, None, "kube-system"), rules) is False
    assert destination_permitted(Destination.of(None, None, "team-a"), rules) is True


def test_in_cluster_matches_by_name_or_by_server():
    by_server = allowed({"server": "https://kubernetes.default.svc", "namespace": "*"})
    by_name = allowed({"name": "in-cluster", "namespace": "*"})
    assert destination_permitted(Destination.of("in-cluster", None, "a"), by_server) is True
    assert destination_permitted(Destination.of(None, "https://kubernetes.default.svc", "a"), by_name) is True
    assert destination_permitted(Destination.of(None, None, "a"), by_name) is True


def test_what_only_the_cluster_knows_is_left_to_argo_cd():
    by_server = allowed({"server": "https://kubernetes.default.svc", "namespace": "*"})
    assert destination_permitted(Destination.of("prod", None, "a"), by_server) is None
    by_name = allowed({"name": "prod", "namespace": "team-*"})
    assert destination_permitted(Destination.of(None, "https://prod.example.com", "team-a"), by_name) is None
    # ... unless the namespace alone decides, or every cluster matches.
    assert destination_permitted(Destination.of(None, "https://prod.example.com", "other"), by_name) is False
    assert destination_permitted(Destination.of("prod", None, "a"), allowed({"server": "*", "namespace": "*"})) is True


def test_a_deny_cluster_entry_refuses_its_cluster():
    rules = allowed({"server": "*", "namespace": "*"}, {"name": "!prod", "namespace": "*"})
    assert destination_permitted(Destination.of("prod", None, "a"), rules) is False
    assert destination_permitted(Destination.of(None, None, "a"), rules) is True
    # Argo CD matches an entry by name or by server: denying both, the unknown server of "prod"
    # might not be the denied one, and then that entry matches.
    both = allowed({"server": "*", "namespace": "*"}, {"name": "!prod", "server": "!https://prod.example.com", "namespace": "*"})
    assert destination_permitted(Destination.of("prod", None, "a"), both) is None


def test_project_scoped_clusters_are_left_to_argo_cd():
    rules = allowed({"server": "*", "namespace": "*"})
    assert destination_permitted(Destination.of(None, None, "a"), rules, only_project_scoped_clusters=True) is None
    assert destination_permitted(Destination.of(None, None, "a"), allowed({"server": "*", "namespace": "b"}), True) is False
