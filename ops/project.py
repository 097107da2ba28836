"""The project checkout the commands work on: its directory, its stack files and their settings."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ops.errors import OpsError
from settings.load import PROJECT_FILE, THIS_PROJECT_DIR, find_project_dir, stack_config_dir, stack_file_for, stacks_in

T = TypeVar("T")


def project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above `start` (default: the current one) holding Pulumi.yaml;
    from the current directory, this project's own checkout when there is none."""
    here = (start or Path.cwd()).resolve()
    found = find_project_dir(here)
    if found is None and start is None and (THIS_PROJECT_DIR / PROJECT_FILE).is_file():
        found = THIS_PROJECT_DIR
    if found is None:
        raise OpsError(f"no {PROJECT_FILE} in {here} or any parent directory: run this from the project checkout")
    return found


def stack_file(root: Path, stack: str) -> Path:
    """The stack's `Pulumi.<stack>.yaml`; an unknown stack (no such file) is an error."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", stack):
        raise OpsError(f"unknown stack {stack!r}: not a valid stack name")
    relative = _settings(lambda: stack_file_for(stack, root))
    path = root / relative
    if not path.is_file():
        known = ", ".join(stack_names(root)) or "none"
        raise OpsError(f"unknown stack {stack!r}: no {relative} (known stacks: {known})")
    return path


def stack_names(root: Path) -> list[str]:
    """Every stack that has a stack file, sorted."""
    return _settings(lambda: stacks_in(root / stack_config_dir(root)))


def load_settings(path: Path) -> Any:
    """The stack's typed settings (see the `settings` package); a bad file becomes an OpsError."""
    import settings

    return _settings(lambda: settings.load_stack_file(path))


def _settings(read: Callable[[], T]) -> T:
    """What `read` returns; a SettingsError (a bad stack or project file) becomes an OpsError."""
    from settings import SettingsError

    try:
        return read()
    except SettingsError as error:
        raise OpsError(str(error).strip()) from None
