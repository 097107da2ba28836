"""Reconciliation: put a drifted stack back to what its program says, as its policy allows.

`gitops:drift.reconcile` decides: `auto` applies, `confirm` applies only with --yes, `report`
never applies (the drift report and exit code 2 are the whole answer).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ops import automation
from ops.drift import drift_of, emit_report, progress_to, write_markdown
from ops.errors import OpsError, print_problem
from ops.report import write_json


class ReconcileAction(StrEnum):
    NOTHING = "nothing"
    """No drift: nothing to do."""
    APPLY = "apply"
    NEEDS_CONFIRMATION = "needs-confirmation"
    """Policy `confirm` without --yes."""
    REPORT_ONLY = "report-only"
    """Policy `report`: never applies."""
    ARGO_ONLY = "argo-only"
    """Only Argo CD applications drifted (out of sync, unhealthy or in error), which `pulumi up` cannot change."""


def decide_reconcile(policy: str, has_drift: bool, yes: bool, resources_drifted: bool = True) -> ReconcileAction:
    """What reconcile does. `resources_drifted` is False when the drift is only Argo CD
    applications out of sync: Argo CD syncs those, an `up` would change nothing."""
    if not has_drift:
        return ReconcileAction.NOTHING
    if policy == "auto" or (policy == "confirm" and yes):
        return ReconcileAction.APPLY if resources_drifted else ReconcileAction.ARGO_ONLY
    if policy == "confirm":
        return ReconcileAction.NEEDS_CONFIRMATION
    return ReconcileAction.REPORT_ONLY


def apply_stack(stack: automation.AutomationStack, name: str) -> dict[str, int]:
    """`pulumi up` on the stack; the count of resources per operation it performed."""
    with automation.automation_errors(name):
        result = stack.up(color="never")
    changes = getattr(getattr(result, "summary", None), "resource_changes", None) or {}
    return {str(getattr(op, "value", op)): int(count) for op, count in changes.items()}


_EXPLAIN = {
    ReconcileAction.NOTHING: "no drift: nothing to reconcile",
    ReconcileAction.NEEDS_CONFIRMATION: "policy `confirm`: rerun with --yes to apply",
    ReconcileAction.REPORT_ONLY: "policy `report`: reconcile never applies on this stack",
    ReconcileAction.ARGO_ONLY: "only Argo CD applications drifted: sync them in Argo CD or fix them in git, `pulumi up` cannot",
}


def run_reconcile(name: str, yes: bool, as_json: bool, markdown: Path | None, out: Console, err: Console) -> int:
    """`python -m ops reconcile`: 0 clean or reconciled, 2 drift left in place by policy, 1 error."""
    report, settings, stack = drift_of(name, progress_to(err))
    if report.error is not None:
        emit_report(report, as_json, markdown, out, err)
        return 1
    policy = settings.drift.reconcile
    action = decide_reconcile(policy, report.has_drift, yes, resources_drifted=bool(report.resources))
    applied: dict[str, int] | None = None
    failure: str | None = None
    if action is ReconcileAction.APPLY:
        try:
            progress_to(err)(f"applying stack {name} (policy {policy})")
            applied = apply_stack(stack, name)
        except OpsError as error:
            failure = str(error)

    if markdown is not None:
        write_markdown(report, markdown)
    if as_json:
        document = {
            **report.to_dict(),
            "reconcile": {"policy": policy, "action": action.value, "applied": applied, "error": failure},
        }
        write_json(out, document)
    else:
        emit_report(report, False, None, out, err)
        if action is ReconcileAction.APPLY and failure is None:
            done = ", ".join(f"{count} {op}" for op, count in sorted(applied.items())) or "no changes"
            out.print(Text(f"reconciled stack {name} (policy {policy}): {done}", style="green"))
        elif action is not ReconcileAction.APPLY:
            out.print(Text(_EXPLAIN[action], style="yellow" if report.has_drift else "green"))
    if failure is not None:
        print_problem(err, str(failure))
        return 1
    return {ReconcileAction.NOTHING: 0, ReconcileAction.APPLY: 0}.get(action, 2)
