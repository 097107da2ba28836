"""What a program run registered, found by partial match: a type, a name and a subset of the inputs.

    one(run, "aws:route53/record:Record", inputs={"type": "A"})     # exactly one, or the test fails
    find(run, "kubernetes:core/v1:Secret", parent=component.urn)     # every match, in registration order

`run` is anything holding registrations: a `ProgramRun` or the `mocks` fixture.
"""

from collections.abc import Mapping
from typing import Any

from ops.mocks import Registration


def matches(actual: Any, expected: Any) -> bool:
    """A mapping matches when every key it names matches (others may be there too); a list when it has
    as many items and each matches; anything else when it is equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(matches, actual, expected))
    return actual == expected


def find(
    run: Any,
    type_: str | None = None,
    name: str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    parent: str | None = None,
) -> list[Registration]:
    return [
        r
        for r in run.registrations
        if (type_ is None or r.type == type_)
        and (name is None or r.name == name)
        and (parent is None or r.parent == parent)
        and (inputs is None or matches(r.inputs, inputs))
    ]


def one(
    run: Any,
    type_: str | None = None,
    name: str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    parent: str | None = None,
) -> Registration:
    found = find(run, type_, name, inputs=inputs, parent=parent)
    if len(found) != 1:
        candidates = [f"{r.type}::{r.name}" for r in find(run, type_)]
        raise AssertionError(f"{len(found)} registrations match {type_} {name or ''} {inputs or ''}; of that type: {candidates}")
    return found[0]
