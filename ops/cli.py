"""`python -m ops`: the project's command line."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ops.program import PROJECT_DIR, run_program
from ops.render import render
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


def stacks_in(project_dir: Path) -> list[str]:
    return sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (project_dir / "stacks").glob("Pulumi.*.yaml"))


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
    names = stack or stacks_in(PROJECT_DIR)
    unknown = [name for name in names if name not in stacks_in(PROJECT_DIR)]
    if unknown:
        errors.print(
            f"[red]error:[/] no stack file stacks/Pulumi.{unknown[0]}.yaml (stacks: {', '.join(stacks_in(PROJECT_DIR))})"
        )
        raise typer.Exit(1)
    table = Table("stack", "objects", "charts", "resources", "problems", title="render")
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
    console.print(table)
    console.print(f"written to {out}/")
    if failed:
        raise typer.Exit(1)
