"""Values whose format Argo CD (or a tool it runs) decides: accepted exactly when it would accept them.

Where Argo CD itself never checks a value (it silently ignores an unknown sync option), the check
here is what a typo would otherwise cost: a sync that does not do what the stack file says.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from settings.base import formatted, is_dns_subdomain
from settings.errors import did_you_mean

# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit; "0" alone too.
_GO_DURATION = r"0|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+"
HELM_RELEASE_NAME_MAX_LENGTH = 53

# Application-level sync options Argo CD and its gitops-engine act on (gitops-engine
# pkg/sync/common/types.go and the controller's sync.go), with the values each one takes.
_BOOLEAN = ("true", "false")
SYNC_OPTIONS: dict[str, tuple[str, ...]] = {
    "ApplyOutOfSyncOnly": _BOOLEAN,
    "ClientSideApplyMigration": _BOOLEAN,
    "CreateNamespace": _BOOLEAN,
    "Delete": ("true", "false", "confirm"),
    "FailOnSharedResource": _BOOLEAN,
    "Force": _BOOLEAN,
    "Prune": ("true", "false", "confirm"),
    "PruneLast": _BOOLEAN,
    "PrunePropagationPolicy": ("foreground", "background", "orphan"),
    "Replace": _BOOLEAN,
    "RespectIgnoreDifferences": _BOOLEAN,
    "ServerSideApply": _BOOLEAN,
    "SkipDryRunOnMissingResource": _BOOLEAN,
    "Validate": _BOOLEAN,
}

# An image reference as `kustomize edit set image` takes it, which is what Argo CD runs for each
# entry of `kustomize.images`: [old-name=]new-name[:tag][@digest]. Argo CD substitutes its build
# environment ($ARGOCD_APP_REVISION, ${ARGOCD_APP_NAME}) first, so a reference may contain those.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REGISTRY = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?/)"
_IMAGE_NAME = rf"{_REGISTRY}?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_KUSTOMIZE_IMAGE = re.compile(rf"^(?:{_IMAGE_NAME}=)?(?:{_IMAGE_NAME}|\*)(?::{_TAG})?(?:@{_DIGEST})?$")
_BUILD_VARIABLE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _backoff_duration(value: str) -> bool:
    """Argo CD's retry backoff: whole seconds (`30`) or a Go duration (`1m30s`)."""
    return value.isdigit() or re.fullmatch(_GO_DURATION, value) is not None


def _helm_release_name(value: str) -> bool:
    """Helm's chartutil.ValidateReleaseName: a DNS-1123 subdomain of at most 53 characters."""
    return len(value) <= HELM_RELEASE_NAME_MAX_LENGTH and is_dns_subdomain(value)


def sync_option(value: str) -> str:
    key, equals, option_value = value.partition("=")
    if not equals:
        raise ValueError(f"{value!r} is not a sync option like CreateNamespace=true")
    if key not in SYNC_OPTIONS:
        raise ValueError(f"{key!r} is not a sync option Argo CD knows{did_you_mean(key, SYNC_OPTIONS)}")
    if option_value not in SYNC_OPTIONS[key]:
        raise ValueError(f"{key} takes {' or '.join(SYNC_OPTIONS[key])}, not {option_value!r}")
    return value


def _kustomize_image(value: str) -> bool:
    return _KUSTOMIZE_IMAGE.match(_BUILD_VARIABLE.sub("x", value)) is not None


GoDuration = Annotated[str, formatted("a duration like 30s, 1m30s or 2h", pattern=_GO_DURATION)]
BackoffDuration = Annotated[str, formatted("a duration like 30 (seconds), 30s, 1m30s or 2h", check=_backoff_duration)]
ApplicationName = Annotated[
    str,
    formatted(
        "an application name like team-api or web.team-a (lowercase letters, digits, '-' and '.', at most 253)",
        check=is_dns_subdomain,
    ),
]
HelmReleaseName = Annotated[
    str,
    formatted(
        f"a Helm release name (lowercase letters, digits, '-' and '.', at most {HELM_RELEASE_NAME_MAX_LENGTH} characters)",
        check=_helm_release_name,
    ),
]
SyncOption = Annotated[str, AfterValidator(sync_option)]
KustomizeImage = Annotated[
    str,
    formatted(
        "a Kustomize image override like ghcr.io/acme/api:1.2.3, api=ghcr.io/acme/api:1.2.3 or api@sha256:<digest>",
        check=_kustomize_image,
    ),
]
