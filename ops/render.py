"""Write what a stack would apply: Kubernetes objects, Helm charts and the resource list.

Output is a pure function of the stack file: keys sorted, secrets redacted, so two renders of
the same stack are byte-identical and a render can be diffed in review.
"""

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.app_objects import REPOSITORY_PUBLIC_KEYS, SECRET_TYPE_LABEL
from gitsource.redaction import REDACTED
from ops.chart_render import ChartRendering, start_chart
from ops.mocks import Registration
from ops.program import PROJECT_DIR, ProgramRun
from ops.validate import DEFAULT_KUBERNETES_VERSION

_PULUMI_ONLY_INPUTS = {"__defaults"}
CHART_V4_TYPE = "kubernetes:helm.sh/v4:Chart"


@dataclass(frozen=True)
class RenderedStack:
    stack: str
    directory: Path
    objects: dict[Path, dict[str, Any]]
    charts: dict[Path, dict[str, Any]]
    chart_objects: dict[Path, dict[str, Any]] = field(default_factory=dict)
    """The objects the charts make, in `chart-<release>/`."""
    chart_renderings: list[ChartRendering] = field(default_factory=list)
    """What each chart made, or why its objects are not there."""

    def every_object(self) -> dict[Path, dict[str, Any]]:
        """Every Kubernetes object the render wrote, the program's and its charts', by file."""
        return {**self.objects, **self.chart_objects}


def kubernetes_objects(run: ProgramRun) -> list[tuple[Registration, dict[str, Any]]]:
    """Every Kubernetes object the program registers, secrets redacted."""
    return [(r, redact(object_of(r), _redacted_paths(r))) for r in run.registrations if is_kubernetes_object(r)]


def _redacted_paths(registration: Registration) -> list[str]:
    """The secret paths of a registration, narrowed for Argo CD's repository Secrets to their
    credentials: a reviewer sees which repository each one is (url, name, type)."""
    labels = ((registration.inputs.get("metadata") or {}).get("labels")) or {}
    string_data = registration.inputs.get("stringData")
    if SECRET_TYPE_LABEL not in labels or "stringData" not in registration.secret_paths or not isinstance(string_data, dict):
        return registration.secret_paths
    credentials = [f"stringData.{key}" for key in string_data if key not in REPOSITORY_PUBLIC_KEYS]
    return [path for path in registration.secret_paths if path != "stringData"] + credentials


def is_kubernetes_object(registration: Registration) -> bool:
    return (
        registration.custom
        and registration.type.startswith("kubernetes:")
        and not registration.type.startswith(("kubernetes:helm.sh/", "kubernetes:yaml/", "kubernetes:kustomize"))
    )


def object_of(registration: Registration) -> dict[str, Any]:
    return {k: v for k, v in registration.inputs.items() if k not in _PULUMI_ONLY_INPUTS}


def render(
    run: ProgramRun, out_dir: Path, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION, project_dir: Path = PROJECT_DIR
) -> RenderedStack:
    return next(render_stacks([run], out_dir, kubernetes_version, project_dir))


def render_stacks(
    runs: list[ProgramRun], out_dir: Path, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION, project_dir: Path = PROJECT_DIR
) -> Iterator[RenderedStack]:
    """`render` each run in turn, with the helm charts of all of them started at once."""
    started = [
        [start_chart(r.inputs, kubernetes_version, project_dir) for r in run.registrations if r.type == CHART_V4_TYPE]
        for run in runs
    ]
    for run, charts in zip(runs, started, strict=True):
        yield _write(run, out_dir / run.stack, [finish() for finish in charts])


def _write(run: ProgramRun, directory: Path, renderings: list[ChartRendering]) -> RenderedStack:
    if directory.exists():
        shutil.rmtree(directory)
    objects: dict[Path, dict[str, Any]] = {}
    for registration, obj in kubernetes_objects(run):
        objects[directory / object_file_name(obj, registration)] = obj
    charts = {
        directory / "charts" / f"{r.name}.yaml": chart_document(r)
        for r in run.registrations
        if r.type.startswith("kubernetes:helm.sh/")
    }
    chart_objects = {
        directory / f"chart-{rendering.release}" / object_file_name(obj, None): obj
        for rendering in renderings
        for obj in rendering.objects
    }
    for path, document in {**objects, **charts, **chart_objects}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(document))
    (directory / "resources.json").write_text(json.dumps(resource_list(run), indent=2, sort_keys=True) + "\n")
    (directory / "outputs.json").write_text(json.dumps(output_list(run), indent=2, sort_keys=True) + "\n")
    return RenderedStack(run.stack, directory, objects, charts, chart_objects, renderings)


def object_file_name(obj: dict[str, Any], registration: Registration | None) -> str:
    metadata = obj.get("metadata") or {}
    parts = [
        obj.get("kind") or (registration.type.rsplit(":", 1)[-1] if registration else "object"),
        metadata.get("namespace"),
        metadata.get("name") or (registration.name if registration else None),
    ]
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(p for p in parts if p)).lower() + ".yaml"


def chart_document(registration: Registration) -> dict[str, Any]:
    inputs = redact(registration.inputs, registration.secret_paths)
    return {
        "release": inputs.get("name", registration.name),
        "namespace": inputs.get("namespace"),
        "chart": inputs.get("chart"),
        # The repository URL never holds credentials (settings refuse them), though the SDK marks
        # the whole repositoryOpts block secret when a password is in it.
        "repository": (registration.inputs.get("repositoryOpts") or {}).get("repo"),
        "version": inputs.get("version"),
        "values": inputs.get("values") or {},
    }


def resource_list(run: ProgramRun) -> list[dict[str, Any]]:
    return sorted(
        (
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "provider": r.provider.rsplit("::", 1)[0] if r.provider else None,  # a reference is `<urn>::<id>`
                "dependsOn": sorted(r.dependencies),
                "secretInputs": sorted(r.secret_paths),
            }
            for r in run.registrations
        ),
        key=lambda entry: entry["urn"],
    )


def application_rows(run: ProgramRun) -> list[tuple[str, str, str, str]]:
    """(application, type, revision asked for, commit it runs) for every source of every
    application, from the `applications` output: what each app became, for a reviewer."""
    value, _ = run.outputs.get("applications", ({}, False))
    rows = []
    for name, entry in sorted((value or {}).items()):
        sources = entry.get("sources", [entry])
        for index, source in enumerate(sources):
            label = f"{name} [{index}]" if "sources" in entry else name
            kind = source.get("type") or ("ref " + source["ref"] if source.get("ref") else "-")
            commit = source.get("commit") or "(not pinned)"
            rows.append((label, kind, str(source.get("requested")), commit))
    return rows


def output_list(run: ProgramRun) -> dict[str, Any]:
    return {name: REDACTED if secret else value for name, (value, secret) in run.outputs.items()}


def redact(value: Any, secret_paths: list[str], path: str = "") -> Any:
    if path in secret_paths or (not path and "." in secret_paths):
        return _redact_all(value)
    if isinstance(value, dict):
        return {k: redact(v, secret_paths, f"{path}.{k}" if path else k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secret_paths, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _redact_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _redact_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_all(v) for v in value]
    return REDACTED


# libyaml's emitter is several times faster than PyYAML's pure-Python one and writes the same
# bytes, except where it folds a long double-quoted scalar (a string with a line break, a tab or a
# non-ASCII character): documents holding such a string are left to the pure-Python one.
_FAST_SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(document: Any) -> str:
    # The stacks of one render share many documents (a chart's CRDs, megabytes each): each is
    # written once per process. repr tells 1 from "1" and True from 1, as YAML does.
    key = repr(document)
    text = _written.get(key)
    if text is None:
        if len(_written) >= 512:
            _written.clear()
        dumper = _FAST_SAFE_DUMPER if _only_printable_ascii(document) else yaml.SafeDumper
        text = _written[key] = _dump(document, dumper)
    return text


_written: dict[str, str] = {}


def _dump(document: Any, dumper: type) -> str:
    return yaml.dump(document, Dumper=dumper, sort_keys=True, default_flow_style=False, width=120)


def _only_printable_ascii(value: Any) -> bool:
    """Whether every string in `value`, keys included, is printable ASCII on one line."""
    if isinstance(value, str):
        return value.isascii() and value.isprintable()
    if isinstance(value, dict):
        return all(_only_printable_ascii(key) and _only_printable_ascii(item) for key, item in value.items())
    if isinstance(value, list):
        return all(map(_only_printable_ascii, value))
    return isinstance(value, int | float | type(None))
