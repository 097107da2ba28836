"""The files and directories of one commit, from one `git ls-tree -r` listing.

The listing is one sorted list of file paths. In code point order the content of a directory is
a contiguous run, from `dir + "/"` up to `dir + "0"` ("0" follows "/"): a directory question is
two binary searches, and a glob walk reads each run once, in order, with no per-file bookkeeping.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable

from gitsource.app_types import AppType, record_directory_types
from gitsource.errors import GitSourceError

ROOT = "."
_GLOB_CHARACTERS = frozenset("*?[")
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


def _segment_matcher(segment: str) -> Callable[[str, int, int], object] | None:
    """A `match(string, start, end)` for one glob segment; None when every name matches."""
    if segment == "*":
        return None
    # fnmatch.translate, not fnmatch.fnmatch: git paths are case-sensitive on every filesystem.
    return re.compile(fnmatch.translate(segment)).match


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

    def match_directories(self, pattern: str) -> list[str]:
        """Directories matching `pattern`, with fnmatch semantics applied per path segment."""
        return [directory for directory, _ in self.match_typed_directories(pattern)]

    def match_typed_directories(self, pattern: str) -> list[tuple[str, AppType]]:
        """Directories matching `pattern`, sorted, each with its app type."""
        normalized = normalize_repo_path(pattern)
        types = self._types
        if normalized == ROOT:
            return [(ROOT, types.get("", AppType.DIRECTORY))]
        *parent_segments, last_segment = normalized.split("/")
        parents: list[Block] = [("", 0, len(self._paths))]
        for segment in parent_segments:
            parents = self._child_blocks(parents, segment)
        type_of, directory_type = types.get, AppType.DIRECTORY  # enum attribute lookups are slow
        found = [(directory, type_of(directory, directory_type)) for directory, _, _ in self._child_blocks(parents, last_segment)]
        found.sort()
        return found

    def _block(self, directory: str) -> Block:
        if directory == ROOT:
            return "", 0, len(self._paths)
        start = bisect_left(self._paths, directory + "/")
        return directory, start, bisect_left(self._paths, directory + _AFTER_SLASH, start)

    def _child_blocks(self, parents: list[Block], segment: str) -> list[Block]:
        """The subdirectories of `parents` whose name matches `segment`, with their runs."""
        paths = self._paths
        children: list[Block] = []
        add_child = children.append
        if _GLOB_CHARACTERS.isdisjoint(segment):
            for parent, start, end in parents:
                child = f"{parent}/{segment}" if parent else segment
                child_start = bisect_left(paths, child + "/", start, end)
                child_end = bisect_left(paths, child + _AFTER_SLASH, child_start, end)
                if child_start < child_end:
                    add_child((child, child_start, child_end))
            return children
        matches = _segment_matcher(segment)
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
