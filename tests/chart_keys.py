"""Check chart values against the keys the argo-cd chart really reads: its values.yaml and its
redis-ha subchart's, from the packaged chart kept in the project (charts/)."""

import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.argocd_values import merge_values

CHART = Path(__file__).resolve().parent.parent / "charts" / "argo-cd-10.1.1.tgz"
SUBCHARTS = {"redis-ha": "argo-cd/charts/redis-ha/values.yaml"}

# Maps the chart passes through as they are (../shared/reference/README.md).
FREE_FORM_PATHS = {
    "configs.cm",
    "configs.params",
    "configs.rbac",
    "configs.repositories",
    "configs.credentialTemplates",
    "configs.clusterCredentials",
}
FREE_FORM_KEYS = {"annotations", "labels", "extraArgs", "env", "podAnnotations", "podLabels"}


@cache
def chart_defaults() -> dict[str, Any]:
    with tarfile.open(CHART) as chart:

        def values(member: str) -> dict[str, Any]:
            return yaml.load(chart.extractfile(member).read(), Loader=yaml.CSafeLoader)

        defaults = values("argo-cd/values.yaml")
        for name, member in SUBCHARTS.items():
            # The parent's values for a subchart override the subchart's own defaults.
            subchart = values(member)
            merge_values(subchart, defaults.get(name, {}))
            defaults[name] = subchart
        return defaults


def unknown_chart_keys(values: dict[str, Any], defaults: dict[str, Any] | None = None, prefix: str = "") -> list[str]:
    """Key paths in `values` that the chart does not have."""
    defaults = chart_defaults() if defaults is None else defaults
    unknown = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in FREE_FORM_PATHS or key in FREE_FORM_KEYS:
            continue
        if key not in defaults:
            unknown.append(path)
            continue
        default = defaults[key]
        if isinstance(value, dict) and isinstance(default, dict) and default:
            unknown += unknown_chart_keys(value, default, f"{path}.")
        elif isinstance(value, dict) and default not in ({}, None):
            unknown.append(f"{path} (the chart expects {type(default).__name__})")
    return unknown
