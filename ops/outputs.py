"""Read back the stack outputs a program exported, once it has run (under mocks)."""

from typing import Any

import pulumi
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.sync_await import _sync_await


def stack_outputs() -> dict[str, tuple[Any, bool]]:
    """The exported outputs of the program that just ran: name → (value, is_secret)."""
    return {name: _resolve(value) for name, value in getattr(get_root_resource(), "outputs", {}).items()}


def _resolve(value: Any) -> tuple[Any, bool]:
    output = pulumi.Output.from_input(value)
    return _sync_await(output.future()), bool(_sync_await(output.is_secret()))
