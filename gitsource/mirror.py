"""Questions about one mirrored repository: which commit a revision is, and what a commit holds."""

from __future__ import annotations

import hashlib
import marshal
import os
import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from gitsource.app_types import AppType
from gitsource.errors import GitSourceError, RevisionNotFound
from gitsource.git_command import GitResult, run_git, stream_git
from gitsource.tree_changes import DIFF_TREE_ARGUMENTS, TreeChanges, discovery_after
from gitsource.tree_listing import LsTreeReader, TreeListing, normalize_repo_path

_FULL_COMMIT_ID = re.compile(r"[0-9a-f]{40}")
_COMMIT_ID_PREFIX = re.compile(r"[0-9a-fA-F]{4,40}")
# Characters and sequences that git reads as revision syntax (`main~1`, `v1^{tree}`, `a..b`) and
# that no branch or tag name may contain.
_REVISION_SYNTAX = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{")
_AMBIGUOUS_CANDIDATE = re.compile(r"^hint:\s+([0-9a-f]{4,})\s", re.MULTILINE)
LISTINGS_DIRECTORY = "gitops-listings"
"""Inside a mirror: one stored listing per commit, so a later run reads no tree from git."""
_LISTING_FORMAT = 3
"""Of every file in LISTINGS_DIRECTORY: a change to what they hold, or to what type detection or
pattern matching answers, needs a new number (files of another one are worked out again)."""
_NAME_SEPARATOR = "\0"
"""Stored lists of paths are one string joined by NUL, which no git path holds: marshal writes and
reads one string many times faster than a list of a thousand."""
_TYPE_CODES = {app_type: code for code, app_type in enumerate(AppType)}
_TYPES_BY_CODE = list(AppType)
"""A stored folder's type is one byte, its AppType's place in the enum."""
_Stored = TypeVar("_Stored")
_DiscoveryKey = tuple[str, tuple[str, ...], tuple[str, ...]]
"""A commit id, the include patterns and the exclude patterns."""
REMOTE_HEAD_REF = "refs/gitops/remote-head"
"""The commit the remote's HEAD (its default branch) pointed to at the last fetch; `HEAD` means it."""


def _digest(patterns: tuple[tuple[str, ...], tuple[str, ...]]) -> str:
    return hashlib.sha256(marshal.dumps(patterns)).hexdigest()[:24]


def _names(joined: str) -> list[str]:
    return joined.split(_NAME_SEPARATOR) if joined else []


def revision_candidates(revision: str) -> list[str]:
    """What `revision` may name, in the order Argo CD's repo server tries them.

    Argo CD matches a branch before a tag of the same name, then a full ref name or HEAD, then
    takes hexadecimal text as a commit id; git's own `rev-parse` would prefer the tag. Anything
    else (`main~1`, `HEAD^`) Argo CD cannot resolve, so it names nothing here either. `HEAD` is
    the remote's HEAD as of the last fetch, never the mirror's own (which a fetch does not move).
    """
    if _REVISION_SYNTAX.search(revision):
        return []
    if revision == "HEAD":
        return [REMOTE_HEAD_REF]
    if revision.startswith("refs/"):
        return [revision]
    candidates = [f"refs/heads/{revision}", f"refs/tags/{revision}"]
    if _COMMIT_ID_PREFIX.fullmatch(revision):
        candidates.append(revision)
    return candidates


class Mirror:
    """A local bare mirror of one remote. Results are memoized: the mirror only changes on fetch."""

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path
        self._commits: dict[str, str] = {}
        self._listings: dict[str, TreeListing] = {}
        self._unstored_listings: set[str] = set()
        self._listings_directory_made = False
        self._discoveries: dict[_DiscoveryKey, list[tuple[str, AppType]]] = {}

    def __repr__(self) -> str:
        return f"Mirror(url={self.url!r}, path={str(self.path)!r})"

    def resolve(self, revision: str) -> str:
        """The 40-hex commit a branch, tag, commit id (full or >= 4 characters) or HEAD points to."""
        commit = self._commits.get(revision)
        if commit is None:
            commit = self._find_commit(revision)
            self._commits[revision] = commit
        return commit

    def has_path(self, commit: str, path: str) -> bool:
        """Whether `path` (a file or directory; "" or "." is the root) exists in `commit`."""
        listing = self._listing(commit)
        relative = normalize_repo_path(path)
        return listing.is_directory(relative) or listing.is_file(relative)

    def is_file(self, commit: str, path: str) -> bool:
        """Whether `path` is a file (not a folder) in `commit`."""
        relative = normalize_repo_path(path)
        return relative != "." and self._listing(commit).is_file(relative)

    def discover(self, commit: str, pattern: str) -> list[str]:
        """Folders of `commit` matching a pattern such as `apps/*` or `envs/*/apps/*`, sorted."""
        return [directory for directory, _ in self.discover_typed(commit, [pattern])]

    def detect_type(self, commit: str, path: str) -> AppType:
        listing = self._listing(commit)
        relative = normalize_repo_path(path)
        if not listing.is_directory(relative):
            raise GitSourceError(self._missing_directory_message(listing, commit, relative))
        return listing.app_type(relative)

    def file_names(self, commit: str, path: str) -> list[str]:
        """Names of the files directly inside the folder `path` at `commit`."""
        return self._listing(commit).file_names(normalize_repo_path(path))

    def discover_typed(self, commit: str, include: Sequence[str], exclude: Sequence[str] = ()) -> list[tuple[str, AppType]]:
        """The folders Argo CD's git directory generator yields for these patterns (see
        `TreeListing.match_folders`), each with its app type, from one listing of the tree."""
        commit_id = self._commit_id(commit)
        key = (commit_id, tuple(include), tuple(exclude))
        found = self._discoveries.get(key)
        if found is None:
            found = self._stored_discovery(key)
        if found is None:
            listing = self._known_listing(commit_id)
            if listing is None:
                found = self._discovery_since_the_latest(key)
            if found is None:
                found = (listing or self._listed_now(commit_id)).match_folders(include, exclude)
            self._store_discovery(key, found)
        self._discoveries[key] = found
        return list(found)

    def _git(self, *arguments: str, stdin: bytes | None = None) -> GitResult:
        # A GIT_DIR inherited from the caller (a hook, a CI step) must not redirect our commands.
        return run_git(arguments, cwd=self.path, environment={"GIT_DIR": str(self.path)}, stdin=stdin)

    def _find_commit(self, revision: str) -> str:
        if not revision.strip():
            raise GitSourceError(f"an empty revision cannot be resolved in {self.url}")
        candidates = revision_candidates(revision)
        # One process for every candidate: cat-file answers each stdin line with the commit id,
        # or with "missing" (also for an ambiguous short id, explained on stderr).
        query = "".join(f"{candidate}^{{commit}}\n" for candidate in candidates)
        result = self._git("cat-file", "--batch-check=%(objectname)", stdin=query.encode())
        for answer in result.stdout.decode("utf-8", errors="replace").splitlines():
            if _FULL_COMMIT_ID.fullmatch(answer):
                return answer
        if "is ambiguous" in result.stderr:
            ids = ", ".join(_AMBIGUOUS_CANDIDATE.findall(result.stderr))
            raise GitSourceError(
                f"revision '{revision}' is ambiguous in {self.url} (matches {ids}): give more characters of the commit id"
            )
        raise RevisionNotFound(f"revision '{revision}' not found in {self.url}", revision, self._ref_names())

    def _ref_names(self) -> list[str]:
        result = self._git("for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags")
        names = []
        for ref in result.stdout.decode("utf-8", errors="replace").splitlines():
            for prefix in ("refs/heads/", "refs/tags/"):
                if ref.startswith(prefix):
                    names.append(ref.removeprefix(prefix))
        return names

    def _commit_id(self, commit: str) -> str:
        # A full id skips rev-parse: one git process per listing keeps discovery near the cost
        # of `git ls-tree` itself, and ls-tree rejects an unknown id on its own.
        lowered = commit.lower()
        return lowered if _FULL_COMMIT_ID.fullmatch(lowered) else self.resolve(commit)

    def _listing(self, commit: str) -> TreeListing:
        """The listing of `commit`, stored for later runs once a question other than a discovery
        (whose own answer is stored) needs it."""
        commit_id = self._commit_id(commit)
        listing = self._known_listing(commit_id) or self._listed_now(commit_id)
        if commit_id in self._unstored_listings:
            self._unstored_listings.discard(commit_id)
            self._store_listing(commit_id, listing)
        return listing

    def _listed_now(self, commit_id: str) -> TreeListing:
        listing = self._list_tree(commit_id)
        self._listings[commit_id] = listing
        self._unstored_listings.add(commit_id)
        return listing

    def _known_listing(self, commit_id: str) -> TreeListing | None:
        """The listing of `commit_id` if this run or an earlier one made it, without asking git."""
        listing = self._listings.get(commit_id)
        if listing is None:
            listing = self._stored_listing(commit_id)
            if listing is not None:
                self._listings[commit_id] = listing
        return listing

    # A commit's tree never changes, so its listing, and the folders each set of patterns finds in
    # it, are stored once and read back by later runs.
    def _stored(self, name: str, decode: Callable[..., _Stored]) -> _Stored | None:
        """`decode(*contents)` of what `_store(name, *contents)` wrote, or None: then work it out again."""
        try:
            version, *contents = marshal.loads((self.path / LISTINGS_DIRECTORY / name).read_bytes())
            return decode(*contents) if version == _LISTING_FORMAT else None
        except (OSError, EOFError, ValueError, TypeError, KeyError, AttributeError):
            return None  # absent, or written by an interrupted run or another version

    def _store(self, name: str, *contents: object) -> None:
        # Written in place: a rename costs more than the write. A run that meets a file still being
        # written cannot decode it (marshal checks every length) and works the answer out itself,
        # and all who write one name write the same bytes.
        directory = self.path / LISTINGS_DIRECTORY
        if not self._listings_directory_made:
            directory.mkdir(exist_ok=True)
            self._listings_directory_made = True
        (directory / name).write_bytes(marshal.dumps((_LISTING_FORMAT, *contents)))

    def _stored_listing(self, commit_id: str) -> TreeListing | None:
        def decode(paths: str, directories_by_code: dict[int, str]) -> TreeListing:
            types: dict[str, AppType] = {}
            for code, directories in directories_by_code.items():
                types.update(dict.fromkeys(_names(directories), _TYPES_BY_CODE[code]))
            return TreeListing(_names(paths), types)

        return self._stored(f"{commit_id}.marshal", decode)

    def _store_listing(self, commit_id: str, listing: TreeListing) -> None:
        paths, types = listing.contents()
        directories_by_type: dict[AppType, list[str]] = {app_type: [] for app_type in AppType}
        for directory, app_type in types.items():
            directories_by_type[app_type].append(directory)
        by_code = {_TYPE_CODES[t]: _NAME_SEPARATOR.join(found) for t, found in directories_by_type.items() if found}
        self._store(f"{commit_id}.marshal", _NAME_SEPARATOR.join(paths), by_code)

    @staticmethod
    def _discovery_file(key: _DiscoveryKey) -> str:
        return f"{key[0]}.{_digest(key[1:])}.discovery.marshal"

    def _latest_discovered_commit(self, key: _DiscoveryKey) -> str | None:
        """The last commit `key`'s patterns were discovered in, if any: a later commit's discovery
        starts from its answer (tree_changes)."""
        try:
            latest = os.readlink(self._latest_pointer(key))
        except OSError:
            return None
        return latest if _FULL_COMMIT_ID.fullmatch(latest) else None

    def _latest_pointer(self, key: _DiscoveryKey) -> Path:
        return self.path / LISTINGS_DIRECTORY / f"{_digest(key[1:])}.latest"

    def _store_latest_discovered_commit(self, key: _DiscoveryKey) -> None:
        # A symbolic link whose target is the commit id, replaced in one rename: no file content
        # to write, and a reader sees the old commit or the new one, never a part of either.
        pointer = self._latest_pointer(key)
        staged = pointer.with_name(f"{pointer.name}.{os.getpid()}")
        staged.unlink(missing_ok=True)  # left by a killed run whose process id this one reuses
        os.symlink(key[0], staged)
        os.replace(staged, pointer)

    def _stored_discovery(self, key: _DiscoveryKey) -> list[tuple[str, AppType]] | None:
        def decode(patterns: tuple, directories: str, type_codes: bytes) -> list[tuple[str, AppType]] | None:
            if patterns != key[1:]:
                return None
            return list(zip(_names(directories), map(_TYPES_BY_CODE.__getitem__, type_codes), strict=True))

        return self._stored(self._discovery_file(key), decode)

    def _store_discovery(self, key: _DiscoveryKey, found: list[tuple[str, AppType]]) -> None:
        directories = _NAME_SEPARATOR.join(map(itemgetter(0), found))
        type_codes = bytes(map(_TYPE_CODES.__getitem__, map(itemgetter(1), found)))
        self._store(self._discovery_file(key), key[1:], directories, type_codes)
        self._store_latest_discovered_commit(key)

    def _discovery_since_the_latest(self, key: _DiscoveryKey) -> list[tuple[str, AppType]] | None:
        """The discovery of `key` worked out from that of the last commit the same patterns were
        discovered in and one `git diff-tree`; None when there is none to start from or it needs
        the whole tree."""
        commit_id, include, exclude = key
        latest = self._latest_discovered_commit(key)
        earlier_key = (latest, include, exclude)
        earlier = None if latest is None else self._discoveries.get(earlier_key) or self._stored_discovery(earlier_key)
        if earlier is None:
            return None
        result = self._git(*DIFF_TREE_ARGUMENTS, f"{latest}^{{commit}}", f"{commit_id}^{{commit}}")
        if not result.ok:  # a commit the mirror lacks (a damaged cache), or an unknown one: listing says which
            return None
        return discovery_after(earlier, TreeChanges.from_diff_tree(result.stdout), include, exclude)

    def _list_tree(self, commit_id: str) -> TreeListing:
        reader = LsTreeReader()
        result = stream_git(
            ["ls-tree", "-r", "-z", "--name-only", f"{commit_id}^{{commit}}"],
            cwd=self.path,
            environment={"GIT_DIR": str(self.path)},
            on_output=reader.feed,
        )
        if not result.ok:
            raise GitSourceError(f"commit {commit_id} not found in {self.url}")
        return reader.listing()

    def _missing_directory_message(self, listing: TreeListing, commit: str, path: str) -> str:
        where = f"{self.url} at {commit[:12]}"
        if listing.is_file(path):
            return f"path '{path}' in {where} is a file, not an application directory"
        return f"path '{path}' not found in {where}"
