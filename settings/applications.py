"""What Argo CD deploys: repositories and their credentials, AppProjects, Applications and discovery."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from gitsource.credentials import is_http_url, is_ssh_url
from settings.base import KubernetesName, Secret, Settings, formatted
from settings.errors import KeyProblems

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
DEFAULT_PROJECT = "default"
DEFAULT_REVISION = "HEAD"
NAME_PLACEHOLDER = "{name}"


def _no_https_credentials(value: str) -> str:
    if re.match(r"^https?://[^/]*@", value):
        raise ValueError("put credentials under `credentials`, not in the URL")
    return value


def _one_placeholder(value: str) -> bool:
    rest = value.replace(NAME_PLACEHOLDER, "")
    return "{" not in rest and "}" not in rest


RepositoryUrl = Annotated[
    str,
    AfterValidator(_no_https_credentials),
    formatted(
        "a repository URL: https://, ssh://, git@host:path, file:// or oci://",
        pattern=r"(https?|ssh|git|file|oci)://\S+|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:\S+",
    ),
]
Duration = Annotated[str, formatted("a duration like 5s, 3m or 1h", pattern=r"\d+(s|m|h)?")]
NameTemplate = Annotated[
    str, formatted(f"a name whose only placeholder is {NAME_PLACEHOLDER}, like team-{NAME_PLACEHOLDER}", check=_one_placeholder)
]
ServerUrl = Annotated[str, formatted(f"a cluster API URL like {IN_CLUSTER_SERVER}", pattern=r"https?://[^\s/]+(/\S*)?")]
ServerPattern = Annotated[
    str, formatted(f"a cluster API URL or glob like {IN_CLUSTER_SERVER} or https://*.example.com", pattern=r"\*|https?://\S+")
]


class RepositoryCredentials(Settings):
    """One kind of credentials: HTTPS (username + password or token), an SSH key, or a GitHub App."""

    username: str | None = None
    """HTTPS user name; git hosts accept any name with a token."""
    password: Secret | None = None
    """HTTPS password or access token."""
    ssh_private_key: Secret | None = None
    github_app_id: int | None = None
    github_app_installation_id: int | None = None
    github_app_private_key: Secret | None = None
    github_app_enterprise_base_url: str | None = None
    """GitHub Enterprise Server API, like https://ghe.example.com/api/v3."""

    @model_validator(mode="after")
    def _one_kind(self):
        app = {
            "githubAppId": self.github_app_id,
            "githubAppInstallationId": self.github_app_installation_id,
            "githubAppPrivateKey": self.github_app_private_key,
        }
        if any(value is not None for value in app.values()):
            missing = [key for key, value in app.items() if value is None]
            if missing:
                message = "required key is missing: a GitHub App needs all three githubApp* keys"
                raise KeyProblems(*((key, message) for key in missing))
        if self.username is not None and self.password is None:
            raise KeyProblems(("password", "required key is missing: username goes with a password or token"))
        given = self.kinds()
        if not given:
            raise KeyProblems(("", "give one kind of credentials: password (with username), sshPrivateKey or githubApp* keys"))
        if len(given) > 1:
            raise KeyProblems((given[1], f"give one kind of credentials: {given[0]} and {given[1]} are both set"))
        return self

    def kinds(self) -> list[str]:
        """The key of each kind of credentials given: password, sshPrivateKey, githubAppPrivateKey."""
        return [
            key
            for key, value in (
                ("password", self.password),
                ("sshPrivateKey", self.ssh_private_key),
                ("githubAppPrivateKey", self.github_app_private_key),
            )
            if value is not None
        ]


class RepositorySettings(Settings):
    """A git or Helm repository Argo CD reads from, registered as a repository Secret."""

    url: RepositoryUrl
    """For `credentialTemplate: true`, a URL prefix (https://github.com/acme) the credentials apply to."""
    type: Literal["git", "helm"] = "git"
    credentials: RepositoryCredentials | None = None
    credential_template: bool = False
    """Emit a repo-creds template for every repository under `url` instead of one repository."""
    project: KubernetesName | None = None
    """Scope the repository to one AppProject."""

    @model_validator(mode="after")
    def _credentials_fit(self):
        if self.credential_template and self.credentials is None:
            raise KeyProblems(("credentials", "required key is missing: credentialTemplate needs credentials"))
        kind = self.credentials.kinds()[0] if self.credentials else None
        if self.type == "helm" and kind not in (None, "password"):
            raise KeyProblems((f"credentials.{kind}", "a Helm repository takes username and password credentials only"))
        if kind == "sshPrivateKey" and is_http_url(self.url):
            raise KeyProblems((f"credentials.{kind}", "an SSH key needs an ssh:// or git@host:path URL, not an https:// one"))
        if kind in ("password", "githubAppPrivateKey") and is_ssh_url(self.url):
            what = "a password or token" if kind == "password" else "a GitHub App"
            raise KeyProblems((f"credentials.{kind}", f"{what} needs an https:// URL, not an SSH one"))
        return self


class ProjectDestination(Settings):
    server: ServerPattern | None = None
    name: str | None = None
    """A cluster's name in Argo CD, instead of its server URL."""
    namespace: str
    """A namespace or a glob (`team-*`, `*`)."""

    @model_validator(mode="after")
    def _server_or_name(self):
        if self.server is None and self.name is None:
            raise KeyProblems(("server", "required key is missing: set server (or name)"))
        if self.server is not None and self.name is not None:
            raise KeyProblems(("name", "set server or name, not both"))
        return self


class GroupKind(Settings):
    group: str
    """API group; "" is the core group."""
    kind: str


class ProjectRole(Settings):
    name: KubernetesName
    description: str | None = None
    policies: list[str] = []
    groups: list[str] = []


class SyncWindow(Settings):
    kind: Literal["allow", "deny"]
    schedule: str
    """Cron expression of when the window opens."""
    duration: str
    applications: list[str] = []
    namespaces: list[str] = []
    clusters: list[str] = []
    manual_sync: bool | None = None
    time_zone: str | None = None


class ProjectSettings(Settings):
    description: str | None = None
    source_repos: list[str] = ["*"]
    """Repository names of `gitops:repositories`, URLs or globs."""
    destinations: list[ProjectDestination] = Field(min_length=1)
    cluster_resource_whitelist: list[GroupKind] = []
    namespace_resource_blacklist: list[GroupKind] = []
    roles: list[ProjectRole] = []
    sync_windows: list[SyncWindow] = []


class ApplicationDestination(Settings):
    server: ServerUrl | None = None
    """Defaults to the cluster Argo CD runs in."""
    name: str | None = None
    namespace: KubernetesName

    @model_validator(mode="after")
    def _not_both(self):
        if self.server is not None and self.name is not None:
            raise KeyProblems(("name", "set server or name, not both"))
        return self

    @property
    def effective_server(self) -> str | None:
        return None if self.name is not None else (self.server or IN_CLUSTER_SERVER)


class HelmParameter(Settings):
    name: str
    value: str
    force_string: bool | None = None


class HelmSource(Settings):
    release_name: KubernetesName | None = None
    value_files: list[str] = []
    values: dict[str, Any] = {}
    """Free-form chart values (Argo CD's valuesObject)."""
    parameters: list[HelmParameter] = []


class KustomizeSource(Settings):
    images: list[str] = []
    """Image overrides like `ghcr.io/acme/api:1.2.3`."""
    name_prefix: str | None = None


class DirectorySource(Settings):
    recurse: bool = False


class AutomatedSync(Settings):
    prune: bool = False
    self_heal: bool = False


class Backoff(Settings):
    duration: Duration | None = None
    factor: int | None = None
    max_duration: Duration | None = None


class Retry(Settings):
    limit: int = Field(ge=0)
    backoff: Backoff | None = None


class SyncPolicy(Settings):
    automated: AutomatedSync | None = None
    sync_options: list[str] = []
    """Like CreateNamespace=true or ServerSideApply=true."""
    retry: Retry | None = None


class IgnoreDifference(Settings):
    group: str | None = None
    kind: str
    name: str | None = None
    namespace: str | None = None
    json_pointers: list[str] = []
    jq_path_expressions: list[str] = []
    managed_fields_managers: list[str] = []


class ApplicationSettings(Settings):
    """One Argo CD Application from a path of a git repository or a chart of a Helm repository."""

    repository: str
    """A name of `gitops:repositories`."""
    path: str | None = None
    """Directory in a git repository."""
    chart: str | None = None
    """Chart name in a Helm repository."""
    revision: str = DEFAULT_REVISION
    """Branch, tag or commit (git; pinned to the commit it resolves to), or chart version (Helm)."""
    follow_branch: bool = False
    """Do not pin: Argo CD follows `revision` as it moves."""
    destination: ApplicationDestination
    project: KubernetesName = DEFAULT_PROJECT
    helm: HelmSource | None = None
    kustomize: KustomizeSource | None = None
    directory: DirectorySource | None = None
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[IgnoreDifference] = []
    cascade_delete: bool | None = None
    """Delete the application's resources with it; defaults to false on production, true elsewhere."""

    @model_validator(mode="after")
    def _one_source(self):
        if self.path is None and self.chart is None:
            raise KeyProblems(("path", "required key is missing: set path (git) or chart (Helm repository)"))
        if self.path is not None and self.chart is not None:
            raise KeyProblems(("chart", "set path (git) or chart (Helm repository), not both"))
        if self.chart is not None and "revision" not in self.model_fields_set:
            raise KeyProblems(("revision", "required key is missing: a chart needs the chart version, like 1.2.3"))
        blocks = [key for key in ("helm", "kustomize", "directory") if getattr(self, key) is not None]
        if len(blocks) > 1:
            raise KeyProblems((blocks[1], f"set at most one of helm, kustomize or directory: {blocks[0]} is set too"))
        return self


class DiscoveryDestination(Settings):
    server: ServerUrl | None = None
    name: str | None = None
    namespace: NameTemplate = NAME_PLACEHOLDER
    """Namespace of each discovered application; `{name}` is the folder's name."""

    @model_validator(mode="after")
    def _not_both(self):
        if self.server is not None and self.name is not None:
            raise KeyProblems(("name", "set server or name, not both"))
        return self


class DiscoverySettings(Settings):
    """One Application per folder of a git repository matching `path` (like `apps/*`)."""

    repository: str
    path: str
    """A glob over directories: `apps/*`, `envs/*/apps/*`."""
    revision: str = DEFAULT_REVISION
    follow_branch: bool = False
    project: KubernetesName = DEFAULT_PROJECT
    name: NameTemplate = NAME_PLACEHOLDER
    """Name of each application; `{name}` is the folder's name."""
    destination: DiscoveryDestination = DiscoveryDestination()
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[IgnoreDifference] = []
    cascade_delete: bool | None = None
