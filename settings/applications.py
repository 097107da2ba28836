"""What Argo CD deploys: repositories and their credentials, AppProjects, Applications and discovery."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from settings.base import KubernetesName, Secret, Settings

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
DEFAULT_PROJECT = "default"
DEFAULT_REVISION = "HEAD"
NAME_PLACEHOLDER = "{name}"

_REPOSITORY_URL = re.compile(r"^((https?|ssh|git|file|oci)://[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:[^\s]+)$")
_DURATION = re.compile(r"^\d+(s|m|h)?$")


def _repository_url(value: str) -> str:
    if not _REPOSITORY_URL.match(value):
        raise ValueError(f"{value!r} is not a repository URL (https://, ssh://, git@host:path, file:// or oci://)")
    if re.match(r"^https?://[^/]*@", value):
        raise ValueError("put credentials under `credentials`, not in the URL")
    return value


def _duration(value: str) -> str:
    if not _DURATION.match(value):
        raise ValueError(f"{value!r} is not a duration like 5s, 3m or 1h")
    return value


def _name_template(value: str) -> str:
    if re.sub(r"\{name\}", "", value).count("{") or re.sub(r"\{name\}", "", value).count("}"):
        raise ValueError(f"{value!r}: the only placeholder is {NAME_PLACEHOLDER}")
    return value


RepositoryUrl = Annotated[str, AfterValidator(_repository_url)]
Duration = Annotated[str, AfterValidator(_duration)]
NameTemplate = Annotated[str, AfterValidator(_name_template)]


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
        app = (self.github_app_id, self.github_app_installation_id, self.github_app_private_key)
        if any(value is not None for value in app) and any(value is None for value in app):
            raise ValueError("a GitHub App needs githubAppId, githubAppInstallationId and githubAppPrivateKey")
        kinds = [
            kind
            for kind, given in (
                ("password", self.password is not None),
                ("sshPrivateKey", self.ssh_private_key is not None),
                ("githubApp*", self.github_app_id is not None),
            )
            if given
        ]
        if self.username is not None and self.password is None:
            raise ValueError("username goes with password")
        if len(kinds) != 1:
            raise ValueError("give exactly one of password (with username), sshPrivateKey or githubApp* keys")
        return self


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
    def _template_has_credentials(self):
        if self.credential_template and self.credentials is None:
            raise ValueError("credentialTemplate needs credentials")
        if self.type == "helm" and self.credentials and self.credentials.password is None:
            raise ValueError("a Helm repository takes username and password credentials only")
        return self


class ProjectDestination(Settings):
    server: str | None = None
    name: str | None = None
    """A cluster's name in Argo CD, instead of its server URL."""
    namespace: str
    """A namespace or a glob (`team-*`, `*`)."""

    @model_validator(mode="after")
    def _server_or_name(self):
        if (self.server is None) == (self.name is None):
            raise ValueError("set exactly one of server or name")
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
    server: str | None = None
    """Defaults to the cluster Argo CD runs in."""
    name: str | None = None
    namespace: KubernetesName

    @model_validator(mode="after")
    def _not_both(self):
        if self.server is not None and self.name is not None:
            raise ValueError("set server or name, not both")
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
        if (self.path is None) == (self.chart is None):
            raise ValueError("set exactly one of path (git) or chart (Helm repository)")
        if self.chart is not None and "revision" not in self.model_fields_set:
            raise ValueError("a chart needs revision: the chart version, like 1.2.3")
        if sum(block is not None for block in (self.helm, self.kustomize, self.directory)) > 1:
            raise ValueError("set at most one of helm, kustomize or directory")
        return self


class DiscoveryDestination(Settings):
    server: str | None = None
    name: str | None = None
    namespace: NameTemplate = NAME_PLACEHOLDER
    """Namespace of each discovered application; `{name}` is the folder's name."""

    @model_validator(mode="after")
    def _not_both(self):
        if self.server is not None and self.name is not None:
            raise ValueError("set server or name, not both")
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
