"""Run the real Pulumi program offline, under recording mocks, with a stack file's config."""

import gc
import runpy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ops.mocks import Child, Registration, install
from ops.outputs import stack_outputs
from settings import program_stack_file, read_stack_file, stack_file_for
from settings.load import PROJECT

PROJECT_DIR = Path(__file__).resolve().parent.parent


@dataclass
class ProgramRun:
    stack: str
    registrations: list[Registration]
    outputs: dict[str, tuple[Any, bool]]
    """Stack output name → (value, is_secret)."""
    invokes: list[tuple[str, dict[str, Any]]]
    children: dict[str, Child]
    """URN → object a mocked component made (the chart's Ingresses)."""


def run_program(stack: str, project_dir: Path = PROJECT_DIR, stack_file: Path | None = None) -> ProgramRun:
    """Run `__main__.py` for `stack` under mocks. Raises SettingsError on bad settings."""
    path = stack_file or project_dir / stack_file_for(stack)
    # Paused from the stack file on, as the program pauses it in its own process (__main__.py):
    # here the heap also holds what earlier runs left, and every pass would walk it all.
    collecting = gc.isenabled()
    gc.disable()
    try:
        contents = read_stack_file(path)
        mocks = install(PROJECT, stack, contents.config, contents.secret_keys)
        with program_stack_file(path):
            _sync_await(run_pulumi_func(lambda: runpy.run_path(str(project_dir / "__main__.py"), run_name="__main__")))
        return ProgramRun(stack, list(mocks.registrations), stack_outputs(), list(mocks.invokes), dict(mocks.children))
    finally:
        if collecting:
            gc.unfreeze()
            gc.enable()
