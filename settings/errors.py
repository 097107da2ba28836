"""Problems with a stack's settings, one line each: the stack file, the key, and what to change.

No line ever holds a secret: a value is shown only when it is neither a `secure:` value nor a
password, token or key, URLs lose their credentials, and each finished line is scrubbed of every
secret value the stack holds.
"""

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from typing import Any, Union

import pulumi
from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from gitsource.redaction import redact, strip_userinfo

PROJECT = "gitops"
"""The Pulumi project; its settings are the `gitops:` keys of a stack file."""

KeyPath = tuple[str | int, ...]
"""A key below `gitops:`, as a tuple: ("argocd", "sso", "dex", 0, "clientSecret")."""


class SettingsError(pulumi.RunError):
    """Bad stack configuration; Pulumi prints RunError's message without a traceback."""


class KeyProblems(ValueError):
    """What a validator raises: one or more problems, each at a key relative to the model it checks
    ("" for the model itself, "admin.enabled" for a key inside it), so each line names the key to change."""

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def full_key(path: Sequence[str | int]) -> str:
    """The key as `pulumi config set --path` takes it: gitops:argocd.sso.dex[0].clientSecret."""
    return key_text((f"{PROJECT}:{path[0]}", *path[1:])) if path else PROJECT


def key_text(path: Sequence[str | int]) -> str:
    """A key path in Pulumi's --path syntax: names joined by dots, [0] for list items, ["a.b"] for odd names."""
    text = str(path[0]) if path else ""  # a config key (gitops:argocd) is written as it is
    for part in path[1:]:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[^.\[\]\"]+", str(part)):
            text += f".{part}"
        else:
            text += f'["{part}"]'
    return text


def did_you_mean(bad: str, valid: Iterable[str], listing: str | None = "known", most: int = 1) -> str:
    """' (did you mean "x"?)' for the closest name (or the `most` closest: ' (did you mean "x" or
    "y"?)'), else ' (<listing>: a, b)', or "" without a listing. Case does not count."""
    names = sorted(set(valid))
    by_lower = {name.lower(): name for name in names}
    close = difflib.get_close_matches(bad.lower(), list(by_lower), n=most, cutoff=0.6)
    if close:
        quoted = " or ".join(f'"{by_lower[name]}"' for name in close)
        return f" (did you mean {quoted}?)"
    if listing is None:
        return ""
    return f" ({listing}: {', '.join(names)})" if names else " (none are defined)"


_SCRUBBED_LENGTH = 8


class Problems:
    """Problems found in one stack file, reported together."""

    def __init__(self, stack_file: str, secrets: Iterable[str] = ()) -> None:
        self.stack_file = stack_file
        self.secrets = list(secrets)
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        """A problem at `key`, written as the user writes it (`gitops:argocd.ha`)."""
        # Messages never include a secret's value; scrubbing is the second line of defence. A short
        # value would match ordinary words of the message, so only values of some length are scrubbed.
        scrubbed = [secret for secret in self.secrets if len(secret) >= _SCRUBBED_LENGTH]
        self.lines.append(redact(f"{self.stack_file}: {key}: {message}", scrubbed))

    def add_validation_errors(self, error: ValidationError, model: type[BaseModel]) -> None:
        for detail in error.errors():
            for path, message in _explain(detail, model):
                self.add(full_key(path), message)

    def error(self) -> SettingsError:
        return SettingsError("\n".join(self.lines))

    def raise_if_any(self) -> None:
        if self.lines:
            raise self.error()


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
_BOUNDS = {"greater_than_equal": "of at least", "greater_than": "above", "less_than_equal": "of at most", "less_than": "below"}
_TYPE_ERRORS = {*_TYPE_NAMES, "literal_error"}

SECURE_VALUE_IN_PLAIN_SETTING = (
    "is a secure value, but only passwords, tokens and keys are kept secret here: write this setting in plain text"
)


def _explain(detail: ErrorDetails, model: type[BaseModel]) -> list[tuple[KeyPath, str]]:
    loc = detail["loc"]
    path, annotation, siblings = _walk(model, loc)
    kind, ctx, given = detail["type"], detail.get("ctx", {}), detail.get("input")
    if isinstance(given, SecretStr) and kind in _TYPE_ERRORS:
        return [(path, SECURE_VALUE_IN_PLAIN_SETTING)]
    shown = _show(given, secret=isinstance(given, SecretStr) or is_secret_annotation(annotation))
    if kind == "value_error" and isinstance(ctx.get("error"), KeyProblems):
        return [(path + _relative(key), message) for key, message in ctx["error"].problems]
    if loc and loc[-1] == "[key]":  # a key of a mapping: unknown, or not a valid name
        if kind == "literal_error":
            return [(path, "unknown key" + did_you_mean(str(given), re.findall(r"'([^']*)'", ctx["expected"]), "valid keys"))]
    if kind == "extra_forbidden":
        return [(path, "unknown key" + did_you_mean(str(loc[-1]), siblings, "valid keys"))]
    if kind == "missing":
        return [(path, "required key is missing")]
    if kind in _TYPE_NAMES:
        return [(path, f"expected {_TYPE_NAMES[kind]}, got {shown}")]
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx["expected"])
        hint = did_you_mean(given, choices, listing=None) if isinstance(given, str) else ""
        return [(path, f"expected {_one_of(choices)}, got {shown}{hint}")]
    if kind == "union_tag_invalid":
        tag_key = ctx["discriminator"].strip("'")
        tag = given.get(tag_key) if isinstance(given, dict) else ctx["tag"]
        if isinstance(tag, SecretStr):
            return [((*path, tag_key), SECURE_VALUE_IN_PLAIN_SETTING)]
        choices = re.findall(r"'([^']*)'", ctx["expected_tags"])
        return [((*path, tag_key), f"expected {_one_of(choices)}, got {_show(tag)}")]
    if kind == "union_tag_not_found":
        return [((*path, ctx["discriminator"].strip("'")), "required key is missing")]
    if kind == "format":
        return [(path, f"expected {ctx['expected']}, got {shown}")]
    if kind == "value_error":
        return [(path, str(ctx["error"]))]
    if kind in _BOUNDS:
        return [(path, f"expected a number {_BOUNDS[kind]} {ctx[next(iter(ctx))]}, got {shown}")]
    if kind == "too_short":
        items = f"{ctx['min_length']} item{'s' if ctx['min_length'] != 1 else ''}"
        return [(path, f"expected at least {items}, got {ctx['actual_length'] or 'none'}")]
    return [(path, f"{detail['msg'].replace('Input should be', 'expected')}, got {shown}")]


def _one_of(choices: list[str]) -> str:
    quoted = [f'"{choice}"' for choice in choices]
    return quoted[0] if len(quoted) == 1 else f"one of {', '.join(quoted[:-1])} or {quoted[-1]}"


def _relative(key: str) -> KeyPath:
    return tuple(int(part) if part.isdigit() else part for part in key.split(".") if part)


def _show(value: Any, secret: bool = False) -> str:
    """How a wrong value reads in a message; a secret's value never does."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | SecretStr):
        return "a secret value (not shown)" if secret else f'"{strip_userinfo(value)}"'
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "nothing"
    return "a number (not shown: this setting is a secret)" if secret else repr(value)


def is_secret_annotation(annotation: Any) -> bool:
    return any(member is SecretStr for member in annotation_members(annotation))


def annotation_members(annotation: Any) -> list[Any]:
    """The concrete types behind Optional/Union/Annotated wrappers."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return annotation_members(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in annotation_members(arg)]
    return [annotation]


def _walk(model: type[BaseModel], loc: tuple) -> tuple[KeyPath, Any, list[str]]:
    """Follow an error location through the models: the key path as a user writes it, the
    annotation found there, and the valid keys beside it (for typo suggestions)."""
    path: list = []
    current: Any = model
    siblings: list[str] = []
    for part in loc:
        if part == "[key]":
            continue
        candidates = annotation_members(current)
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
    return tuple(path), current, siblings


def _tag(model: type[BaseModel]) -> Any:
    field = model.model_fields.get("kind")
    if field is None:
        return None
    args = typing.get_args(field.annotation)
    return args[0] if len(args) == 1 else None
