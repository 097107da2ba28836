"""Run the bare program (bench/bare_program) under the project's recording mocks.

Imports only the Pulumi SDK and the mocks, so that a fresh interpreter running it pays what a bare
program pays and not the project's settings model:

    .venv/bin/python bench/bare_run.py <plan.json> <project> <stack>
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ops.mocks import RecordingMocks, install
from ops.outputs import stack_outputs

BARE_MAIN = Path(__file__).resolve().parent / "bare_program" / "__main__.py"
PLAN_VARIABLE = "BARE_PROGRAM_PLAN"


def run_bare(plan: Path, project: str, stack: str) -> tuple[RecordingMocks, dict[str, tuple[Any, bool]]]:
    """The mocks after the bare program registered `plan`, and its stack outputs read back."""
    os.environ[PLAN_VARIABLE] = str(plan)
    mocks = install(project, stack, {}, set())
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(BARE_MAIN), run_name="__main__")))
    return mocks, stack_outputs()


if __name__ == "__main__":
    run_bare(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
