"""What kind of Argo CD application a directory holds, decided the way Argo CD decides it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class AppType(StrEnum):
    HELM = "helm"
    KUSTOMIZE = "kustomize"
    DIRECTORY = "directory"
    JSONNET = "jsonnet"


KUSTOMIZATION_FILE_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
JSONNET_SUFFIXES = (".jsonnet", ".libsonnet")


def app_type_of(file_names: Iterable[str]) -> AppType:
    """Classify a directory from the names of the files directly inside it.

    Mirrors argo-cd util/app/discovery/discovery.go: it walks the files in lexical order and
    each marker overwrites the previous verdict, so the lexically last marker wins (with both
    `Chart.yaml` and `kustomization.yaml` present the app is Kustomize), and any name ending in
    `Chart.yaml` counts as a chart. Jsonnet is a directory app whose files Argo CD evaluates.
    """
    names = sorted(file_names)
    verdict: AppType | None = None
    for name in names:
        if name.endswith("Chart.yaml"):
            verdict = AppType.HELM
        if name in KUSTOMIZATION_FILE_NAMES:
            verdict = AppType.KUSTOMIZE
    if verdict is not None:
        return verdict
    if any(name.endswith(JSONNET_SUFFIXES) for name in names):
        return AppType.JSONNET
    return AppType.DIRECTORY
