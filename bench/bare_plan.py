"""The bare program's plan, written from a run of the real program, and the check that a run of the
bare program registered the same thing (bench/bare_program/__main__.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.bare_run import run_bare
from ops.mocks import Registration
from ops.program import ProgramRun
from settings.errors import PROJECT

COMPARED_FIELDS = ("type", "name", "parent", "inputs", "secret_paths", "outputs", "custom", "protect", "ignore_changes")


def _urn(reference: str | None) -> str | None:
    """A provider reference is `<urn>::<id>`."""
    return reference.rsplit("::", 1)[0] if reference else None


def plan_of(run: ProgramRun) -> dict[str, Any]:
    """Every registration of `run`, in its order, its cloud look-ups and its stack outputs, as the bare
    program reads them."""
    return {
        "resources": [
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "provider": _urn(r.provider),
                "dependencies": r.dependencies,
                "inputs": r.inputs,
                "secretPaths": r.secret_paths,
                "custom": r.custom,
                "protect": r.protect,
                "ignoreChanges": r.ignore_changes,
            }
            for r in run.registrations
        ],
        "outputs": {name: {"value": value, "secret": secret} for name, (value, secret) in run.outputs.items()},
        "invokes": run.invokes,
    }


def write_plan(run: ProgramRun, path: Path) -> Path:
    path.write_text(json.dumps(plan_of(run)))
    return path


def run_bare_program(plan: Path, stack: str) -> ProgramRun:
    mocks, outputs = run_bare(plan, PROJECT, stack)
    return ProgramRun(stack, list(mocks.registrations), outputs, list(mocks.invokes), dict(mocks.children))


def differences(project: ProgramRun, bare: ProgramRun) -> list[str]:
    """Where the bare run differs from the project's, field by field: every registration (by URN),
    its dependencies as a set, the cloud look-ups, the objects of its charts, and every stack output
    with its secrecy."""
    found = []
    project_by_urn = {r.urn: r for r in project.registrations}
    bare_by_urn = {r.urn: r for r in bare.registrations}
    for urn in sorted(project_by_urn.keys() ^ bare_by_urn.keys()):
        found.append(f"{urn}: registered by {'the project' if urn in project_by_urn else 'the bare program'} only")
    for urn in sorted(project_by_urn.keys() & bare_by_urn.keys()):
        found += _registration_differences(project_by_urn[urn], bare_by_urn[urn])
    if sorted(map(_invoke_key, project.invokes)) != sorted(map(_invoke_key, bare.invokes)):
        found.append("the cloud look-ups (invokes) differ")
    if project.children != bare.children:
        found.append("the charts' objects differ")
    if project.outputs != bare.outputs:
        differing = sorted(
            k for k in project.outputs.keys() | bare.outputs.keys() if project.outputs.get(k) != bare.outputs.get(k)
        )
        found.append(f"stack outputs differ: {', '.join(differing)}")
    return found


def _invoke_key(call: tuple[str, dict[str, Any]] | list[Any]) -> str:
    token, arguments = call
    return f"{token} {json.dumps(arguments, sort_keys=True)}"


def _registration_differences(project: Registration, bare: Registration) -> list[str]:
    found = [f"{project.urn}: {field} differs" for field in COMPARED_FIELDS if getattr(project, field) != getattr(bare, field)]
    if _urn(project.provider) != _urn(bare.provider):
        found.append(f"{project.urn}: provider differs")
    if sorted(project.dependencies) != sorted(bare.dependencies):
        found.append(f"{project.urn}: dependencies differ")
    return found
