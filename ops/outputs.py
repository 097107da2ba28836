"""Read back the stack outputs a program exported, once it has run (under mocks)."""

from typing import Any

import pulumi
from pulumi.runtime.settings import get_root_resource
from pulumi.runtime.sync_await import _sync_await

_PLAIN_SCALARS = (str, int, float, bool, type(None))


def stack_outputs() -> dict[str, tuple[Any, bool]]:
    """The exported outputs of the program that just ran: name → (value, is_secret)."""
    return {name: _resolve(value) for name, value in getattr(get_root_resource(), "outputs", {}).items()}


def _resolve(value: Any) -> tuple[Any, bool]:
    if _is_plain(value):
        # What Output.from_input would give back, without one Output and one task per dict and
        # list inside (the `applications` output holds thousands).
        return value, False
    output = pulumi.Output.from_input(value)
    return _sync_await(output.future()), bool(_sync_await(output.is_secret()))


def _is_plain(value: Any) -> bool:
    """Whether `value` is JSON-like data with no Output, awaitable or input class anywhere inside."""
    if isinstance(value, dict):
        return all(isinstance(key, str) and _is_plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_is_plain(item) for item in value)
    return isinstance(value, _PLAIN_SCALARS)
