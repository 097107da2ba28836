"""What CI works on: the stacks its workflows deploy, preview and check, and the cloud each logs in to."""

from __future__ import annotations

from pathlib import Path

from ops.errors import OpsError
from ops.project import load_settings, stack_file, stack_names


def ci_matrix(root: Path, only: list[str] | None = None) -> list[dict[str, str]]:
    """The stacks CI works on (every stack but local-tier ones, or just `only`) with what the cloud
    login of each needs: `cloud` (aws, gcp or none) and `region`."""
    rows = []
    for name in only or stack_names(root):
        settings = load_settings(stack_file(root, name))
        if settings.environment.tier == "local":
            if only:
                raise OpsError(f"stack {name!r} is a local-tier stack: CI cannot reach its cluster")
            continue
        cluster = settings.cluster
        rows.append(
            {
                "stack": name,
                "cloud": {"eks": "aws", "gke": "gcp"}.get(cluster.kind, "none"),
                "region": getattr(cluster, "region", None) or getattr(cluster, "location", None) or "",
            }
        )
    return rows
