"""Check chart values against the keys the argo-cd chart really reads (its values.yaml)."""

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

REFERENCE = Path(__file__).resolve().parent.parent.parent / "shared" / "reference"
CHART_VALUES = REFERENCE / "argo-cd-chart-10.1.1" / "values.yaml"

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
    if not CHART_VALUES.exists():
        pytest.skip(f"reference chart values not found at {CHART_VALUES} (they come with ../shared/)")
    return yaml.load(CHART_VALUES.read_text(), Loader=yaml.CSafeLoader)


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
