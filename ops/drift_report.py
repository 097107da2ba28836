"""What a drift check found: the resources that differ and the Argo CD applications that drifted,
and the exit code that says so (0 clean, 2 drift, 1 error)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ops.argocd_status import ApplicationStatus


@dataclass(frozen=True)
class PropertyChange:
    path: str
    kind: str


@dataclass(frozen=True)
class ResourceDrift:
    urn: str
    type: str
    name: str
    operation: str
    changes: tuple[PropertyChange, ...] = ()
    ignored: tuple[str, ...] = ()
    """Changed paths left out as noise (kept so a report can say what it skipped)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "operation": self.operation,
            "changes": [{"path": c.path, "kind": c.kind} for c in self.changes],
            "ignored": list(self.ignored),
        }


@dataclass
class DriftReport:
    stack: str
    resources: list[ResourceDrift] = field(default_factory=list)
    applications: list[ApplicationStatus] = field(default_factory=list)
    error: str | None = None

    @property
    def has_drift(self) -> bool:
        """Pulumi sees a difference, or Argo CD says an application does not run what git holds."""
        return self.error is None and (bool(self.resources) or any(a.drifted for a in self.applications))

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        return "drift" if self.has_drift else "clean"

    @property
    def exit_code(self) -> int:
        return {"clean": 0, "error": 1, "drift": 2}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "status": self.status,
            "error": self.error,
            "resources": [r.to_dict() for r in self.resources],
            "applications": [a.to_dict() for a in self.applications],
        }
