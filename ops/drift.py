"""Drift: what differs between a stack's program and its cluster, and what Argo CD reports.

`detect_drift` refreshes the stack (the state takes in what the cluster really holds), previews
with `expect_no_changes` and reads the refreshed state. Everything that interprets what Pulumi
returns is a pure function over the SDK's own types (`EngineEvent`, `StepEventMetadata`,
`Deployment`), so tests feed them directly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi.automation import CommandError, Deployment, EngineEvent, OpType, StepEventMetadata
from rich.console import Console
from rich.text import Text
from typer.core import TyperCommand

from ops import automation
from ops.automation import OpsError
from ops.report import drift_markdown, print_drift, write_json

APPLICATION_TYPE = "kubernetes:argoproj.io/v1alpha1:Application"

# Properties the cluster or the Kubernetes provider change on their own; a diff there is not drift.
NOISE_PATHS: tuple[tuple[str, ...], ...] = (
    ("status",),
    ("metadata", "resourceVersion"),
    ("metadata", "managedFields"),
    ("metadata", "generation"),
    ("metadata", "uid"),
    ("metadata", "creationTimestamp"),
    ("metadata", "selfLink"),
    ("metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"),
    ("metadata", "annotations", "deployment.kubernetes.io/revision"),
)

# Steps that change nothing in the cluster.
_QUIET_OPS = {
    OpType.SAME,
    OpType.READ,
    OpType.REFRESH,
    OpType.DISCARD,
    OpType.DISCARD_REPLACED,
    OpType.REMOVE_PENDING_REPLACE,
}
_REPLACE_OPS = {OpType.REPLACE, OpType.CREATE_REPLACEMENT, OpType.DELETE_REPLACED, OpType.READ_REPLACEMENT}
# The stack resource only carries outputs; an output that changes is not a cluster difference.
_IGNORED_TYPES = {"pulumi:pulumi:Stack"}

# The CLI's message when `--expect-no-changes` meets changes (preview: "...were proposed",
# up/refresh: "...occurred"); newer CLIs also exit with code 7 for it.
_EXPECTED_CHANGES = re.compile(r"no changes were expected")


@dataclass(frozen=True)
class PropertyChange:
    path: str
    kind: str


@dataclass(frozen=True)
class ResourceDrift:
    urn: str
    type: str
    name: str
    operation: str
    changes: tuple[PropertyChange, ...] = ()
    ignored: tuple[str, ...] = ()
    """Changed paths left out as noise (kept so a report can say what it skipped)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "operation": self.operation,
            "changes": [{"path": c.path, "kind": c.kind} for c in self.changes],
            "ignored": list(self.ignored),
        }


# Argo CD's health of an application whose resources do not run as git declares them.
UNHEALTHY = frozenset({"Degraded", "Missing"})


@dataclass(frozen=True)
class ApplicationStatus:
    name: str
    namespace: str
    sync: str
    health: str
    revision: str
    urn: str = ""
    errors: tuple[str, ...] = ()
    """Argo CD's error conditions, `Type: message`: ComparisonError (it could not read or render the
    source), SyncError (an automated sync failed), InvalidSpecError, ..."""
    details: tuple[str, ...] = ()
    """The resources Argo CD finds out of sync."""

    @property
    def out_of_sync(self) -> bool:
        return self.sync == "OutOfSync"

    @property
    def drifted(self) -> bool:
        """Argo CD says the application does not run what git holds: out of sync, degraded or
        missing, or in error. An application Argo CD has not looked at yet (no status) is not."""
        return self.out_of_sync or self.health in UNHEALTHY or bool(self.errors)

    @property
    def message(self) -> str:
        """Argo CD's own words on what is wrong, "" when nothing is."""
        return "; ".join((*self.errors, *self.details))

    @property
    def ready(self) -> bool:
        """What a promotion needs from its source: Synced and Healthy."""
        return self.sync == "Synced" and self.health == "Healthy"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "sync": self.sync,
            "health": self.health,
            "revision": self.revision,
            "drift": self.drifted,
            "message": self.message,
        }


@dataclass
class DriftReport:
    stack: str
    resources: list[ResourceDrift] = field(default_factory=list)
    applications: list[ApplicationStatus] = field(default_factory=list)
    error: str | None = None

    @property
    def has_drift(self) -> bool:
        """Pulumi sees a difference, or Argo CD says an application does not run what git holds."""
        return self.error is None and (bool(self.resources) or any(a.drifted for a in self.applications))

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "drift" if self.has_drift else "clean"

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "error": 1, "drift": 2}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": self.status,
            "error": self.error,
            "resources": [r.to_dict() for r in self.resources],
            "applications": [a.to_dict() for a in self.applications],
        }


# --- property paths -------------------------------------------------------------------------


def split_path(path: str) -> tuple[str | int, ...]:
    """Split a Pulumi property path (`a.b[0]["c.d"]`) into its keys and indexes."""
    parts: list[str | int] = []
    buffer = ""
    i = 0
    while i < len(path):
        char = path[i]
        if char == ".":
            if buffer:
                parts.append(buffer)
            buffer = ""
            i += 1
        elif char == "[":
            if buffer:
                parts.append(buffer)
            buffer = ""
            if path.startswith('["', i):
                j, key = i + 2, ""
                while j < len(path) and path[j] != '"':
                    if path[j] == "\\" and j + 1 < len(path):
                        j += 1
                    key += path[j]
                    j += 1
                parts.append(key)
                i = path.find("]", j) + 1 or len(path)
            else:
                end = path.find("]", i)
                end = len(path) if end < 0 else end
                token = path[i + 1 : end]
                parts.append(int(token) if token.isdigit() else token)
                i = end + 1
        else:
            buffer += char
            i += 1
    if buffer:
        parts.append(buffer)
    return tuple(parts)


def is_noise(path: str) -> bool:
    """True for a property the cluster or the provider manage (status, resourceVersion, the
    last-applied annotation, ...) and for the provider's internal `__`-prefixed bookkeeping."""
    parts = split_path(path)
    if any(isinstance(part, str) and part.startswith("__") for part in parts):
        return True
    return any(parts[: len(prefix)] == prefix for prefix in NOISE_PATHS)


# --- engine events ----------------------------------------------------------------------------


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn


def resource_drift(steps: Iterable[StepEventMetadata]) -> ResourceDrift | None:
    """The drift of one resource from the engine's step metadata for it (a replacement arrives as
    several steps), or None when it has none once noise is left out."""
    steps = [s for s in steps if s.op not in _QUIET_OPS]
    if not steps or steps[0].type in _IGNORED_TYPES:
        return None
    ops = {s.op for s in steps}
    if ops & _REPLACE_OPS:
        operation = "replace"
    elif OpType.CREATE in ops or OpType.IMPORT in ops:
        operation = "create"
    elif OpType.DELETE in ops:
        operation = "delete"
    else:
        operation = "update"

    kinds: dict[str, str] = {}
    for step in steps:
        for path, diff in (step.detailed_diff or {}).items():
            kinds[path] = diff.diff_kind.value
        if not step.detailed_diff:
            for path in [*(step.diffs or []), *(step.keys or [])]:
                kinds.setdefault(path, "update")
    changes = tuple(PropertyChange(p, k) for p, k in sorted(kinds.items()) if not is_noise(p))
    ignored = tuple(sorted(p for p in kinds if is_noise(p)))
    if operation == "update" and kinds and not changes:
        return None
    first = steps[0]
    return ResourceDrift(first.urn, first.type, urn_name(first.urn), operation, changes, ignored)


def drift_from_events(events: Iterable[EngineEvent]) -> list[ResourceDrift]:
    """Every resource that drifted, from a preview's events, in the order the engine met them."""
    steps: dict[str, list[StepEventMetadata]] = {}
    for event in events:
        for carrier in (event.resource_pre_event, event.res_outputs_event):
            if carrier is not None and carrier.metadata.urn:
                steps.setdefault(carrier.metadata.urn, []).append(carrier.metadata)
    found = (resource_drift(metadata) for metadata in steps.values())
    return [drift for drift in found if drift is not None]


def engine_errors(events: Iterable[EngineEvent]) -> list[str]:
    """Error diagnostics and failed resource operations, one line each."""
    messages = []
    for event in events:
        diagnostic = event.diagnostic_event
        if diagnostic is not None and diagnostic.severity == "error":
            line = next((x.strip() for x in automation.strip_ansi(diagnostic.message).splitlines() if x.strip()), "")
            messages.append(line or "error")
        if event.res_op_failed_event is not None:
            metadata = event.res_op_failed_event.metadata
            messages.append(f"{metadata.op.value} of {urn_name(metadata.urn)} failed")
    return messages


def preview_outcome(events: list[EngineEvent], error: BaseException | None, stack: str) -> list[ResourceDrift]:
    """The drifted resources of a preview run with `expect_no_changes`. That preview fails when it
    finds changes, so its failure is drift only when the CLI says so, the engine finished (a summary
    event came) and reported no error of its own; any other failure is an error (OpsError)."""
    drift = drift_from_events(events)
    if error is None:
        return drift
    problems = engine_errors(events)
    finished = any(event.summary_event is not None for event in events)
    if not problems and finished and _EXPECTED_CHANGES.search(str(error)):
        return drift
    detail = problems[0] if problems else automation.command_error_summary(str(error))
    raise OpsError(f"preview of stack {stack!r} failed: {detail}")


# --- state ------------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A state value with secrets masked (`stack export --show-secrets` writes them in plain text)."""
    if isinstance(value, Mapping) and "4dabf18193072939515e22adb298388d" in value:
        return "[secret]"
    return value


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        mapping = _plain(mapping)
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return _plain(mapping)


def application_statuses(deployment: Deployment) -> list[ApplicationStatus]:
    """Each Argo CD Application in a (refreshed) state: sync, health and deployed revision."""
    resources = (deployment.deployment or {}).get("resources") or []
    found = []
    for resource in resources:
        if resource.get("type") != APPLICATION_TYPE or resource.get("delete"):
            continue
        outputs = resource.get("outputs") or {}
        revision = _get(outputs, "status", "sync", "revision")
        if revision is None:
            revisions = _get(outputs, "status", "sync", "revisions")
            revision = ",".join(map(str, revisions)) if isinstance(revisions, list) else revisions
        found.append(
            ApplicationStatus(
                name=str(_get(outputs, "metadata", "name") or urn_name(resource.get("urn", ""))),
                namespace=str(_get(outputs, "metadata", "namespace") or ""),
                sync=str(_get(outputs, "status", "sync", "status") or "Unknown"),
                health=str(_get(outputs, "status", "health", "status") or "Unknown"),
                revision=str(revision or ""),
                urn=resource.get("urn", ""),
                errors=error_conditions(_get(outputs, "status")),
                details=out_of_sync_resources(_get(outputs, "status")),
            )
        )
    return sorted(found, key=lambda a: (a.namespace, a.name))


def _items(value: Any) -> list[Mapping[str, Any]]:
    value = _plain(value)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def error_conditions(status: Any) -> tuple[str, ...]:
    """The error conditions of an Application's status (Argo CD names their types `...Error`)."""
    return tuple(
        f"{_get(c, 'type')}: {_get(c, 'message') or ''}".rstrip(": ")
        for c in _items(_get(status, "conditions"))
        if str(_get(c, "type") or "").endswith("Error")
    )


def out_of_sync_resources(status: Any) -> tuple[str, ...]:
    """Each resource of an Application's status that Argo CD finds out of sync: `Kind namespace/name`.
    (Its health is not there: the controller keeps resource health in its cache unless
    `controller.resource.health.persist` is true; the chart does not set it, and it is off by default.)"""
    found = []
    for item in _items(_get(status, "resources")):
        if _get(item, "status") == "OutOfSync":
            where = "/".join(str(part) for part in (_get(item, "namespace"), _get(item, "name")) if part)
            found.append(f"{_get(item, 'kind')} {where}: OutOfSync")
    return tuple(found)


# --- driving a stack --------------------------------------------------------------------------


def _quiet(_message: str) -> None:
    pass


def detect_drift(stack: automation.AutomationStack, name: str, progress: Callable[[str], None] = _quiet) -> DriftReport:
    """Refresh, preview with `expect_no_changes`, read the refreshed state. Raises OpsError."""
    from pulumi.automation import ConcurrentUpdateError, StackNotFoundError

    with automation.automation_errors(name):
        progress(f"refreshing stack {name}")
        stack.refresh(color="never")
        progress(f"previewing stack {name}")
        events: list[EngineEvent] = []
        error: BaseException | None = None
        try:
            stack.preview(expect_no_changes=True, on_event=events.append, color="never")
        except (ConcurrentUpdateError, StackNotFoundError):
            raise
        except CommandError as failure:
            error = failure
        except RuntimeError as failure:  # the SDK's "summary event never found"
            raise OpsError(f"preview of stack {name!r} failed: {failure}") from None
        resources = preview_outcome(events, error, name)
        deployment = stack.export_stack()
    return DriftReport(name, resources, application_statuses(deployment))


# --- the command ------------------------------------------------------------------------------


def drift_of(name: str, progress: Callable[[str], None]) -> tuple[DriftReport, Any, Any]:
    """The drift report of a stack by name, with its settings and open stack (for reconcile).
    Any failure is folded into the report (status "error"); settings and stack are then None."""
    try:
        root = automation.project_root()
        settings = automation.load_settings(automation.stack_file(root, name))
        stack = automation.open_stack(name, root)
        return detect_drift(stack, name, progress), settings, stack
    except OpsError as error:
        return DriftReport(name, error=str(error)), None, None


def progress_to(console: Console) -> Callable[[str], None]:
    """Progress lines for people watching (stderr), kept out of --json output."""
    return lambda message: console.print(Text(message, style="dim"), soft_wrap=True)


def write_markdown(report: DriftReport, path: Path) -> None:
    path.write_text(drift_markdown(report) + "\n", encoding="utf-8")


def emit_report(report: DriftReport, as_json: bool, markdown: Path | None, out: Console, err: Console) -> None:
    if markdown is not None:
        write_markdown(report, markdown)
    if report.error is not None:
        err.print(Text(f"error: {report.error}", style="red"), soft_wrap=True)
    if as_json:
        write_json(out, report.to_dict())
    elif report.error is None:
        print_drift(report, out)


def run_drift(name: str, as_json: bool, markdown: Path | None, out: Console, err: Console) -> int:
    """`python -m ops drift`: 0 no drift, 2 drift, 1 error (never reported as drift or clean)."""
    report, _settings, _stack = drift_of(name, progress_to(err))
    emit_report(report, as_json, markdown, out, err)
    return report.exit_code


class ExitOneOnUsageError(TyperCommand):
    """A command class for `drift` and `reconcile`: a usage error (missing --stack, a misspelt
    option) exits 1 like every other error, because exit code 2 means "drift found" to CI."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except Exception as error:
            if getattr(error, "exit_code", None) == 2:
                error.exit_code = 1  # type: ignore[attr-defined]
            raise
