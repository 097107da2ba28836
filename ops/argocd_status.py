"""What Argo CD reports about each Application, read from a refreshed Pulumi state: sync status,
health and the revision it deployed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pulumi.automation import Deployment

from gitsource.redaction import REDACTED

APPLICATION_TYPE = "kubernetes:argoproj.io/v1alpha1:Application"
_SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
"""How a secret value is marked in an exported state."""


@dataclass(frozen=True)
class ApplicationStatus:
    name: str
    namespace: str
    sync: str
    health: str
    revision: str
    urn: str = ""

    @property
    def out_of_sync(self) -> bool:
        return self.sync == "OutOfSync"

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
            "drift": self.out_of_sync,
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
            )
        )
    return sorted(found, key=lambda a: (a.namespace, a.name))


def urn_name(urn: str) -> str:
    """The resource name a URN ends with (what an Application without metadata is called here, and
    what drift reports name a resource by)."""
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn
