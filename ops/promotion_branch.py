"""The promotion's branch: the edited stack file committed on a new branch of the checkout, or
nothing changed at all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import git

from ops.errors import OpsError, PromotionRefused
from ops.promotion_plan import Plan
from ops.report import unified_diff
from ops.stack_file_edit import edit_revisions, write_atomically


@dataclass(frozen=True)
class Promotion:
    """What `apply_plan` did."""

    branch: str
    commit: str
    diff: str
    message: str


def open_repository(root: Path) -> git.Repo:
    try:
        return git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise OpsError(f"{root} is not a git checkout") from None


def ensure_clean(repo: git.Repo) -> None:
    """Refuse with staged or unstaged changes to tracked files (untracked files do not matter:
    only the target stack file is committed)."""
    if repo.head.is_valid() and repo.is_dirty(index=True, working_tree=True, untracked_files=False):
        changed = sorted({d.a_path for d in repo.index.diff(None)} | {d.a_path for d in repo.index.diff("HEAD")})
        raise PromotionRefused(f"the working tree has uncommitted changes ({', '.join(changed[:5])}): commit or stash them first")


def branch_name(plan: Plan, existing: Sequence[str], now: datetime | None = None) -> str:
    commits = {change.new for change in plan.changes}
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    suffix = next(iter(commits))[:7] if len(commits) == 1 else stamp
    name = f"promote/{plan.source}-to-{plan.target}-{suffix}"
    if name in existing:
        name = f"{name}-{stamp}"
    return name


def commit_message(plan: Plan) -> str:
    lines = [f"Promote {plan.source} → {plan.target}", ""]
    for change in plan.changes:
        lines.append(f"- {', '.join(change.apps)}: {change.old or '(unset)'} → {change.new}")
    return "\n".join(lines) + "\n"


def apply_plan(plan: Plan, repo: git.Repo, target_file: Path, target_yaml: str) -> Promotion:
    """Write the new revisions into the target stack file on a new branch and commit it there.
    On any failure the branch is removed and the checkout is back where it was."""
    root = Path(repo.working_tree_dir or ".")
    relative = target_file.resolve().relative_to(root.resolve()).as_posix()
    edited = edit_revisions(target_yaml, {c.config_path: c.new for c in plan.changes})
    diff = unified_diff(target_yaml, edited, relative)
    message = commit_message(plan)
    name = branch_name(plan, [head.name for head in repo.heads])
    previous = repo.active_branch if not repo.head.is_detached else repo.head.commit
    branch = repo.create_head(name)
    try:
        branch.checkout()
        write_atomically(target_file, edited)
        repo.git.add("--", relative)
        repo.git.commit("--quiet", "-m", message, "--", relative)
    except BaseException:
        repo.git.reset("--quiet", "HEAD", "--", relative)
        write_atomically(target_file, target_yaml)
        repo.git.checkout("--quiet", str(previous))
        repo.delete_head(branch, force=True)
        raise
    return Promotion(branch=name, commit=repo.head.commit.hexsha, diff=diff, message=message)
