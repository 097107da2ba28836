"""The files and directories of one commit, built from one `git ls-tree -r` listing."""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable

from gitsource.errors import GitSourceError

ROOT = "."
_GLOB_CHARACTERS = frozenset("*?[")


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
    """Every file of a commit, indexed by directory so lookups and glob matching are cheap."""

    def __init__(self, file_paths: Iterable[str]) -> None:
        # The root is keyed "" internally so joining a child is `parent + "/" + name` elsewhere.
        self._files_in: dict[str, list[str]] = {}
        self._subdirectories: dict[str, set[str]] = {"": set()}
        for file_path in file_paths:
            parent, _, name = file_path.rpartition("/")
            names = self._files_in.get(parent)
            if names is None:
                self._files_in[parent] = [name]
                self._register_directory(parent)
            else:
                names.append(name)

    @classmethod
    def from_ls_tree(cls, output: bytes) -> TreeListing:
        """Parse `git ls-tree -r -z --name-only` output."""
        text = output.decode("utf-8", errors="surrogateescape")
        return cls(path for path in text.split("\0") if path)

    def _register_directory(self, directory: str) -> None:
        # Every known directory is already linked to its parent, so the walk up stops at the
        # first known ancestor and each directory is linked exactly once.
        self._subdirectories.setdefault(directory, set())
        while directory:
            parent, _, name = directory.rpartition("/")
            siblings = self._subdirectories.get(parent)
            if siblings is not None:
                siblings.add(name)
                return
            self._subdirectories[parent] = {name}
            directory = parent

    @staticmethod
    def _key(path: str) -> str:
        return "" if path == ROOT else path

    def is_directory(self, path: str) -> bool:
        return self._key(path) in self._subdirectories

    def is_file(self, path: str) -> bool:
        parent, _, name = self._key(path).rpartition("/")
        return name in self._files_in.get(parent, ())

    def file_names(self, directory: str) -> list[str]:
        """Names of the files directly inside `directory` (not in its subdirectories)."""
        return list(self._files_in.get(self._key(directory), ()))

    def match_directories(self, pattern: str) -> list[str]:
        """Directories matching `pattern`, with fnmatch semantics applied per path segment."""
        normalized = normalize_repo_path(pattern)
        if normalized == ROOT:
            return [ROOT]
        candidates = [""]
        for segment in normalized.split("/"):
            candidates = self._children_matching(candidates, segment)
            if not candidates:
                return []
        return sorted(candidates)

    def _children_matching(self, parents: list[str], segment: str) -> list[str]:
        matches: list[str] = []
        if _GLOB_CHARACTERS.isdisjoint(segment):
            for parent in parents:
                if segment in self._subdirectories[parent]:
                    matches.append(f"{parent}/{segment}" if parent else segment)
            return matches
        # fnmatchcase: git paths are case-sensitive whatever the local filesystem is.
        matches_segment = re.compile(fnmatch.translate(segment)).match
        for parent in parents:
            for name in self._subdirectories[parent]:
                if matches_segment(name):
                    matches.append(f"{parent}/{name}" if parent else name)
        return matches
