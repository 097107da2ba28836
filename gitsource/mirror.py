"""Questions about one mirrored repository: which commit a revision is, and what a commit holds."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from gitsource.app_types import AppType, app_type_of
from gitsource.errors import GitSourceError
from gitsource.git_command import GitResult, run_git
from gitsource.tree_listing import TreeListing, normalize_repo_path

_FULL_COMMIT_ID = re.compile(r"[0-9a-f]{40}")
_AMBIGUOUS_CANDIDATE = re.compile(r"^hint:\s+([0-9a-f]{4,})\s", re.MULTILINE)
MAX_SUGGESTIONS = 3


class Mirror:
    """A local bare mirror of one remote. Results are memoized: the mirror only changes on fetch."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self._commits: dict[str, str] = {}
        self._listings: dict[str, TreeListing] = {}

    def __repr__(self) -> str:
        return f"Mirror(url={self.url!r}, path={str(self.path)!r})"

    def resolve(self, revision: str) -> str:
        """The 40-hex commit a branch, tag, commit id (full or >= 4 characters) or HEAD points to."""
        commit = self._commits.get(revision)
        if commit is None:
            commit = self._rev_parse(revision)
            self._commits[revision] = commit
        return commit

    def has_path(self, commit: str, path: str) -> bool:
        """Whether `path` (a file or directory; "" or "." is the root) exists in `commit`."""
        listing = self._listing(commit)
        relative = normalize_repo_path(path)
        return listing.is_directory(relative) or listing.is_file(relative)

    def discover(self, commit: str, pattern: str) -> list[str]:
        """Directories of `commit` matching a glob such as `apps/*` or `envs/*/apps/*`, sorted."""
        return self._listing(commit).match_directories(pattern)

    def detect_type(self, commit: str, path: str) -> AppType:
        listing = self._listing(commit)
        relative = normalize_repo_path(path)
        if not listing.is_directory(relative):
            raise GitSourceError(self._missing_directory_message(listing, commit, relative))
        return app_type_of(listing.file_names(relative))

    def discover_typed(self, commit: str, pattern: str) -> list[tuple[str, AppType]]:
        """`discover` and `detect_type` together, from the same single listing of the tree."""
        listing = self._listing(commit)
        return [(directory, app_type_of(listing.file_names(directory))) for directory in listing.match_directories(pattern)]

    def _git(self, *arguments: str) -> GitResult:
        # A GIT_DIR inherited from the caller (a hook, a CI step) must not redirect our commands.
        return run_git(arguments, cwd=self.path, environment={"GIT_DIR": str(self.path)})

    def _rev_parse(self, revision: str) -> str:
        if not revision.strip():
            raise GitSourceError(f"an empty revision cannot be resolved in {self.url}")
        result = self._git("rev-parse", "--verify", "--end-of-options", f"{revision}^{{commit}}")
        if result.ok:
            return result.stdout.decode("ascii").strip()
        if "is ambiguous" in result.stderr:
            candidates = ", ".join(_AMBIGUOUS_CANDIDATE.findall(result.stderr))
            raise GitSourceError(
                f"revision '{revision}' is ambiguous in {self.url} (matches {candidates}): give more characters of the commit id"
            )
        raise GitSourceError(self._revision_not_found_message(revision))

    def _revision_not_found_message(self, revision: str) -> str:
        message = f"revision '{revision}' not found in {self.url}"
        suggestions = difflib.get_close_matches(revision, self._ref_names(), n=MAX_SUGGESTIONS)
        if suggestions:
            message += f" (did you mean {' or '.join(repr(name) for name in suggestions)}?)"
        return message

    def _ref_names(self) -> list[str]:
        result = self._git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags")
        names = []
        for ref in result.stdout.decode("utf-8", errors="replace").splitlines():
            for prefix in ("refs/heads/", "refs/tags/"):
                if ref.startswith(prefix):
                    names.append(ref.removeprefix(prefix))
        return names

    def _listing(self, commit: str) -> TreeListing:
        # A full id skips rev-parse: one git process per listing keeps discovery near the cost
        # of `git ls-tree` itself, and ls-tree rejects an unknown id on its own.
        commit_id = commit.lower() if _FULL_COMMIT_ID.fullmatch(commit.lower()) else self.resolve(commit)
        listing = self._listings.get(commit_id)
        if listing is None:
            result = self._git("ls-tree", "-r", "-z", "--name-only", f"{commit_id}^{{commit}}")
            if not result.ok:
                raise GitSourceError(f"commit {commit_id} not found in {self.url}")
            listing = TreeListing.from_ls_tree(result.stdout)
            self._listings[commit_id] = listing
        return listing

    def _missing_directory_message(self, listing: TreeListing, commit: str, path: str) -> str:
        where = f"{self.url} at {commit[:12]}"
        if listing.is_file(path):
            return f"path '{path}' in {where} is a file, not an application directory"
        return f"path '{path}' not found in {where}"
