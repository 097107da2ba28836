"""`python -m ops`: the project's command line."""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typer.core import TyperCommand

from ops.errors import OpsError
from ops.errors import print_problem as problem_lines
from ops.program import ProgramRun, run_program
from ops.project import project_root, stack_file, stack_names
from ops.render import application_rows, render_stacks
from ops.validate import DEFAULT_KUBERNETES_VERSION, kubernetes_schema_version, validate_objects
from settings import SettingsError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Render, promote and check the gitops stacks.",
)
console = Console()
errors = Console(stderr=True)


def print_problem(message: str, label: str = "error") -> None:
    problem_lines(errors, message, label)


@app.callback()
def main() -> None:
    """Render, promote and check the gitops stacks."""


@app.command("render")
def render_command(
    stack: Annotated[
        list[str] | None, typer.Option("--stack", "-s", help="Stack to render; repeat for more (default: all).")
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write <stack>/ into.")] = Path("rendered"),
    kubernetes_version: Annotated[str, typer.Option(help="Kubernetes version whose schemas objects must satisfy.")] = (
        DEFAULT_KUBERNETES_VERSION
    ),
) -> None:
    """Run the program offline under Pulumi mocks, write what each stack would apply, and validate it.

    Nothing is written unless every stack's settings are good."""
    try:
        root = project_root()
        files = {name: stack_file(root, name) for name in stack or stack_names(root)}
        kubernetes_schema_version(kubernetes_version)
    except OpsError as error:
        print_problem(str(error))
        raise typer.Exit(1) from None
    runs: dict[str, ProgramRun] = {}
    for name, path in files.items():
        try:
            runs[name] = run_program(name, stack_file=path)
        except SettingsError as error:
            print_problem(str(error))
    if len(runs) < len(files):
        raise typer.Exit(1)
    table = Table("stack", "objects", "of which charts'", "charts", "resources", "problems", title="render")
    applications = Table("stack", "application", "type", "revision", "commit", title="applications")
    invalid = 0
    notes = []
    for rendered in render_stacks(list(runs.values()), out, kubernetes_version, project_dir=root):
        name, run = rendered.stack, runs[rendered.stack]
        objects = rendered.every_object()
        problems = validate_objects(list(objects.values()), kubernetes_version)
        for problem in problems:
            print_problem(f"{name}: {problem}", label="invalid")
        invalid += len(problems)
        from_charts = sum(len(chart.objects) for chart in rendered.chart_renderings)
        table.add_row(
            name, str(len(objects)), str(from_charts), str(len(rendered.charts)), str(len(run.registrations)), str(len(problems))
        )
        for row in application_rows(run):
            applications.add_row(name, *row)
        for chart in rendered.chart_renderings:
            if chart.skipped:
                notes.append(f"{name}: the objects of chart {chart.release} are not in the render: {chart.skipped}")
            else:
                notes.append(f"{name}: chart {chart.release}: {len(chart.objects)} objects by helm template of {chart.source}")
    console.print(table)
    for note in notes:
        console.print(Text(note), soft_wrap=True)
    if applications.row_count:
        console.print(applications)
    if invalid:
        print_problem(f"{invalid} problems in the rendered objects; the files are in {out}/ to look at")
        raise typer.Exit(1)
    console.print(f"written to {out}/")


@app.command("matrix")
def matrix_command(
    stacks: Annotated[list[str] | None, typer.Argument(help="Only these stacks (default: all but local-tier ones).")] = None,
) -> None:
    """Print `matrix=<json>` for $GITHUB_OUTPUT: each stack CI works on, with the cloud it logs in to."""
    from ops.ci import ci_matrix

    try:
        rows = ci_matrix(project_root(), only=stacks or None)
    except OpsError as error:
        print_problem(str(error))
        raise typer.Exit(1) from None
    console.file.write("matrix=" + json.dumps(rows) + "\n")


# --- promote, drift, reconcile (ops/promote.py, ops/drift.py, ops/reconcile.py) ---------------


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


@app.command("promote")
def promote_command(
    source: Annotated[str, typer.Argument(help="Stack whose resolved commits are promoted (e.g. dev).")],
    target: Annotated[str, typer.Argument(help="Stack whose stack file receives them (e.g. stg).")],
    app_names: Annotated[
        list[str] | None, typer.Option("--app", help="Promote only this application; repeat for more (default: all).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Promote even when source apps are not Synced and Healthy.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write the source stack's commits into the target stack file and commit that on a new branch."""
    from ops.promote import run_promote

    raise typer.Exit(run_promote(source, target, app_names or [], force, as_json, console, errors))


@app.command("drift", cls=ExitOneOnUsageError)
def drift_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to check.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="Also write the report as Markdown (for $GITHUB_STEP_SUMMARY).")
    ] = None,
) -> None:
    """Refresh and preview a stack: exit 0 no drift, 2 drift found, 1 error."""
    from ops.drift import run_drift

    raise typer.Exit(run_drift(stack, as_json, markdown, console, errors))


@app.command("reconcile", cls=ExitOneOnUsageError)
def reconcile_command(
    stack: Annotated[str, typer.Option("--stack", "-s", help="Stack to reconcile.")],
    yes: Annotated[bool, typer.Option("--yes", help="Apply under the `confirm` policy.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report and the outcome as JSON.")] = False,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Also write the drift report as Markdown.")] = None,
) -> None:
    """Check drift, then `pulumi up` as the stack's gitops:drift.reconcile policy allows (auto/confirm/report)."""
    from ops.reconcile import run_reconcile

    raise typer.Exit(run_reconcile(stack, yes, as_json, markdown, console, errors))
