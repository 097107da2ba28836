"""How Argo CD itself is installed: chart, profile, login, SSO, RBAC and resources."""

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, model_validator

from settings.base import KubernetesName, Secret, Settings, Url, Version, formatted
from settings.errors import KeyProblems
from settings.secrets import FreeFormConfig

ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
DEFAULT_CHART_VERSION = "10.1.1"
APP_VERSIONS = {"10.1.1": "v3.4.4"}
"""Argo CD version of each chart version this project was tested with."""

BcryptHash = Annotated[
    Secret, formatted("a bcrypt hash like $2a$10$... (the hash, not the password)", pattern=r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}")
]
Rfc3339Time = Annotated[
    str,
    formatted("an RFC 3339 time like 2025-01-01T00:00:00Z", pattern=r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"),
]
Quantity = Annotated[
    str, formatted("a Kubernetes quantity like 250m or 512Mi", pattern=r"\d+(\.\d+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?")
]


class ChartSettings(Settings):
    """Where the argo-cd chart comes from: a Helm repository, an OCI registry, or a local path."""

    name: str = "argo-cd"
    version: Version = DEFAULT_CHART_VERSION
    repository: Url | None = None
    """Helm repository or oci:// registry; defaults to argo-helm unless `path` is set."""
    path: str | None = None
    """A chart directory or .tgz on disk, for air-gapped installs."""
    username: str | None = None
    password: Secret | None = None
    """Basic-auth credentials of a private `repository` (a Helm repository or an OCI registry)."""

    @model_validator(mode="after")
    def _one_source(self, info: ValidationInfo):
        if self.path and self.repository:
            raise KeyProblems(("path", "set either repository or path, not both"))
        if (self.username or self.password) and not self.repository:
            raise KeyProblems(("username" if self.username else "password", "credentials need the `repository` they are for"))
        if bool(self.username) != bool(self.password):
            missing = "password" if self.username else "username"
            raise KeyProblems((missing, "required key is missing: username and password go together"))
        project_dir = (info.context or {}).get("project_dir")
        if self.path and project_dir is not None:
            chart = Path(project_dir, self.path)
            if not chart.exists():
                raise KeyProblems(("path", f"{self.path} does not exist (relative paths start at the project directory)"))
            if chart.is_dir() and not (chart / "Chart.yaml").is_file():
                raise KeyProblems(("path", f"{self.path} is not a chart: it has no Chart.yaml"))
        return self

    @property
    def source(self) -> str:
        return self.path or self.repository or ARGO_HELM_REPOSITORY


class AdminSettings(Settings):
    """The built-in `admin` account."""

    enabled: bool = True
    password_hash: BcryptHash | None = None
    """Bcrypt hash of the admin password; generated once and kept in state when absent."""
    password_mtime: Rfc3339Time = "2025-01-01T00:00:00Z"
    """Pinned, because the chart stamps the current time on every render; change it when the password changes."""


class DexConnector(Settings):
    """One Dex connector; `config` is passed to Dex as is, `clientSecret` goes to argocd-secret."""

    type: Literal["github", "gitlab", "oidc", "google", "microsoft", "ldap", "saml"]
    id: KubernetesName
    name: str
    config: FreeFormConfig = {}
    """Dex's own settings for this connector type; a secret in it (clientSecret, bindPW...) is a
    `secure:` value or a `$key` reference to argocd-secret."""
    client_secret: Secret | None = None

    @model_validator(mode="after")
    def _one_client_secret(self):
        if self.client_secret is not None and "clientSecret" in self.config:
            raise KeyProblems(("config.clientSecret", "set clientSecret or config.clientSecret, not both"))
        return self


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
        if not self.dex and not self.oidc:
            raise KeyProblems(("", "set dex (a list of connectors) or oidc"))
        if self.dex and self.oidc:
            raise KeyProblems(("oidc", "set dex or oidc, not both"))
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
            raise KeyProblems(("admin.enabled", "is false and no sso is set: nobody could log in"))
        return self
