"""Promotion: carry the commits a stack runs into the next stack's stack file, on a new branch.

The source stack's `applications` output says which commit each application resolved to and
where in a stack file that revision is configured (`configPath`). `plan_promotion` decides what
changes and refuses what must not happen; `edit_revisions` rewrites only those revision values;
`apply_plan` writes the file atomically and commits it. Only `run_promote` touches Pulumi.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import git
from rich.console import Console
from rich.text import Text
from ruamel.yaml import YAML, YAMLError
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from gitsource import GitSourceError, RepositoryCache
from ops import automation, report
from ops.automation import OpsError, redact_url
from ops.drift import ApplicationStatus, application_statuses

CONFIG_ROOTS = ("gitops:applications", "gitops:discovery")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_STR_TAG = "tag:yaml.org,2002:str"


class PromotionRefused(OpsError):
    """A promotion that must not happen; nothing has been written."""


@dataclass(frozen=True)
class SourceApp:
    """One entry of the source stack's `applications` output."""

    name: str
    requested: str
    commit: str
    repository: str
    config_path: tuple[str | int, ...]


@dataclass(frozen=True)
class Change:
    """One revision value to rewrite in the target stack file (shared by every app listed)."""

    config_path: tuple[str | int, ...]
    apps: tuple[str, ...]
    old: str
    new: str
    repository: str

    @property
    def key(self) -> str:
        return dotted(self.config_path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "apps": list(self.apps),
            "key": self.key,
            "configPath": list(self.config_path),
            "old": self.old,
            "new": self.new,
            "repository": redact_url(self.repository),
        }


@dataclass
class Plan:
    source: str
    target: str
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    """Apps whose target revision already is the source commit."""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "changes": [c.to_dict() for c in self.changes],
            "unchanged": self.unchanged,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Promotion:
    """What `apply_plan` did."""

    branch: str
    commit: str
    diff: str
    message: str


# --- deciding ---------------------------------------------------------------------------------


def check_stage(source: str, target: str, target_settings: Any) -> None:
    """The target's `promotion.source` names the only stack it accepts promotions from."""
    if source == target:
        raise PromotionRefused(f"cannot promote stack {source!r} onto itself")
    accepted = target_settings.promotion.source
    if accepted is None:
        raise PromotionRefused(f"stack {target!r} accepts no promotions: gitops:promotion.source is not set in its stack file")
    if accepted != source:
        raise PromotionRefused(
            f"promotion {source} → {target} refused: {target} accepts promotions only from {accepted} "
            f"(gitops:promotion.source); skipping a stage is refused"
        )


def parse_source_apps(outputs: Mapping[str, Any], source: str) -> dict[tuple[str, int], SourceApp]:
    """The `applications` output of the source stack (an Automation API OutputMap or plain dict):
    one SourceApp per pinned git source. An entry with `sources` (a multi-source application)
    gives one per pinned source, all under the application's name; a source whose commit is null
    (a chart version, a branch Argo CD follows) has nothing to promote."""
    if "applications" not in outputs:
        raise PromotionRefused(f"stack {source!r} exports no `applications` output: deploy it first")
    output = outputs["applications"]
    if getattr(output, "secret", False):
        raise PromotionRefused(
            f"stack {source!r} marks its `applications` output secret; promoting it would write it in plain text"
        )
    value = getattr(output, "value", output)
    if not isinstance(value, Mapping):
        raise PromotionRefused(f"stack {source!r}: the `applications` output is not a mapping")
    apps = {}
    for name, entry in value.items():
        if not isinstance(entry, Mapping):
            raise PromotionRefused(f"stack {source!r}: applications.{name} is not a mapping")
        sources = entry.get("sources", [entry])
        if not isinstance(sources, list) or not all(isinstance(item, Mapping) for item in sources):
            raise PromotionRefused(f"stack {source!r}: applications.{name}.sources is not a list of mappings")
        for index, item in enumerate(sources):
            where = f"applications.{name}" + (f".sources[{index}]" if "sources" in entry else "")
            pinned = _source_app(str(name), item, where, source)
            if pinned is not None:
                apps[(str(name), index)] = pinned
    return apps


def _source_app(name: str, entry: Mapping[str, Any], where: str, source: str) -> SourceApp | None:
    if entry.get("commit") is None and "commit" in entry:
        return None
    commit = str(entry.get("commit") or "")
    path = entry.get("configPath")
    if not _SHA.match(commit):
        raise PromotionRefused(f"stack {source!r}: {where}.commit is not a 40-hex commit")
    if (
        not isinstance(path, (list, tuple))
        or len(path) < 2
        or path[0] not in CONFIG_ROOTS
        or not all((isinstance(p, str) and p) or (isinstance(p, int) and not isinstance(p, bool)) for p in path)
    ):
        raise PromotionRefused(f"stack {source!r}: {where}.configPath is not a path under {' or '.join(CONFIG_ROOTS)}")
    return SourceApp(
        name=name,
        requested=str(entry.get("requested") or ""),
        commit=commit,
        repository=str(entry.get("repository") or ""),
        config_path=tuple(path),
    )


def plan_promotion(
    source: str,
    target: str,
    source_outputs: Mapping[str, Any],
    source_statuses: Mapping[str, ApplicationStatus],
    target_settings: Any,
    target_yaml: str,
    apps: Sequence[str] = (),
    force: bool = False,
) -> Plan:
    """Which revision values of the target stack file change, or PromotionRefused.

    Without `apps`, every application of the source that the target also configures is promoted;
    one the target does not configure is skipped with a note. A named app must exist on both sides.
    """
    check_stage(source, target, target_settings)
    pinned = parse_source_apps(source_outputs, source)
    known = sorted({app.name for app in pinned.values()})
    unknown = [name for name in apps if name not in known]
    if unknown:
        raise PromotionRefused(
            f"unknown app {unknown[0]!r}: stack {source!r} exports no such application (known: {', '.join(known) or 'none'})"
        )
    plan = Plan(source, target)
    chosen = dict.fromkeys(apps) if apps else known
    selected = [app for name in chosen for (app_name, _), app in sorted(pinned.items()) if app_name == name]
    present = []
    for app in selected:
        if read_scalar(target_yaml, app.config_path) is not None:
            present.append(app)
        elif apps and _mapping_node(target_yaml, app.config_path[:-1]) is not None:
            raise PromotionRefused(
                f"stack {target!r} configures {dotted(app.config_path[:-1])} without `{app.config_path[-1]}:`; "
                "add one (any value) to promote into it"
            )
        elif apps:
            raise PromotionRefused(
                f"unknown app {app.name!r} in stack {target!r}: its stack file has no {dotted(app.config_path)}"
            )
        else:
            plan.notes.append(f"{app.name}: skipped, stack {target} does not configure {dotted(app.config_path)}")

    present_names = dict.fromkeys(app.name for app in present)
    not_ready = [describe_status(name, source_statuses.get(name)) for name in present_names]
    not_ready = [problem for problem in not_ready if problem]
    if not_ready and not force:
        raise PromotionRefused(f"source stack {source!r} is not ready: {'; '.join(not_ready)} (--force promotes anyway)")
    plan.notes.extend(f"forced: {problem}" for problem in not_ready)

    by_path: dict[tuple[str | int, ...], list[SourceApp]] = {}
    for app in present:
        by_path.setdefault(app.config_path, []).append(app)
    for path, group in by_path.items():
        commits = sorted({app.commit for app in group})
        if len(commits) > 1:
            raise PromotionRefused(
                f"apps {', '.join(a.name for a in group)} share {dotted(path)} but run different commits "
                f"in stack {source!r} ({', '.join(c[:12] for c in commits)})"
            )
        old = read_scalar(target_yaml, path) or ""
        names = tuple(app.name for app in group)
        if old == commits[0]:
            plan.unchanged.extend(names)
            continue
        plan.changes.append(Change(path, names, old, commits[0], group[0].repository))
    return plan


def describe_status(app: str, status: ApplicationStatus | None) -> str:
    """Why an app is not fit to promote from, or "" when it is Synced and Healthy."""
    if status is None:
        return f"{app} has no Argo CD Application in the state"
    if status.ready:
        return ""
    return f"{app} is {status.sync}/{status.health}"


def statuses_by_app(statuses: Sequence[ApplicationStatus]) -> dict[str, ApplicationStatus]:
    found: dict[str, ApplicationStatus] = {}
    for status in statuses:
        found.setdefault(status.name, status)
    return found


# --- the repositories -------------------------------------------------------------------------


def repository_credentials(url: str, settings: Any) -> Any:
    """The git credentials a stack configures for `url`, chosen as the program chooses them
    (`components.app_sources.repository_credentials`). None when there are none, or when a secret
    is only the placeholder of a stack file read without its GITOPS_SECRET_* variables (the git
    credential helpers of the machine are then left to do the job)."""
    from components.app_sources import repository_credentials as configured_credentials
    from components.app_sources import to_git_credentials
    from settings.load import RENDER_SECRET_PLACEHOLDER

    chosen = configured_credentials(url, getattr(settings, "repositories", None) or {})
    if chosen is None:
        return None

    credentials = to_git_credentials(chosen)
    secrets = (credentials.password, credentials.ssh_private_key, credentials.github_app_private_key)
    return None if RENDER_SECRET_PLACEHOLDER in secrets else credentials


def commit_checker(settings: Any = None) -> Callable[[str, str], bool]:
    """A `(url, commit) -> bool` telling whether the repository holds the commit on one of its
    branches or tags, read through one mirror cache for the whole run, with the credentials
    `settings` configure for the repository."""
    cache = RepositoryCache()

    def has_commit(url: str, sha: str) -> bool:
        try:
            mirror = cache.open(url, repository_credentials(url, settings))
        except GitSourceError as error:
            raise OpsError(f"cannot read repository {redact_url(url)}: {error}") from None
        try:
            return mirror.resolve(sha) == sha
        except GitSourceError:
            return False

    return has_commit


def repository_has_commit(url: str, sha: str) -> bool:
    return commit_checker()(url, sha)


def verify_commits(plan: Plan, has_commit: Callable[[str, str], bool] = repository_has_commit) -> None:
    for change in plan.changes:
        if not change.repository:
            raise PromotionRefused(f"{', '.join(change.apps)}: the source output names no repository")
        if not has_commit(change.repository, change.new):
            raise PromotionRefused(
                f"{', '.join(change.apps)}: repository {redact_url(change.repository)} does not contain commit {change.new}"
            )


# --- the stack file ---------------------------------------------------------------------------


def dotted(config_path: Sequence[str | int]) -> str:
    """A config path as the stack file's keys read: gitops:applications.app.sources[1].revision."""
    text = ""
    for part in config_path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _node(text: str, config_path: Sequence[str | int]) -> Any:
    node = YAML(typ="rt").compose(text)
    for key in ("config", *config_path):
        if isinstance(key, int):
            if not isinstance(node, SequenceNode) or not 0 <= key < len(node.value):
                return None
            node = node.value[key]
            continue
        if not isinstance(node, MappingNode):
            return None
        node = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == key), None)
    return node


def _scalar_node(text: str, config_path: Sequence[str | int]) -> ScalarNode | None:
    node = _node(text, config_path)
    return node if isinstance(node, ScalarNode) else None


def _mapping_node(text: str, config_path: Sequence[str | int]) -> MappingNode | None:
    node = _node(text, config_path)
    return node if isinstance(node, MappingNode) else None


def read_scalar(text: str, config_path: Sequence[str | int]) -> str | None:
    """The value at `config:` → config_path in a stack file, None when absent or not a scalar."""
    node = _scalar_node(text, config_path)
    return None if node is None else str(node.value)


def _render(value: str, style: str | None) -> str:
    """The YAML token for `value` in the quoting style the old value had; a plain scalar that YAML
    would read as something other than a string (all digits, 1e10) is double-quoted instead."""
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or str(YAML().resolver.resolve(ScalarNode, value, (True, False))) != _STR_TAG:
        return json.dumps(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/+-]*", value):
        return json.dumps(value)
    return value


def edit_revisions(text: str, updates: Mapping[tuple[str | int, ...], str]) -> str:
    """The stack file with the scalars at each config path replaced and every other byte kept.

    The round-trip loader's node marks say where each old value starts and ends; the new value is
    spliced in there in the old value's quoting style. (Dumping the round-trip document would be the
    usual way, but it re-flows long lines and can re-indent, and reviewers should see only revisions
    change.) The result is parsed again and must equal the old data with just these values changed.
    """
    spans = []
    for path, value in updates.items():
        node = _scalar_node(text, path)
        if node is None:
            raise PromotionRefused(f"{dotted(path)} is not a scalar in the stack file")
        if getattr(node, "anchor", None):
            raise PromotionRefused(f"{dotted(path)} is a YAML anchor shared with other keys; write the value out")
        if node.style in ("|", ">") or node.start_mark.line != node.end_mark.line:
            raise PromotionRefused(f"{dotted(path)} spans several lines; write it on one line to promote it")
        token = _render(value, node.style)
        start, end = node.start_mark.index, node.end_mark.index
        if start == end and text[start - 1 : start] == ":":
            token = " " + token
        spans.append((start, end, token))
    edited = text
    for start, end, token in sorted(spans, reverse=True):
        edited = edited[:start] + token + edited[end:]

    expected = YAML(typ="safe").load(text) or {}
    for path, value in updates.items():
        holder = expected["config"]
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value
    try:
        reread = YAML(typ="safe").load(edited)
    except YAMLError as error:
        raise PromotionRefused(f"editing the stack file would break it: {error}") from None
    if reread != expected:
        raise PromotionRefused("editing the stack file would change more than the revisions (YAML anchors?)")
    return edited


def write_atomically(path: Path, text: str) -> None:
    """Write via a temporary file in the same directory and os.replace: a reader (or an interrupted
    run) sees the old file or the new one, never a part."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- git --------------------------------------------------------------------------------------


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
    from ops.report import unified_diff

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


# --- the command ------------------------------------------------------------------------------


def run_promote(
    source: str,
    target: str,
    apps: Sequence[str],
    force: bool,
    as_json: bool,
    out: Console,
    err: Console,
) -> int:
    """`python -m ops promote`: 0 promoted (or nothing to promote), 1 refused or failed."""
    try:
        root = automation.project_root()
        target_file = automation.stack_file(root, target)
        automation.stack_file(root, source)
        repo = open_repository(root)
        ensure_clean(repo)
        target_settings = automation.load_settings(target_file)
        check_stage(source, target, target_settings)
        target_yaml = target_file.read_text(encoding="utf-8")

        stack = automation.open_stack(source, root)
        err.print(Text(f"refreshing stack {source}", style="dim"), soft_wrap=True)
        with automation.automation_errors(source):
            stack.refresh(color="never")
            outputs = stack.outputs()
            deployment = stack.export_stack()
        statuses = statuses_by_app(application_statuses(deployment))
        plan = plan_promotion(source, target, outputs, statuses, target_settings, target_yaml, apps, force)
        if plan.changes:
            verify_commits(plan, commit_checker(target_settings))
    except OpsError as error:
        err.print(Text(f"error: {error}", style="red"), soft_wrap=True)
        if as_json:
            report.write_json(out, {"source": source, "target": target, "status": "refused", "error": str(error)})
        return 1

    if not plan.changes:
        if as_json:
            report.write_json(out, {**plan.to_dict(), "status": "unchanged", "branch": None, "commit": None})
        else:
            report.print_plan(plan, out)
            out.print(f"nothing to promote: {target} already runs the commits of {source}")
        return 0

    try:
        promotion = apply_plan(plan, repo, target_file, target_yaml)
    except (OpsError, git.GitCommandError, OSError) as error:
        err.print(Text(f"error: promotion failed, nothing changed: {error}", style="red"), soft_wrap=True)
        return 1

    if as_json:
        document = {
            **plan.to_dict(),
            "status": "promoted",
            "branch": promotion.branch,
            "commit": promotion.commit,
            "diff": promotion.diff,
        }
        report.write_json(out, document)
    else:
        report.print_plan(plan, out)
        report.print_diff(promotion.diff, out)
        out.print(f"committed {promotion.commit[:12]} on branch {promotion.branch}")
    return 0
