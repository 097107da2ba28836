"""Read a stack's settings: from the Pulumi runtime (the program) or from its stack file (the CLI).

This is the only module that reads `pulumi.Config`. The Pulumi engine says only which top-level
keys hold a secret; which leaves were `secure:` values is read from the stack file itself, so that
the plain-text check works leaf by leaf.
"""

import functools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import SecretStr, ValidationError

from settings.errors import PROJECT, KeyPath, Problems, SettingsError, did_you_mean, full_key, key_text
from settings.secrets import secret_problems, secret_values
from settings.stack import StackSettings

PROJECT_FILE = "Pulumi.yaml"
THIS_PROJECT_DIR = Path(__file__).resolve().parent.parent
"""The project whose program this package belongs to."""
RENDER_SECRET_PLACEHOLDER = "render-placeholder-secret"
"""What a `secure:` value becomes when it is rendered without its GITOPS_SECRET_* variable."""
PROVIDER_NAMESPACES = ("aws", "gcp", "kubernetes", "pulumi")
"""Config namespaces a stack file may hold beside `gitops:`: the providers' own and the engine's."""
TOP_LEVEL_KEYS = tuple(field.alias or name for name, field in StackSettings.model_fields.items())


def find_project_dir(start: Path) -> Path | None:
    """The nearest directory at or above `start` holding Pulumi.yaml."""
    start = start.resolve()
    return next((directory for directory in (start, *start.parents) if (directory / PROJECT_FILE).is_file()), None)


def stack_config_dir(project_dir: Path) -> str:
    """Where a project's stack files live, relative to its directory: Pulumi.yaml's `stackConfigDir`,
    else beside Pulumi.yaml (""), as the pulumi CLI looks for them."""
    path = project_dir / PROJECT_FILE
    try:
        return _stack_config_dir(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return ""


@functools.cache
def _stack_config_dir(path: Path, _mtime: int) -> str:
    try:
        project = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    configured = project.get("stackConfigDir") if isinstance(project, dict) else None
    return str(configured).strip("/") if configured else ""


def stack_file_for(stack: str, project_dir: Path = THIS_PROJECT_DIR) -> str:
    """The stack's `Pulumi.<stack>.yaml`, relative to the project directory (what messages name)."""
    directory = stack_config_dir(project_dir)
    return f"{directory}/Pulumi.{stack}.yaml" if directory else f"Pulumi.{stack}.yaml"


@dataclass(frozen=True)
class StackFile:
    """A stack file's `config:` as the Pulumi engine hands it to a program (every value a string,
    objects as JSON, `secure:` values revealed) and where each `secure:` value sits."""

    stack: str
    config: dict[str, str]
    secure_paths: frozenset[tuple[str | int, ...]]
    """The path of each `secure:` value, its full key first: ("gitops:argocd", "admin", "passwordHash")."""

    @property
    def secret_keys(self) -> set[str]:
        """The keys Pulumi treats as secret: each one holding a `secure:` value somewhere."""
        return {path[0] for path in self.secure_paths}


_program_stack_file: ContextVar[Path | None] = ContextVar("program_stack_file", default=None)


@contextmanager
def program_stack_file(path: Path) -> Iterator[None]:
    """The stack file of the program running now, for the offline render; under the engine it is
    `stacks/Pulumi.<stack>.yaml` of the working directory, the project's."""
    token = _program_stack_file.set(path)
    try:
        yield
    finally:
        _program_stack_file.reset(token)


def load_settings() -> StackSettings:
    """Settings of the stack the Pulumi program runs for."""
    stack = pulumi.get_stack()
    path = _program_stack_file.get() or Path.cwd() / stack_file_for(stack, Path.cwd())
    config = {key: runtime_config.get_config(key) or "" for key in _configured_keys()}
    secure_paths: frozenset = frozenset()
    if path.is_file():
        secure_paths = read_stack_file(path).secure_paths
    described = {path[0] for path in secure_paths}
    # A secret from elsewhere than the stack file (`pulumi config set` into a service backend, an
    # ESC environment): the engine only says the key is secret, so all of it counts as secure.
    secret_elsewhere = {
        key.split(":", 1)[1]
        for key in config
        if key.startswith(f"{PROJECT}:") and runtime_config.is_config_secret(key) and key not in described
    }
    return settings_from_config(
        config,
        stack,
        secure_paths,
        secret_keys=secret_elsewhere,
        known_stacks=stacks_in(path.parent),
        project_dir=find_project_dir(path.parent),
    )


def load_stack_file(path: Path) -> StackSettings:
    """Settings straight from a stack file, secrets replaced (for the CLI's checks and render)."""
    stack_file = read_stack_file(path)
    return settings_from_config(
        stack_file.config,
        stack_file.stack,
        stack_file.secure_paths,
        known_stacks=stacks_in(path.parent),
        project_dir=find_project_dir(path.parent),
    )


def stack_name_of(path: Path) -> str:
    match = re.fullmatch(r"Pulumi\.(.+)\.yaml", path.name)
    if not match:
        raise SettingsError(f"{path}: not a stack file (expected Pulumi.<stack>.yaml)")
    return match.group(1)


def stacks_in(directory: Path) -> list[str]:
    return sorted(stack_name_of(path) for path in directory.glob("Pulumi.*.yaml"))


def read_stack_file(path: Path) -> StackFile:
    """A stack file's config. `secure:` values come from GITOPS_SECRET_<KEY_PATH> environment
    variables or, when unset, a placeholder; the values are never printed."""
    stack = stack_name_of(path)
    label = stack_file_for(stack)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(f"{label}: no such stack file") from None
    except UnicodeDecodeError:
        raise SettingsError(f"{label}: not UTF-8 text") from None
    except OSError as error:
        raise SettingsError(f"{label}: cannot be read: {error.strerror}") from None
    document = parse_yaml(text, label)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise SettingsError(f"{label}: expected a mapping with a `config:` mapping, got {_kind_of(document)}")
    config_section = document.get("config")
    if config_section is None:
        config_section = {}  # `config:` with nothing under it: every key is optional
    if not isinstance(config_section, dict):
        raise SettingsError(f"{label}: config: expected a mapping of keys like {PROJECT}:argocd, got {_kind_of(config_section)}")
    config, secure_paths = {}, set()
    for key, value in config_section.items():
        plain = _reveal(value, (str(key),), secure_paths)
        config[str(key)] = plain if isinstance(plain, str) else json.dumps(plain)
    return StackFile(stack, config, frozenset(secure_paths))


def parse_yaml(text: str, label: str) -> Any:
    """A YAML document; a syntax error or a key given twice is one line naming the file (and key)."""
    loader = yaml.CSafeLoader(text)  # the C parser: 7x faster on big stacks
    try:
        node = loader.get_single_node()
        problems = Problems(label)
        for path, first, second in _duplicate_keys(node, ()):
            problems.add(_document_key(path), f"given twice (lines {first} and {second}): keep one")
        problems.raise_if_any()
        return None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        context = f" ({error.context})" if error.context else ""
        raise SettingsError(f"{label}: not valid YAML{where}: {error.problem}{context}") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{label}: not valid YAML: {' '.join(str(error).split())}") from None
    finally:
        loader.dispose()


def _duplicate_keys(node: Any, path: tuple) -> Iterator[tuple[tuple, int, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key in seen:
                yield (*path, key), seen[key], line
            elif key is not None:
                seen[key] = line
            yield from _duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, (*path, index))


def _document_key(path: tuple) -> str:
    """A key of the stack file as the user reads it: `gitops:argocd.ha` for one under `config:`."""
    if len(path) >= 2 and path[0] == "config":
        return key_text(path[1:])
    return key_text(path)


def _reveal(value: Any, path: tuple, secure_paths: set) -> Any:
    if isinstance(value, dict) and set(value) == {"secure"}:
        secure_paths.add(path)
        variable = "GITOPS_SECRET_" + re.sub(r"[^A-Za-z0-9]+", "_", ".".join(map(str, path)).split(":", 1)[-1]).upper()
        return os.environ.get(variable, RENDER_SECRET_PLACEHOLDER)
    if isinstance(value, dict):
        return {k: _reveal(v, (*path, k), secure_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v, (*path, i), secure_paths) for i, v in enumerate(value)]
    return value


def settings_from_config(
    config: Mapping[str, str],
    stack: str,
    secure_paths: Iterable[tuple[str | int, ...]],
    *,
    secret_keys: Iterable[str] = (),
    known_stacks: list[str] | None = None,
    project_dir: Path | None = None,
) -> StackSettings:
    """Settings from a stack's whole config as the engine hands it over (every namespace, values as
    strings or JSON), `secure_paths` saying where the `secure:` values are."""
    raw: dict[str, Any] = {}
    foreign = Problems(stack_file_for(stack))
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            raw[name] = _decode(value)
        else:
            for message in _foreign_key_problems(key):
                foreign.add(key, message)
    for path in secure_paths:
        namespace, _, name = str(path[0]).partition(":")
        if namespace == PROJECT and name in raw:
            raw[name] = _mark_secure(raw[name], path[1:])
    try:
        settings = parse_settings(raw, stack, secret_keys, known_stacks=known_stacks, project_dir=project_dir)
    except SettingsError as error:
        raise SettingsError("\n".join([*foreign.lines, str(error)])) from None
    foreign.raise_if_any()
    return settings


def parse_settings(
    raw: dict[str, Any],
    stack: str,
    secret_keys: Iterable[str] = (),
    *,
    known_stacks: list[str] | None = None,
    project_dir: Path | None = None,
) -> StackSettings:
    """Settings from the `gitops:` keys (without the prefix), a `SecretStr` standing for each value
    that was `secure:`. Every leaf under a key of `secret_keys` counts as secure too."""
    raw = dict(raw)
    problems = Problems(stack_file_for(stack), secret_values(raw))
    for key in [key for key in raw if "." in key and key.split(".", 1)[0] in TOP_LEVEL_KEYS]:
        written = full_key((key,))
        problems.add(
            written,
            f"is a key of its own, not one inside {PROJECT}:{key.split('.', 1)[0]}: remove it "
            f"(`pulumi config rm '{written}'`) and set it with --path (`pulumi config set --path '{written}' VALUE`)",
        )
        del raw[key]
    context = {"stack": stack, "known_stacks": known_stacks, "project_dir": project_dir}
    try:
        settings = StackSettings.model_validate(raw, context=context, by_alias=True, by_name=False)
    except ValidationError as error:
        problems.add_validation_errors(error, StackSettings)
        raise problems.error() from None
    problems.secrets.extend(secret_values(settings))
    secure = set(_secret_leaf_paths(raw)) | {(key,) for key in secret_keys}
    for path, message in secret_problems(settings, secure):
        problems.add(full_key(path), message)
    problems.raise_if_any()
    return settings


def _secret_leaf_paths(value: Any, path: KeyPath = ()) -> Iterator[KeyPath]:
    if isinstance(value, SecretStr):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _secret_leaf_paths(item, (*path, index))


def _mark_secure(value: Any, path: tuple) -> Any:
    """`value` with the leaf at `path` made a SecretStr (a whole object too: it cannot be secret)."""
    if not path:
        return SecretStr(value if isinstance(value, str) else json.dumps(value))
    head, rest = path[0], path[1:]
    if isinstance(value, dict) and head in value:
        return {**value, head: _mark_secure(value[head], rest)}
    if isinstance(value, list) and isinstance(head, int) and head < len(value):
        return [_mark_secure(item, rest) if index == head else item for index, item in enumerate(value)]
    return value


def _foreign_key_problems(key: str) -> list[str]:
    """What is wrong with a key outside `gitops:` that looks meant for it: a misspelt namespace, or
    one of its keys under another namespace, or no namespace at all."""
    namespace, colon, name = key.partition(":")
    if namespace in PROVIDER_NAMESPACES:
        return []
    top = (name if colon else key).split(".", 1)[0]
    ours = top.lower() in (k.lower() for k in TOP_LEVEL_KEYS)
    if not colon:
        hint = f'(did you mean "{PROJECT}:{key}"?)' if ours else f"like {PROJECT}:argocd"
        return [f"a Pulumi config key needs its namespace {hint}"]
    if ours or did_you_mean(namespace, [PROJECT], listing=None):
        return [f'{PROJECT} reads only {PROJECT}: keys (did you mean "{PROJECT}:{name}"?)']
    return []


def _kind_of(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), "a single value")


def _configured_keys() -> list[str]:
    return sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))


def _decode(value: str | None) -> Any:
    """Objects arrive as JSON; a plain string stays a string."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
