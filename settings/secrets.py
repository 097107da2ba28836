"""Which settings are secrets, and the rule that keeps them secret: every password, token and key
is a `secure:` value, checked leaf by leaf, and a `secure:` value is only ever a secret.

While settings are parsed, a value that came from a `secure:` entry of the stack file is a
pydantic `SecretStr`. A secret field accepts it; any other field refuses it (settings/errors.py
says so), because the value would be stored and shown in plain text from there on.
"""

import re
import typing
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import BaseModel, SecretStr

from settings.errors import SECURE_VALUE_IN_PLAIN_SETTING, KeyPath, annotation_members, full_key, is_secret_annotation


class _SecretsByKeyName:
    """Marks free-form configuration handed on as is (a Dex connector's `config`)."""


SECRETS_BY_KEY_NAME = _SecretsByKeyName()
FreeFormConfig = Annotated[dict[str, Any], SECRETS_BY_KEY_NAME]
"""Free-form configuration whose keys that look secret (`clientSecret`, `bindPW`) must hold a
`secure:` value or a `$key` reference to argocd-secret; other `secure:` values in it are allowed."""

_SECRET_KEY_NAME = re.compile(r"(secret|password|passwd|passphrase|bindpw|token|privatekey|apikey|accesskey|secretkey)$")


def looks_secret(key: str) -> bool:
    """Whether a free-form key names a secret: clientSecret, bindPW, password, apiToken, private_key."""
    return bool(_SECRET_KEY_NAME.search(re.sub(r"[-_]", "", key).lower()))


def is_reference(value: Any) -> bool:
    """A `$key` (or `$secret:key`) that Argo CD replaces with a value from a Kubernetes secret."""
    return isinstance(value, str) and value.startswith("$") and len(value) > 1


def secret_problems(settings: BaseModel, secure_paths: set[KeyPath]) -> list[tuple[KeyPath, str]]:
    """Every secret written in plain text, and every `secure:` value where a secret cannot go."""
    return list(_problems(settings, settings.__class__, (), secure_paths))


def secret_values(value: Any) -> Iterator[str]:
    """The value of every secret in settings (or in raw settings), to scrub them from messages."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from secret_values(item)


def _make_it_secure(path: KeyPath) -> str:
    return f"make it a secure value with `pulumi config set --secret --path '{full_key(path)}' VALUE`"


def _problems(value: Any, annotation: Any, path: KeyPath, secure_paths: set[KeyPath]) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, SecretStr):
        if not is_secret_annotation(annotation):
            yield path, SECURE_VALUE_IN_PLAIN_SETTING
        elif not any(path[: len(secure)] == secure for secure in secure_paths):
            yield path, f"holds a password, token or key in plain text: {_make_it_secure(path)}"
    elif isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            child, key = getattr(value, name), field.alias or name
            if SECRETS_BY_KEY_NAME in field.metadata:
                yield from _free_form_problems(child, (*path, key), key)
            else:
                yield from _problems(child, field.annotation, (*path, key), secure_paths)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _problems(item, _item_annotation(annotation), (*path, key), secure_paths)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _problems(item, _item_annotation(annotation), (*path, index), secure_paths)


def _free_form_problems(value: Any, path: KeyPath, key: str | int) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(value, SecretStr):
        return
    if isinstance(value, dict):
        for child_key, item in value.items():
            yield from _free_form_problems(item, (*path, child_key), child_key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _free_form_problems(item, (*path, index), key)
    elif isinstance(key, str) and looks_secret(key) and not is_reference(value):
        yield path, f"looks like a secret but is in plain text: {_make_it_secure(path)}, or a $key reference to argocd-secret"


def _item_annotation(annotation: Any) -> Any:
    """The type of a container's items (`Any` when unknown)."""
    for member in annotation_members(annotation):
        if typing.get_origin(member) in (dict, list, tuple):
            return typing.get_args(member)[-1]
    return Any
