"""A commit's discovered folders worked out from an earlier commit's and the changes between them.

When a branch moves, most of its tree stays as it was. `git diff-tree -r -t` names every entry
added, removed or changed between two commits, trees included, in one git process whose output
is as small as the change: the folders an earlier discovery found, corrected by that list, are
what listing the whole new tree would find.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat

from gitsource.app_types import TYPE_FILE_SUFFIXES, AppType, record_directory_types
from gitsource.tree_listing import select_folders

DIFF_TREE_ARGUMENTS = ("diff-tree", "-r", "-t", "-z", "--no-renames")
"""Raw output, NUL-separated, recursive, with tree entries; a rename is a removal and an addition."""
_TREE_MODE = "040000"
_NO_ENTRY = "000000"


@dataclass(frozen=True)
class TreeChanges:
    """The entries of the later tree that the earlier one did not have, and the reverse. A file
    is any entry but a tree (a symlink or a submodule too), as in `git ls-tree -r`."""

    new_trees: frozenset[str]
    gone_trees: frozenset[str]
    new_files: frozenset[str]
    gone_files: frozenset[str]

    @classmethod
    def from_diff_tree(cls, output: bytes) -> TreeChanges:
        """Parse `git diff-tree` output made with DIFF_TREE_ARGUMENTS: `:mode mode id id status`
        and the path, each ended by NUL."""
        fields = output.decode("utf-8", errors="surrogateescape").split("\0")[:-1]  # each field ends with NUL
        records, paths = fields[0::2], fields[1::2]
        before = _entries(paths, [record[1:7] for record in records])
        after = _entries(paths, [record[8:14] for record in records])
        return cls(
            frozenset(after[0] - before[0]),
            frozenset(before[0] - after[0]),
            frozenset(after[1] - before[1]),
            frozenset(before[1] - after[1]),
        )


def _entries(paths: list[str], modes: list[str]) -> tuple[set[str], set[str]]:
    """The trees and the files among `paths`, given each one's mode on one side of the diff."""
    trees = set(compress(paths, map(_TREE_MODE.__eq__, modes)))
    present = set(compress(paths, map(_NO_ENTRY.__ne__, modes)))
    return trees, present - trees


def discovery_after(
    found: Sequence[tuple[str, AppType]], changes: TreeChanges, include: Sequence[str], exclude: Sequence[str] = ()
) -> list[tuple[str, AppType]] | None:
    """What `TreeListing.match_folders(include, exclude)` gives for the later tree, from what it
    gave for the earlier one (`found`); None when only the whole later tree can tell.

    A folder's type depends on the names of the files directly inside it, so a found folder that
    gains or loses a type-deciding file needs the full list of its files. A folder new in the
    later tree has only new files, all of them in `changes`.
    """
    changed = [*changes.new_files, *changes.gone_files]
    for path in compress(changed, map(str.endswith, changed, repeat(TYPE_FILE_SUFFIXES))):
        folder = path.rpartition("/")[0]
        if folder not in changes.gone_trees and _is_found(found, folder):
            return None
    kept = [entry for entry in found if entry[0] not in changes.gone_trees] if changes.gone_trees else list(found)
    new_files = sorted(changes.new_files)
    types: dict[str, AppType] = {}
    record_directory_types(new_files, types)  # a new folder's files are all new
    added = []
    for folder in select_folders(changes.new_trees, include, exclude):
        # A tree holding no file at all (git's own commands never write one) is no folder to list.
        first_inside = bisect_left(new_files, folder + "/")
        if first_inside < len(new_files) and new_files[first_inside].startswith(folder + "/"):
            added.append((folder, types.get(folder, AppType.DIRECTORY)))
    return sorted(kept + added) if added else kept


def _is_found(found: Sequence[tuple[str, AppType]], folder: str) -> bool:
    """Whether `folder` is one of `found`, which is sorted by folder."""
    index = bisect_left(found, (folder,))
    return index < len(found) and found[index][0] == folder
