"""How Argo CD itself is installed: chart, profile, login, SSO, RBAC and resources."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from settings.base import KubernetesName, Secret, Settings, Url, Version

ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
DEFAULT_CHART_VERSION = "10.1.1"
APP_VERSIONS = {"10.1.1": "v3.4.4"}
"""Argo CD version of each chart version this project was tested with."""

_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_QUANTITY = re.compile(r"^\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def _rfc3339(value: str) -> str:
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not an RFC 3339 time like 2025-01-01T00:00:00Z")
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise ValueError(f"{value!r} is not a Kubernetes quantity like 250m or 512Mi")
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]


class ChartSettings(Settings):
    """Where the argo-cd chart comes from: a Helm repository, an OCI registry, or a local path."""

    name: str = "argo-cd"
    version: Version = DEFAULT_CHART_VERSION
    repository: Url | None = None
    """Helm repository or oci:// registry; defaults to argo-helm unless `path` is set."""
    path: str | None = None
    """A chart directory or .tgz on disk, for air-gapped installs."""

    @model_validator(mode="after")
    def _one_source(self):
        if self.path and self.repository:
            raise ValueError("set either repository or path, not both")
        return self

    @property
    def source(self) -> str:
        return self.path or self.repository or ARGO_HELM_REPOSITORY


class AdminSettings(Settings):
    """The built-in `admin` account."""

    enabled: bool = True
    password_hash: Secret | None = None
    """Bcrypt hash of the admin password; generated once and kept in state when absent."""
    password_mtime: Annotated[str, AfterValidator(_rfc3339)] = "2025-01-01T00:00:00Z"
    """Pinned, because the chart stamps the current time on every render; change it when the password changes."""

    @model_validator(mode="after")
    def _bcrypt(self):
        if self.password_hash and not _BCRYPT.match(self.password_hash.get_secret_value()):
            raise ValueError("passwordHash must be a bcrypt hash ($2a$/$2b$/$2y$...), not a plain password")
        return self


class DexConnector(Settings):
    """One Dex connector; `config` is passed to Dex as is, `clientSecret` goes to argocd-secret."""

    type: Literal["github", "gitlab", "oidc", "google", "microsoft", "ldap", "saml"]
    id: KubernetesName
    name: str
    config: dict[str, Any] = {}
    client_secret: Secret | None = None


class OidcSettings(Settings):
    """Argo CD's own OIDC client (no Dex)."""

    name: str
    issuer: Url
    client_id: str
    client_secret: Secret
    cli_client_id: str | None = None
    requested_scopes: list[str] = ["openid", "profile", "email", "groups"]


class SsoSettings(Settings):
    """Single sign-on: Dex connectors, or Argo CD's own OIDC client, not both."""

    dex: list[DexConnector] = []
    oidc: OidcSettings | None = None

    @model_validator(mode="after")
    def _one_provider(self):
        if bool(self.dex) == bool(self.oidc):
            raise ValueError("set exactly one of dex (a list of connectors) or oidc")
        return self


class RbacSettings(Settings):
    """Argo CD RBAC: `policy.csv` lines and the role everyone else gets."""

    default_role: str = "role:readonly"
    policy: str = ""
    scopes: list[str] = ["groups"]


class ResourceRequirements(Settings):
    requests: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = {}
    limits: dict[Literal["cpu", "memory", "ephemeral-storage"], Quantity] = {}


ArgoCDComponent = Literal["server", "repoServer", "controller", "redis", "dex", "applicationSet"]


class ArgoCDSettings(Settings):
    namespace: KubernetesName = "argocd"
    chart: ChartSettings = ChartSettings()
    ha: bool | None = None
    """High-availability profile (redis-ha, several replicas); defaults to true on production stacks."""
    deletion_protection: bool | None = None
    """Protect the namespace and chart from `pulumi destroy`; defaults to true on production stacks."""
    admin: AdminSettings = AdminSettings()
    sso: SsoSettings | None = None
    rbac: RbacSettings = RbacSettings()
    resources: dict[ArgoCDComponent, ResourceRequirements] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _someone_can_log_in(self):
        if not self.admin.enabled and self.sso is None:
            raise ValueError("admin.enabled is false and no sso is set: nobody could log in")
        return self
