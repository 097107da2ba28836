"""Drift: what differs between a stack's program and its cluster, and what Argo CD reports.

`detect_drift` refreshes the stack (the state takes in what the cluster really holds), previews
with `expect_no_changes` and reads the refreshed state; `engine_events` interprets the preview and
`argocd_status` the state.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi.automation import CommandError, EngineEvent
from rich.console import Console
from rich.text import Text

from ops import automation
from ops.argocd_status import application_statuses
from ops.drift_report import DriftReport
from ops.engine_events import preview_outcome
from ops.errors import OpsError, print_problem
from ops.project import load_settings, project_root, stack_file
from ops.report import drift_markdown, print_drift, write_json

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
        root = project_root()
        settings = load_settings(stack_file(root, name))
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
        print_problem(err, str(report.error))
    if as_json:
        write_json(out, report.to_dict())
    elif report.error is None:
        print_drift(report, out)


def run_drift(name: str, as_json: bool, markdown: Path | None, out: Console, err: Console) -> int:
    """`python -m ops drift`: 0 no drift, 2 drift, 1 error (never reported as drift or clean)."""
    report, _settings, _stack = drift_of(name, progress_to(err))
    emit_report(report, as_json, markdown, out, err)
    return report.exit_code
