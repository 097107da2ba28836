"""What kind of Argo CD application a directory holds, decided the way Argo CD decides it.

Mirrors argo-cd util/app/discovery/discovery.go: Argo CD walks a directory's files in lexical
order and every marker file overwrites the verdict, so the lexically last marker wins (with both
`Chart.yaml` and `kustomization.yaml` present the app is Kustomize), and any name that merely
ends in `Chart.yaml` counts as a chart. Jsonnet is a directory app whose files Argo CD evaluates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from itertools import compress, repeat


class AppType(StrEnum):
    HELM = "helm"
    KUSTOMIZE = "kustomize"
    DIRECTORY = "directory"
    JSONNET = "jsonnet"
    PLUGIN = "plugin"
    """Never detected: a source with a `plugin` block is rendered by a config management plugin."""


HELM_MARKER_SUFFIX = "Chart.yaml"
KUSTOMIZATION_FILE_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "Kustomization"})
JSONNET_SUFFIXES = (".jsonnet", ".libsonnet")
# Every ending of a name that can change a directory's type.
TYPE_FILE_SUFFIXES = (HELM_MARKER_SUFFIX, *sorted(KUSTOMIZATION_FILE_NAMES), *JSONNET_SUFFIXES)


def record_directory_types(sorted_paths: Sequence[str], types: dict[str, AppType]) -> None:
    """Add to `types` the type of every directory that holds a type-deciding file.

    Directories not in `types` are DIRECTORY; the root is "". `sorted_paths` are file paths in
    code point order, so a directory's files arrive in Argo CD's lexical order and a later marker
    simply overwrites an earlier one. Consecutive slices of one sorted listing can be recorded
    one after the other into the same `types`.
    """
    # Locals, not enum attributes and globals: this loop runs while git is still writing.
    helm, kustomize, jsonnet = AppType.HELM, AppType.KUSTOMIZE, AppType.JSONNET
    kustomization_names, jsonnet_suffixes, helm_suffix = KUSTOMIZATION_FILE_NAMES, JSONNET_SUFFIXES, HELM_MARKER_SUFFIX
    # The C-level suffix filter leaves the Python loop only the few paths that can matter.
    candidates = compress(sorted_paths, map(str.endswith, sorted_paths, repeat(TYPE_FILE_SUFFIXES)))
    for directory, _, name in map(str.rpartition, candidates, repeat("/")):
        if name.endswith(jsonnet_suffixes):
            if directory not in types:
                types[directory] = jsonnet
        elif name in kustomization_names:
            types[directory] = kustomize
        elif name.endswith(helm_suffix):
            types[directory] = helm


def app_type_of(file_names: Iterable[str]) -> AppType:
    """Classify one directory from the names of the files directly inside it."""
    types: dict[str, AppType] = {}
    record_directory_types(sorted(file_names), types)
    return types.get("", AppType.DIRECTORY)


def marker_types(file_names: Iterable[str]) -> set[AppType]:
    """Every tool a directory has a marker file for (Helm, Kustomize), whichever discovery picks:
    an explicit `helm` or `kustomize` block makes Argo CD use that tool, which works only when its
    marker is there (`ApplicationSource.ExplicitType` in argo-cd's types.go)."""
    found: set[AppType] = set()
    for name in file_names:
        if name in KUSTOMIZATION_FILE_NAMES:
            found.add(AppType.KUSTOMIZE)
        elif name.endswith(HELM_MARKER_SUFFIX):
            found.add(AppType.HELM)
    return found
