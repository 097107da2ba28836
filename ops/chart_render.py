"""The objects a Helm chart of the program makes, for `ops render`.

helm.v4.Chart renders a chart with Helm's own library inside the Kubernetes provider; offline,
`helm template` does the same with the same values, rendered as the provider renders them: hooks
left out (Chart v4 does not run them), CRDs in, null fields dropped, the release namespace on
namespaced objects, and the ownership annotation the program's transform adds
(components/ownership.py). tests/e2e/test_render.py holds this to what the engine really applies. A chart from a
Helm repository is read from `charts/<name>-<version>.tgz` when the project keeps that exact
chart, so a render needs no network; otherwise helm fetches it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.ownership import owned

LOCAL_CHARTS = Path(__file__).resolve().parent.parent / "charts"
# Kinds the argo-cd chart (and Kubernetes) keep at cluster scope; every other kind gets the
# release namespace when the template leaves it out, as the provider does.
CLUSTER_SCOPED_KINDS = {
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
    "ValidatingWebhookConfiguration",
}


@dataclass(frozen=True)
class ChartRendering:
    release: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    source: str = ""
    """Where the chart came from, for the summary."""
    skipped: str | None = None
    """Why the chart's objects are not in the render, when they are not."""


def start_chart(inputs: dict[str, Any], kubernetes_version: str, project_dir: Path) -> Callable[[], ChartRendering]:
    """Start `helm template` of the chart a helm.v4.Chart registration (its inputs) names; the
    returned function waits for it and gives the chart's objects. helm works out the whole chart
    before it writes a byte, so charts started together render side by side."""
    release = inputs.get("name") or "chart"
    helm = shutil.which("helm")
    if helm is None:
        return lambda: ChartRendering(release, skipped="helm is not on PATH (scripts/tools.sh builds it)")
    chart, version, repository = inputs.get("chart"), inputs.get("version"), (inputs.get("repositoryOpts") or {}).get("repo")
    source_args, source = _chart_source(chart, version, repository, project_dir)
    scratch = tempfile.TemporaryDirectory()
    values = Path(scratch.name) / "values.json"
    values.write_text(json.dumps(inputs.get("values") or {}))
    namespace = inputs.get("namespace") or "default"
    command = [helm, "template", release, *source_args, "--namespace", namespace, "--values", str(values)]
    command += ["--no-hooks", "--include-crds", "--kube-version", kubernetes_version]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def finish() -> ChartRendering:
        with scratch, process:
            stdout, stderr = process.communicate()
        if process.returncode != 0:
            detail = next((line for line in stderr.splitlines() if line.strip()), "no message")
            return ChartRendering(release, source=source, skipped=f"helm template failed: {detail}")
        objects = [_as_the_provider_applies(obj, namespace) for obj in parsed_documents(stdout)]
        return ChartRendering(release, objects, source)

    return finish


# A line `---` starts a YAML document wherever it stands (no scalar may hold one at column 0), so
# helm's stream splits into its documents. Each is parsed once per process: the stacks of a render
# share most of what their charts make, the CRDs (nine tenths of the text) above all, and PyYAML
# resolves every scalar in Python even with libyaml's parser.
_DOCUMENT_START = re.compile(r"^---(?=\s|$)", re.MULTILINE)


def parsed_documents(stream: str) -> list[Any]:
    """The documents of a YAML stream as `yaml.safe_load_all` reads them, less the empty ones;
    shared between the streams that hold the same document, so not to be changed."""
    return [document for document in map(_parsed, _DOCUMENT_START.split(stream)) if document]


@cache
def _parsed(document: str) -> Any:
    return yaml.load(document, Loader=yaml.CSafeLoader)


def _chart_source(chart: str, version: str | None, repository: str | None, project_dir: Path) -> tuple[list[str], str]:
    if repository is None and (project_dir / chart).exists():
        return [str(project_dir / chart)], chart
    kept = LOCAL_CHARTS / f"{chart.rsplit('/', 1)[-1]}-{version}.tgz"
    if version and kept.exists():
        origin = repository or chart.rsplit("/", 1)[0]
        return [str(kept)], f"{kept.relative_to(LOCAL_CHARTS.parent)} (the same chart and version as {origin})"
    if repository:
        return [chart, "--repo", repository, *(["--version", version] if version else [])], repository
    return [chart, *(["--version", version] if version else [])], chart


def _as_the_provider_applies(obj: dict[str, Any], namespace: str) -> dict[str, Any]:
    obj = _without_nulls(obj)
    metadata = dict(obj.get("metadata") or {})
    if obj.get("kind") not in CLUSTER_SCOPED_KINDS:
        metadata.setdefault("namespace", namespace)
    return {**obj, "metadata": owned(metadata)}


def _without_nulls(value: Any) -> Any:
    # The provider (before 4.30) drops null fields of what a chart renders, like a Role's empty `rules:`.
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
