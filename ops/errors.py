"""The failures `ops` reports, and how they are printed: one line per problem, exit code 1."""

from rich.console import Console
from rich.text import Text


class OpsError(Exception):
    """A failure the user can act on; the CLI prints its message on one line and exits 1."""


class PromotionRefused(OpsError):
    """A promotion that must not happen; nothing has been written."""


def print_problem(console: Console, message: str, label: str = "error") -> None:
    """Each line of `message` as one `<label>: ...` line: coloured only on a terminal (rich's own
    detection), and never wrapped, whatever the width, so one problem stays one line in CI logs."""
    for line in message.splitlines():
        console.print(Text.assemble((f"{label}:", "bold red"), " ", line), soft_wrap=True)
