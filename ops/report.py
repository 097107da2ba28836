"""How `ops` shows its results: rich tables for people, JSON for scripts, Markdown for
`$GITHUB_STEP_SUMMARY` and issues. Only property paths, statuses and commits are shown, never a
property's value, so a secret cannot leak through a report."""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ops.drift_report import DriftReport, ResourceDrift
    from ops.promotion_plan import Plan

_STATUS_STYLE = {
    "Synced": "green",
    "Healthy": "green",
    "OutOfSync": "red",
    "Degraded": "red",
    "Missing": "red",
    "Progressing": "yellow",
    "Suspended": "yellow",
}


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


def write_json(console: Console, document: dict[str, Any]) -> None:
    """JSON straight to the console's file: rich would wrap long strings and break the document."""
    console.file.write(to_json(document) + "\n")


# --- drift ------------------------------------------------------------------------------------


def _changes_text(resource: ResourceDrift) -> str:
    if resource.changes:
        return ", ".join(f"{c.path} ({c.kind})" for c in resource.changes)
    return {
        "create": "missing from the cluster",
        "delete": "in the state, no longer in the program",
        "replace": "replacement",
    }.get(resource.operation, "changed")


def drift_headline(report: DriftReport) -> str:
    if report.status == "error":
        return f"Drift check failed for stack {report.stack}: {report.error}"
    if report.status == "clean":
        return f"No drift in stack {report.stack}"
    drifted_apps = sum(1 for a in report.applications if a.drifted)
    return (
        f"Drift detected in stack {report.stack}: {len(report.resources)} resource(s) differ, "
        f"{drifted_apps} application(s) out of sync, unhealthy or in error"
    )


def print_drift(report: DriftReport, console: Console) -> None:
    style = {"clean": "green", "drift": "yellow", "error": "red"}[report.status]
    console.print(Text(drift_headline(report), style=f"bold {style}"))
    if report.resources:
        table = Table(title="Resources that differ", title_justify="left")
        table.add_column("Resource")
        table.add_column("Type", overflow="fold")
        table.add_column("Operation")
        table.add_column("Changed properties", overflow="fold")
        for resource in report.resources:
            table.add_row(resource.name, resource.type, resource.operation, _changes_text(resource))
        console.print(table)
    if report.applications:
        table = Table(title="Argo CD applications", title_justify="left")
        for column in ("Application", "Namespace", "Sync", "Health", "Revision"):
            table.add_column(column)
        table.add_column("Argo CD says", overflow="fold")
        for app in report.applications:
            table.add_row(
                app.name,
                app.namespace,
                Text(app.sync, style=_STATUS_STYLE.get(app.sync, "")),
                Text(app.health, style=_STATUS_STYLE.get(app.health, "")),
                app.revision[:12],
                app.message,
            )
        console.print(table)


def _md(text: str) -> str:
    """A Markdown table cell: pipes escaped, line breaks flattened."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def drift_markdown(report: DriftReport) -> str:
    icon = {"clean": ":white_check_mark:", "drift": ":warning:", "error": ":x:"}[report.status]
    lines = [f"### {icon} {_md(drift_headline(report))}", ""]
    if report.resources:
        lines += ["| Resource | Type | Operation | Changed properties |", "| --- | --- | --- | --- |"]
        for r in report.resources:
            lines.append(f"| `{_md(r.name)}` | `{_md(r.type)}` | {r.operation} | {_md(_changes_text(r))} |")
        lines.append("")
    if report.applications:
        lines += [
            "| Application | Namespace | Sync | Health | Revision | Argo CD says |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for a in report.applications:
            lines.append(
                f"| `{_md(a.name)}` | {_md(a.namespace)} | {_md(a.sync)} | {_md(a.health)} | `{_md(a.revision[:12])}` "
                f"| {_md(a.message)} |"
            )
        lines.append("")
    return "\n".join(lines)


# --- promotion --------------------------------------------------------------------------------


def unified_diff(old: str, new: str, path: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{path}", f"b/{path}"))


def print_plan(plan: Plan, console: Console) -> None:
    table = Table(title=f"Promotion {plan.source} → {plan.target}", title_justify="left")
    for column in ("Application(s)", "Config key", "Current", "Promoted commit"):
        table.add_column(column, overflow="fold")
    for change in plan.changes:
        table.add_row(", ".join(change.apps), change.key, change.old, change.new)
    console.print(table)
    for note in plan.notes:
        console.print(Text(note, style="yellow"))


def print_diff(diff: str, console: Console) -> None:
    """The unified diff, coloured by line and never cut at the console's width."""
    if not diff:
        console.print("(no change)")
        return
    for line in diff.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        console.print(Text(line, style=style), soft_wrap=True)
