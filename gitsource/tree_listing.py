"""The files and directories of one commit, from one `git ls-tree -r` listing.

The listing is one sorted list of file paths. In code point order the content of a directory is
a contiguous run, from `dir + "/"` up to `dir + "0"` ("0" follows "/"): a directory question is
two binary searches, and a glob walk reads each run once, in order, with no per-file bookkeeping.
"""

from __future__ import annotations

import posixpath
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import repeat

from gitsource.app_types import AppType, record_directory_types
from gitsource.errors import GitSourceError
from gitsource.path_match import PathPattern, Segment, compile_path_pattern

ROOT = "."
# The character right after "/" in code point order: `dir + _AFTER_SLASH` sorts after every
# path inside `dir/`.
_AFTER_SLASH = "0"

# A directory's run in the sorted paths: (directory, first index, end index); the root is "".
Block = tuple[str, int, int]


def normalize_repo_path(path: str) -> str:
    """A repository-relative path without `./`, trailing `/` or `..`; the root is "."."""
    stripped = path.strip()
    if not stripped or stripped == ROOT:
        return ROOT
    if stripped.startswith("/"):
        raise GitSourceError(f"path '{path}' must be relative to the repository root")
    normalized = posixpath.normpath(stripped)
    if normalized == ".." or normalized.startswith("../"):
        raise GitSourceError(f"path '{path}' points outside the repository")
    return normalized


class TreeListing:
    """Every file path of a commit, sorted, answering directory questions by binary search."""

    def __init__(self, sorted_paths: list[str], directory_types: dict[str, AppType]) -> None:
        """Use `from_paths`, `from_ls_tree` or `LsTreeReader`, which sort and type the paths."""
        self._paths = sorted_paths
        self._types = directory_types

    @classmethod
    def from_paths(cls, file_paths: Iterable[str]) -> TreeListing:
        paths = sorted(file_paths)
        types: dict[str, AppType] = {}
        record_directory_types(paths, types)
        return cls(paths, types)

    @classmethod
    def from_ls_tree(cls, output: bytes) -> TreeListing:
        """Parse complete `git ls-tree -r -z --name-only` output."""
        reader = LsTreeReader()
        reader.feed(output)
        return reader.listing()

    def contents(self) -> tuple[list[str], dict[str, AppType]]:
        """The sorted file paths and the typed directories, as `__init__` takes them."""
        return self._paths, self._types

    def is_directory(self, path: str) -> bool:
        if path == ROOT:
            return True
        _, start, end = self._block(path)
        return start < end

    def is_file(self, path: str) -> bool:
        index = bisect_left(self._paths, path)
        return index < len(self._paths) and self._paths[index] == path

    def app_type(self, directory: str) -> AppType:
        return self._types.get("" if directory == ROOT else directory, AppType.DIRECTORY)

    def file_names(self, directory: str) -> list[str]:
        """Names of the files directly inside `directory`, in code point order."""
        _, start, end = self._block(directory)
        offset = 0 if directory == ROOT else len(directory) + 1
        return [path[offset:] for path in self._paths[start:end] if "/" not in path[offset:]]

    def match_directories(self, pattern: str) -> list[str]:
        """`match_folders` for one pattern, without the types."""
        return [directory for directory, _ in self.match_folders([pattern])]

    def match_folders(
        self, include: Sequence[str | PathPattern], exclude: Sequence[str | PathPattern] = ()
    ) -> list[tuple[str, AppType]]:
        """The folders the ApplicationSet git directory generator yields for these patterns, sorted,
        each with its app type.

        Mirrors Argo CD's `GetGitDirectories` (reposerver/repository/repository.go), which lists
        every folder of the commit except the root and anything inside a folder whose name starts
        with ".", and `GitGenerator.filterApps` (applicationset/generators/git.go): a folder is
        kept when some `include` pattern matches it with Go's `path.Match` and no `exclude` one does.
        """
        includes = [_compiled(pattern) for pattern in include]
        # One include (the usual case) matches each folder once: no set needed to merge them.
        matched = self._matching(includes[0]) if len(includes) == 1 else set().union(*map(self._matching, includes))
        kept = sorted(_without_excluded_or_hidden(matched, exclude))
        return list(zip(kept, map(self._types.get, kept, repeat(AppType.DIRECTORY)), strict=True))

    def _matching(self, pattern: PathPattern) -> list[str]:
        if pattern.segments is None:
            # A class in the pattern can match "/": no walk by depth, test every folder.
            return [directory for directory in self._all_directories() if pattern.matches(directory)]
        parents: list[Block] = [("", 0, len(self._paths))]
        for segment in pattern.segments:
            parents = self._child_blocks(parents, segment)
        return [directory for directory, _, _ in parents]

    def _all_directories(self) -> set[str]:
        directories: set[str] = set()
        for path in self._paths:
            slash = path.rfind("/")
            while slash > 0:
                directory = path[:slash]
                if directory in directories:
                    break  # and so are all its ancestors
                directories.add(directory)
                slash = path.rfind("/", 0, slash)
        return directories

    def _block(self, directory: str) -> Block:
        if directory == ROOT:
            return "", 0, len(self._paths)
        start = bisect_left(self._paths, directory + "/")
        return directory, start, bisect_left(self._paths, directory + _AFTER_SLASH, start)

    def _child_blocks(self, parents: list[Block], segment: Segment) -> list[Block]:
        """The subdirectories of `parents` whose name matches `segment`, with their runs."""
        paths = self._paths
        children: list[Block] = []
        add_child = children.append
        if segment.literal is not None:
            name = segment.literal
            if not name:
                return children
            for parent, start, end in parents:
                child = f"{parent}/{name}" if parent else name
                child_start = bisect_left(paths, child + "/", start, end)
                child_end = bisect_left(paths, child + _AFTER_SLASH, child_start, end)
                if child_start < child_end:
                    add_child((child, child_start, child_end))
            return children
        matches = None if segment.matcher is None else segment.matcher.match
        find_end, after_slash = bisect_left, _AFTER_SLASH  # locals: this loop is discovery's hot path
        # One step per subdirectory, whatever the number of files inside it: a binary search
        # skips the rest of its run.
        for parent, start, end in parents:
            offset = len(parent) + 1 if parent else 0
            index = start
            while index < end:
                path = paths[index]
                slash = path.find("/", offset)
                if slash < 0:
                    index += 1
                    continue
                child = path[:slash]
                child_end = find_end(paths, child + after_slash, index + 1, end)
                if matches is None or matches(path, offset, slash):
                    add_child((child, index, child_end))
                index = child_end
        return children


def select_folders(directories: Iterable[str], include: Sequence[str], exclude: Sequence[str] = ()) -> list[str]:
    """The folders among `directories` that `match_folders` yields for these patterns, unsorted."""
    candidates = list(directories)
    matched = set().union(*(filter(_compiled(pattern).regex.fullmatch, candidates) for pattern in include))
    return _without_excluded_or_hidden(matched, exclude)


def _without_excluded_or_hidden(matched: Iterable[str], exclude: Sequence[str | PathPattern]) -> list[str]:
    excludes = [_compiled(pattern) for pattern in exclude]
    if excludes:
        matched = [directory for directory in matched if not any(pattern.matches(directory) for pattern in excludes)]
    # Hidden folders (a name starting with ".") and all inside them are skipped. One search of
    # all the names together says whether any is; the rest runs in C, once per folder.
    if _has_hidden_name("\0".join(matched)):
        matched = [directory for directory in matched if not _has_hidden_name(directory)]
    return list(matched)


def _has_hidden_name(paths: str) -> bool:
    """Whether a path (or one of several joined by NUL) has a name that starts with "."."""
    return paths.startswith(".") or "/." in paths or "\0." in paths


def _compiled(pattern: str | PathPattern) -> PathPattern:
    return pattern if isinstance(pattern, PathPattern) else compile_path_pattern(pattern)


class LsTreeReader:
    """Builds a TreeListing from `git ls-tree -r -z --name-only` output as it arrives.

    git writes paths in byte order of the full path, which is code point order while every name
    is ASCII: then each chunk is split and typed as it comes, while git still walks the tree.
    Other names are sorted and typed once the output is complete.
    """

    def __init__(self) -> None:
        self._paths: list[str] = []
        self._types: dict[str, AppType] = {}
        self._incomplete_record = b""
        self._in_order = True

    def feed(self, chunk: bytes) -> None:
        complete, _, self._incomplete_record = (self._incomplete_record + chunk).rpartition(b"\0")
        if not complete:
            return
        records = complete.decode("utf-8", errors="surrogateescape").split("\0")
        self._paths.extend(records)
        self._in_order = self._in_order and complete.isascii()
        if self._in_order:
            record_directory_types(records, self._types)

    def listing(self) -> TreeListing:
        if self._incomplete_record:
            self.feed(b"\0")
        if self._in_order:
            return TreeListing(self._paths, self._types)
        return TreeListing.from_paths(self._paths)
