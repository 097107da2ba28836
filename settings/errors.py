"""Turn pydantic's validation errors into one line per problem that names the stack file and key."""

import difflib
import re
import types
import typing
from typing import Any, Union

import pulumi
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails


class SettingsError(pulumi.RunError):
    """Bad stack configuration; Pulumi prints RunError's message without a traceback."""


_TYPE_NAMES = {
    "bool_type": "true or false",
    "string_type": "a string",
    "int_type": "a whole number",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def describe_errors(error: ValidationError, model: type[BaseModel], stack_file: str, prefix: str) -> str:
    return "\n".join(describe_error(detail, model, stack_file, prefix) for detail in error.errors())


def describe_error(detail: ErrorDetails, model: type[BaseModel], stack_file: str, prefix: str) -> str:
    path, annotation, siblings = _walk(model, detail["loc"])
    key = prefix + ".".join(str(part) for part in path) if path else prefix.rstrip(":.")
    return f"{stack_file}: {key}: {_explain(detail, annotation, siblings)}"


def _explain(detail: ErrorDetails, annotation: Any, siblings: list[str]) -> str:
    kind, ctx = detail["type"], detail.get("ctx", {})
    shown = "(secret)" if _is_secret(annotation) else _show(detail.get("input"))
    if kind == "literal_error" and detail["loc"][-1] == "[key]":  # a key of a mapping with fixed keys
        kind, siblings = "extra_forbidden", re.findall(r"'([^']*)'", ctx["expected"])
    if kind == "extra_forbidden":
        return "unknown key" + _suggest(str(detail["input"] if detail["loc"][-1] == "[key]" else detail["loc"][-1]), siblings)
    if kind == "missing":
        return "required key is missing"
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, got {shown}"
    if kind == "literal_error":
        return f"expected one of {ctx['expected']}, got {shown}"
    if kind == "union_tag_invalid":
        return f"{ctx['discriminator']} must be one of {ctx['expected_tags']}, got {_show(ctx['tag'])}"
    if kind == "union_tag_not_found":
        return f"required key {ctx['discriminator']} is missing"
    if kind == "string_pattern_mismatch":
        return f"{shown} is not in the expected format ({ctx['pattern']})"
    if kind == "value_error":
        return str(ctx.get("error", detail["msg"]))
    return f"{detail['msg']}, got {shown}"


def _suggest(bad: str, valid: list[str]) -> str:
    by_lower = {name.lower(): name for name in valid}
    close = difflib.get_close_matches(bad.lower(), list(by_lower), n=1, cutoff=0.6)
    if close:
        return f' (did you mean "{by_lower[close[0]]}"?)'
    return f" (valid keys: {', '.join(sorted(valid))})"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def _is_secret(annotation: Any) -> bool:
    return any(member is SecretStr for member in _members(annotation))


def _members(annotation: Any) -> list[Any]:
    """The concrete types behind Optional/Union/Annotated wrappers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _members(arg)]
    return [annotation]


def _walk(model: type[BaseModel], loc: tuple) -> tuple[list, Any, list[str]]:
    """Follow an error location through the models: the key path as a user writes it, the
    annotation found there, and the valid keys beside it (for typo suggestions)."""
    path: list = []
    current: Any = model
    siblings: list[str] = []
    for part in loc:
        if part == "[key]":
            continue
        candidates = _members(current)
        models = [m for m in candidates if isinstance(m, type) and issubclass(m, BaseModel)]
        tagged = [m for m in models if _tag(m) == part]
        if tagged:  # a discriminated union names the chosen member in the location
            current = tagged[0]
            continue
        path.append(part)
        if models:
            fields = {f.alias or n: f for m in models for n, f in m.model_fields.items()}
            siblings = list(fields)
            current = fields[part].annotation if part in fields else None
            continue
        containers = [c for c in candidates if typing.get_origin(c) in (dict, list)]
        current = typing.get_args(containers[0])[-1] if containers else None
        siblings = []
    return path, current, siblings


def _tag(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 else None
