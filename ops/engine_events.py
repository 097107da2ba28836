"""Reading a preview's engine events: which resources differ from what the program declares, and
whether the preview failed for another reason. Pure functions over the SDK's own types
(`EngineEvent`, `StepEventMetadata`), so tests feed them directly."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pulumi.automation import EngineEvent, OpType, StepEventMetadata

from ops.argocd_status import urn_name
from ops.automation import command_error_summary, strip_ansi
from ops.drift_report import PropertyChange, ResourceDrift
from ops.errors import OpsError

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
            line = next((x.strip() for x in strip_ansi(diagnostic.message).splitlines() if x.strip()), "")
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
    detail = problems[0] if problems else command_error_summary(str(error))
    raise OpsError(f"preview of stack {stack!r} failed: {detail}")
