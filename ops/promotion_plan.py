"""What a promotion changes: the source stack's pinned commits (its `applications` output) against
the target's stack file, and every refusal of a promotion that must not happen."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gitsource.redaction import strip_userinfo
from ops.argocd_status import ApplicationStatus
from ops.errors import PromotionRefused
from ops.stack_file_edit import dotted, mapping_node, read_scalar

CONFIG_ROOTS = ("gitops:applications", "gitops:discovery")
_SHA = re.compile(r"^[0-9a-f]{40}$")


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
            "repository": strip_userinfo(self.repository),
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
        elif apps and mapping_node(target_yaml, app.config_path[:-1]) is not None:
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
