"""Go's `path.Match`, as the ApplicationSet git directory generator applies it."""

import pytest

from gitsource import GitSourceError
from gitsource.path_match import compile_path_pattern, path_match


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        # Cases from Go's own path.Match table (src/path/match_test.go).
        ("abc", "abc", True),
        ("*", "abc", True),
        ("*c", "abc", True),
        ("a*", "a", True),
        ("a*", "abc", True),
        ("a*", "ab/c", False),
        ("a*/b", "abc/b", True),
        ("a*/b", "a/c/b", False),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", True),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", True),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", False),
        ("a*b?c*x", "abxbbxdbxebxczzx", True),
        ("a*b?c*x", "abxbbxdbxebxczzy", False),
        ("ab[c]", "abc", True),
        ("ab[b-d]", "abc", True),
        ("ab[e-g]", "abc", False),
        ("ab[^c]", "abc", False),
        ("ab[^b-d]", "abc", False),
        ("ab[^e-g]", "abc", True),
        ("a\\*b", "a*b", True),
        ("a\\*b", "ab", False),
        ("a?b", "a☺b", True),
        ("a[^a]b", "a☺b", True),
        ("a???b", "a☺b", False),
        ("a[^a][^a][^a]b", "a☺b", False),
        ("[a-ζ]*", "\u03b1", True),  # Greek alpha
        ("*[a-ζ]", "A", False),
        ("a?b", "a/b", False),
        ("a*b", "a/b", False),
        ("[\\]a]", "]", True),
        ("[\\-]", "-", True),
        ("[x\\-]", "x", True),
        ("[x\\-]", "-", True),
        ("[x\\-]", "z", False),
        ("[\\-x]", "x", True),
        ("*x", "xxx", True),
        # Where Python's fnmatch would disagree.
        ("[!h]", "!", True),
        ("[!h]", "h", True),
        ("[!h]", "a", False),
        ("[^h]", "a", True),
        ("[^h]", "h", False),
        ("a[/]b", "a/b", True),
        ("a[^x]b", "a/b", True),
        ("apps/*", "Apps/x", False),
    ],
)
def test_path_match_agrees_with_go(pattern, path, expected):
    assert path_match(pattern, path) is expected


@pytest.mark.parametrize("pattern", ["[]a]", "[-]", "[x-]", "[a-b-c]", "[", "[^", "[^bc", "a[", "\\", "a\\", "[a", "[\\"])
def test_malformed_patterns_are_errors_as_in_go(pattern):
    with pytest.raises(GitSourceError, match="is not a valid folder pattern"):
        compile_path_pattern(pattern)


def test_patterns_split_by_depth_unless_a_class_can_match_a_slash():
    assert [s.literal for s in compile_path_pattern("envs/*/apps").segments] == ["envs", None, "apps"]
    assert compile_path_pattern("a[/]b").segments is None
    assert compile_path_pattern("a[^x]b").segments is None
    assert compile_path_pattern("a[^/]b").segments is not None
