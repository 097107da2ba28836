"""`python -m ops`: the project's command line."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ops.automation import stack_names
from ops.program import PROJECT_DIR, run_program
from ops.render import application_rows, render
from ops.validate import DEFAULT_KUBERNETES_VERSION, validate_directory
from settings import SettingsError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Render, promote and check the gitops stacks.",
)
console = Console()
errors = Console(stderr=True)


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
    """Run the program offline under Pulumi mocks, write what each stack would apply, and validate it."""
    known = stack_names(PROJECT_DIR)
    names = stack or known
    unknown = [name for name in names if name not in known]
    if unknown:
        errors.print(f"[red]error:[/] no stack file stacks/Pulumi.{unknown[0]}.yaml (stacks: {', '.join(known)})")
        raise typer.Exit(1)
    table = Table("stack", "objects", "charts", "resources", "problems", title="render")
    applications = Table("stack", "application", "type", "revision", "commit", title="applications")
    failed = False
    for name in names:
        try:
            run = run_program(name)
        except SettingsError as error:
            errors.print(f"[red]error:[/] {error}", highlight=False, markup=False)
            failed = True
            continue
        rendered = render(run, out)
        count, problems = validate_directory(rendered.directory, kubernetes_version)
        for problem in problems:
            errors.print(f"[red]invalid:[/] {name}: {problem}", highlight=False)
        failed |= bool(problems)
        table.add_row(name, str(count), str(len(rendered.charts)), str(len(run.registrations)), str(len(problems)))
        for row in application_rows(run):
            applications.add_row(name, *row)
    console.print(table)
    if applications.row_count:
        console.print(applications)
    console.print(f"written to {out}/")
    if failed:
        raise typer.Exit(1)


# --- promote, drift, reconcile (ops/promote.py, ops/drift.py, ops/reconcile.py) ---------------
from ops.drift import ExitOneOnUsageError  # noqa: E402


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
