"""What Argo CD reports about each Application, read from a refreshed Pulumi state: sync status,
health, the revision it deployed, and its own words on what is wrong (error conditions, resources
out of sync)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.automation import Deployment

from gitsource.redaction import REDACTED

APPLICATION_TYPE = "kubernetes:argoproj.io/v1alpha1:Application"
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
"""How a secret value is marked in an exported state."""
UNHEALTHY = frozenset({"Degraded", "Missing"})
"""Argo CD's health of an application whose resources do not run as git declares them."""


@dataclass(frozen=True)
class ApplicationStatus:
    name: str
    namespace: str
    sync: str
    health: str
    revision: str
    urn: str = ""
    errors: tuple[str, ...] = ()
    """Argo CD's error conditions, `Type: message`: ComparisonError (it could not read or render the
    source), SyncError (an automated sync failed), InvalidSpecError, ..."""
    details: tuple[str, ...] = ()
    """The resources Argo CD finds out of sync."""

    @property
    def out_of_sync(self) -> bool:
        return self.sync == "OutOfSync"

    @property
    def drifted(self) -> bool:
        """Argo CD says the application does not run what git holds: out of sync, degraded or
        missing, or in error. An application Argo CD has not looked at yet (no status) is not."""
        return self.out_of_sync or self.health in UNHEALTHY or bool(self.errors)

    @property
    def message(self) -> str:
        """Argo CD's own words on what is wrong, "" when nothing is."""
        return "; ".join((*self.errors, *self.details))

    @property
    def ready(self) -> bool:
        """What a promotion needs from its source: Synced and Healthy."""
        return self.sync == "Synced" and self.health == "Healthy"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "sync": self.sync,
            "health": self.health,
            "revision": self.revision,
            "drift": self.drifted,
            "message": self.message,
        }


def _plain(value: Any) -> Any:
    """A state value with secrets masked (`stack export --show-secrets` writes them in plain text)."""
    if isinstance(value, Mapping) and _SECRET_SIGNATURE in value:
        return REDACTED
    return value


def _get(mapping: Any, *keys: str) -> Any:
    for key in keys:
        mapping = _plain(mapping)
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return _plain(mapping)


def application_statuses(deployment: Deployment) -> list[ApplicationStatus]:
    """Each Argo CD Application in a (refreshed) state: sync, health and deployed revision."""
    resources = (deployment.deployment or {}).get("resources") or []
    found = []
    for resource in resources:
        if resource.get("type") != APPLICATION_TYPE or resource.get("delete"):
            continue
        outputs = resource.get("outputs") or {}
        revision = _get(outputs, "status", "sync", "revision")
        if revision is None:
            revisions = _get(outputs, "status", "sync", "revisions")
            revision = ",".join(map(str, revisions)) if isinstance(revisions, list) else revisions
        found.append(
            ApplicationStatus(
                name=str(_get(outputs, "metadata", "name") or urn_name(resource.get("urn", ""))),
                namespace=str(_get(outputs, "metadata", "namespace") or ""),
                sync=str(_get(outputs, "status", "sync", "status") or "Unknown"),
                health=str(_get(outputs, "status", "health", "status") or "Unknown"),
                revision=str(revision or ""),
                urn=resource.get("urn", ""),
                errors=error_conditions(_get(outputs, "status")),
                details=out_of_sync_resources(_get(outputs, "status")),
            )
        )
    return sorted(found, key=lambda a: (a.namespace, a.name))


def _items(value: Any) -> list[Mapping[str, Any]]:
    value = _plain(value)
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def error_conditions(status: Any) -> tuple[str, ...]:
    """The error conditions of an Application's status (Argo CD names their types `...Error`)."""
    return tuple(
        f"{_get(c, 'type')}: {_get(c, 'message') or ''}".rstrip(": ")
        for c in _items(_get(status, "conditions"))
        if str(_get(c, "type") or "").endswith("Error")
    )


def out_of_sync_resources(status: Any) -> tuple[str, ...]:
    """Each resource of an Application's status that Argo CD finds out of sync: `Kind namespace/name`.
    (Its health is not there: the controller keeps resource health in its cache unless
    `controller.resource.health.persist` is true; the chart does not set it, and it is off by default.)"""
    found = []
    for item in _items(_get(status, "resources")):
        if _get(item, "status") == "OutOfSync":
            where = "/".join(str(part) for part in (_get(item, "namespace"), _get(item, "name")) if part)
            found.append(f"{_get(item, 'kind')} {where}: OutOfSync")
    return tuple(found)


def urn_name(urn: str) -> str:
    """The resource name a URN ends with (what an Application without metadata is called here, and
    what drift reports name a resource by)."""
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn
