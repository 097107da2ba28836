"""What Argo CD deploys: repositories and their credentials, AppProjects, Applications and discovery."""

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, PlainValidator, model_validator

from gitsource.credentials import is_http_url, is_ssh_url
from settings.argocd_formats import BackoffDuration, GoDuration, HelmReleaseName, KustomizeImage, SyncOption
from settings.base import KubernetesName, Secret, Settings, formatted
from settings.errors import KeyProblems
from settings.path_templates import NAME_PLACEHOLDER, template_problem

IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"
"""The name Argo CD gives the cluster it runs in."""
DEFAULT_PROJECT = "default"
DEFAULT_REVISION = "HEAD"
COMMIT_PLACEHOLDER = "{commit}"
"""In Helm values and parameters: the commit the source resolved to (app of apps)."""
VALUES_REF_PREFIX = "$"
"""A value file `$<ref>/path` is read from the source whose `ref` is <ref>."""


def _no_https_credentials(value: str) -> str:
    if re.match(r"^https?://[^/]*@", value):
        raise ValueError("put credentials under `credentials`, not in the URL")
    return value


def _name_template(value: str) -> str:
    problem = template_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _folder_pattern(value: str) -> str:
    # Argo CD matches patterns against folder paths as its repo server lists them ("apps/web"),
    # so "./apps/*" or "apps/*/" would silently match nothing there.
    if value.startswith(("./", "/")) or value.endswith("/") or value in ("", "."):
        raise ValueError(f"{value!r}: write a folder pattern relative to the repository root, like apps/* (no ./ or trailing /)")
    # Imported here: the git layer loads only for stacks that discover.
    from gitsource import GitSourceError
    from gitsource.path_match import compile_path_pattern

    try:
        compile_path_pattern(value)
    except GitSourceError as error:
        raise ValueError(str(error)) from None
    return value


RepositoryUrl = Annotated[
    str,
    AfterValidator(_no_https_credentials),
    formatted(
        "a repository URL: https://, ssh://, git@host:path, file:// or oci://",
        pattern=r"(https?|ssh|git|file|oci)://\S+|[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:\S+",
    ),
]
NameTemplate = Annotated[str, AfterValidator(_name_template)]
RefName = Annotated[str, formatted("a ref name like values (letters, digits, '-' and '_')", pattern=r"[A-Za-z0-9_-]+")]
FolderPattern = Annotated[str, AfterValidator(_folder_pattern)]
ServerUrl = Annotated[str, formatted(f"a cluster API URL like {IN_CLUSTER_SERVER}", pattern=r"https?://[^\s/]+(/\S*)?")]
ServerPattern = Annotated[
    str,
    formatted(
        f"a cluster API URL or glob like {IN_CLUSTER_SERVER}, https://*.example.com or !https://prod.example.com",
        pattern=r"!?(\*|https?://\S+)",
    ),
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
    """A cluster's API URL or a glob; `!pattern` denies."""
    name: str | None = None
    """A cluster's name in Argo CD (or a glob), instead of or besides its server URL."""
    namespace: str
    """A namespace or a glob (`team-*`, `*`); `!kube-system` denies."""

    @model_validator(mode="after")
    def _server_or_name(self):
        if self.server is None and self.name is None:
            raise KeyProblems(("server", "required key is missing: set server or name (or both)"))
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
    duration: GoDuration
    applications: list[str] = []
    namespaces: list[str] = []
    clusters: list[str] = []
    manual_sync: bool | None = None
    time_zone: str | None = None
    description: str | None = None
    and_operator: bool | None = None
    """Match only applications that match all of applications, namespaces and clusters."""


class DestinationServiceAccount(Settings):
    """The service account Argo CD impersonates when it syncs to this destination."""

    server: str
    """A cluster's API URL or a glob."""
    namespace: str | None = None
    default_service_account: str
    """`name` or `namespace:name`."""


class OrphanedResourceKey(Settings):
    group: str | None = None
    kind: str | None = None
    name: str | None = None


class OrphanedResources(Settings):
    warn: bool | None = None
    """Raise a warning condition on applications with orphaned resources."""
    ignore: list[OrphanedResourceKey] = []


class SignatureKey(Settings):
    key_id: str = Field(alias="keyID")
    """The GnuPG key id every synced commit must be signed with."""


class ProjectSettings(Settings):
    description: str | None = None
    source_repos: list[str] = ["*"]
    """Repository names of `gitops:repositories`, URLs or globs; `!url` denies."""
    destinations: list[ProjectDestination] = Field(min_length=1)
    cluster_resource_whitelist: list[GroupKind] = []
    cluster_resource_blacklist: list[GroupKind] = []
    namespace_resource_whitelist: list[GroupKind] = []
    namespace_resource_blacklist: list[GroupKind] = []
    roles: list[ProjectRole] = []
    sync_windows: list[SyncWindow] = []
    source_namespaces: list[str] = []
    """Namespaces besides Argo CD's own whose Applications may use this project."""
    destination_service_accounts: list[DestinationServiceAccount] = []
    orphaned_resources: OrphanedResources | None = None
    signature_keys: list[SignatureKey] = []
    permit_only_project_scoped_clusters: bool = False


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
    """`{commit}` is replaced by the commit the source resolved to."""
    force_string: bool | None = None


class HelmFileParameter(Settings):
    name: str
    path: str
    """A file of the repository, relative to the application's path."""


class HelmSource(Settings):
    release_name: HelmReleaseName | None = None
    value_files: list[str] = []
    """Relative to the application's path, `/`-rooted at the repository root, `$ref/...` from
    another source, or an http(s) URL. Each must exist at the pinned commit."""
    ignore_missing_value_files: bool = False
    values: dict[str, Any] = {}
    """Free-form chart values (Argo CD's valuesObject); `{commit}` in a string is replaced by the
    commit the source resolved to."""
    parameters: list[HelmParameter] = []
    file_parameters: list[HelmFileParameter] = []
    pass_credentials: bool = False
    """Send the repository's credentials to every domain the chart's dependencies are fetched from."""
    skip_crds: bool = False
    skip_tests: bool = False
    skip_schema_validation: bool = False
    namespace: KubernetesName | None = None
    """`helm template --namespace`, when the chart's namespace differs from the destination's."""
    kube_version: str | None = None
    api_versions: list[str] = []


class KustomizePatchTarget(Settings):
    group: str | None = None
    version: str | None = None
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    label_selector: str | None = None
    annotation_selector: str | None = None


class KustomizePatch(Settings):
    path: str | None = None
    """A patch file, relative to the application's path."""
    patch: str | None = None
    """An inline strategic-merge or JSON 6902 patch."""
    target: KustomizePatchTarget | None = None
    options: dict[str, bool] = {}

    @model_validator(mode="after")
    def _one_patch(self):
        if (self.path is None) == (self.patch is None):
            raise ValueError("set exactly one of path or patch")
        return self


class KustomizeReplica(Settings):
    name: str
    count: int = Field(ge=0)


class KustomizeSource(Settings):
    images: list[KustomizeImage] = []
    """Image overrides like `ghcr.io/acme/api:1.2.3` or `api=ghcr.io/acme/api:1.2.3`."""
    name_prefix: str | None = None
    name_suffix: str | None = None
    namespace: KubernetesName | None = None
    common_labels: dict[str, str] = {}
    common_annotations: dict[str, str] = {}
    force_common_labels: bool = False
    force_common_annotations: bool = False
    patches: list[KustomizePatch] = []
    replicas: list[KustomizeReplica] = []
    components: list[str] = []
    """Kustomize components, relative to the application's path."""
    ignore_missing_components: bool = False


class JsonnetVariable(Settings):
    name: str
    value: str
    code: bool = False
    """The value is Jsonnet code, not a string."""


class JsonnetSource(Settings):
    tlas: list[JsonnetVariable] = []
    """Top-level arguments."""
    ext_vars: list[JsonnetVariable] = []
    libs: list[str] = []
    """Library search paths, relative to the repository root."""


class DirectorySource(Settings):
    recurse: bool = False
    include: str | None = None
    """A glob of the files to apply, like `{config.yaml,env-use2/*}`."""
    exclude: str | None = None
    jsonnet: JsonnetSource | None = None


class PluginEnv(Settings):
    name: str
    value: str


class PluginParameter(Settings):
    name: str
    string: str | None = None
    array: list[str] | None = None
    map: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_value(self):
        if sum(value is not None for value in (self.string, self.array, self.map)) != 1:
            raise ValueError("set exactly one of string, array or map")
        return self


class PluginSource(Settings):
    """A config management plugin (CMP) of the repo server."""

    name: str | None = None
    """The plugin's name; without it, Argo CD picks the plugin whose discovery rule matches."""
    env: list[PluginEnv] = []
    parameters: list[PluginParameter] = []


class AutomatedSync(Settings):
    prune: bool = False
    self_heal: bool = False
    allow_empty: bool = False
    """Let automated pruning delete every resource of the application."""


class Backoff(Settings):
    duration: BackoffDuration | None = None
    factor: int | None = Field(default=None, ge=1)
    max_duration: BackoffDuration | None = None


class Retry(Settings):
    limit: int
    """Attempts after a failed sync; a negative limit retries forever."""
    backoff: Backoff | None = None
    refresh: bool = False
    """Retry with the latest revision after a failed sync."""


class ManagedNamespaceMetadata(Settings):
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class SyncPolicy(Settings):
    automated: AutomatedSync | None = None
    sync_options: list[SyncOption] = []
    """Like CreateNamespace=true or ServerSideApply=true."""
    retry: Retry | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None
    """Labels and annotations of the namespace `CreateNamespace=true` creates."""


class IgnoreDifference(Settings):
    group: str | None = None
    kind: str
    name: str | None = None
    namespace: str | None = None
    json_pointers: list[str] = []
    jq_path_expressions: list[str] = []
    managed_fields_managers: list[str] = []


class InfoItem(Settings):
    name: str
    value: str


def _cascade_delete(value: Any) -> bool | str:
    # One validator instead of a union: a union would report one error per member.
    if isinstance(value, bool) or value in ("foreground", "background"):
        return value
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    raise ValueError(f"expected true, false, foreground or background, got {shown}")


CascadeDelete = Annotated[bool | Literal["foreground", "background"], PlainValidator(_cascade_delete)]
SOURCE_BLOCKS = ("helm", "kustomize", "directory", "plugin")


class SourceFields(Settings):
    """What one source of an Application reads: a folder of a git repository or a chart of a Helm
    repository, at a revision, with the settings of the tool that renders it."""

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
    helm: HelmSource | None = None
    kustomize: KustomizeSource | None = None
    directory: DirectorySource | None = None
    plugin: PluginSource | None = None

    def _check_source(self, needs_content: bool = True) -> None:
        if self.path is not None and self.chart is not None:
            raise KeyProblems(("chart", "set path (git) or chart (Helm repository), not both"))
        if needs_content and self.path is None and self.chart is None:
            raise KeyProblems(("path", "required key is missing: set path (git) or chart (Helm repository)"))
        if self.chart is not None and "revision" not in self.model_fields_set:
            raise KeyProblems(("revision", "required key is missing: a chart needs the chart version, like 1.2.3"))
        blocks = [block for block in SOURCE_BLOCKS if getattr(self, block) is not None]
        if len(blocks) > 1:
            raise KeyProblems((blocks[1], f"set at most one of helm, kustomize, directory or plugin: {blocks[0]} is set too"))

    @property
    def block(self) -> str | None:
        """Which tool block is set, if any: Argo CD then renders the source with that tool."""
        return next((block for block in SOURCE_BLOCKS if getattr(self, block) is not None), None)


class SourceSettings(SourceFields):
    """One entry of a multi-source application's `sources`."""

    ref: RefName | None = None
    """Name other sources use to read files of this one: `$<ref>/values.yaml`."""

    @model_validator(mode="after")
    def _one_source(self):
        self._check_source(needs_content=self.ref is None)
        return self


class ApplicationFields(Settings):
    """What every Application takes, declared or discovered."""

    project: KubernetesName = DEFAULT_PROJECT
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    """Like argocd.argoproj.io/sync-wave or notifications.argoproj.io/subscribe.*."""
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[IgnoreDifference] = []
    cascade_delete: CascadeDelete | None = None
    """Delete the application's resources with it: true (Argo CD's default, foreground),
    foreground, background or false. Defaults to false on production, true elsewhere."""
    revision_history_limit: int | None = Field(default=None, ge=0)
    info: list[InfoItem] = []
    """Name/value pairs shown in Argo CD's UI."""


class ApplicationSettings(SourceFields, ApplicationFields):
    """One Argo CD Application: from a path of a git repository or a chart of a Helm repository,
    or from several `sources`."""

    repository: str | None = None
    """A name of `gitops:repositories` (single source); or use `sources`."""
    sources: list[SourceSettings] = []
    """Several sources in one application, each pinned to its own commit."""
    destination: ApplicationDestination

    @model_validator(mode="after")
    def _sources(self):
        if self.sources:
            single = sorted(
                key
                for key in ("repository", "path", "chart", "revision", "follow_branch", *SOURCE_BLOCKS)
                if key in self.model_fields_set
            )
            if single:
                raise ValueError(f"with sources, set {', '.join(single)} inside each source")
            refs = [source.ref for source in self.sources if source.ref is not None]
            duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
            if duplicates:
                raise ValueError(f"ref {duplicates[0]!r} names two sources")
            for source in self.sources:
                for value_file in source.helm.value_files if source.helm else []:
                    ref = values_ref(value_file)
                    if ref is not None and ref not in refs:
                        raise ValueError(f"{value_file!r} names ref {ref!r}, which no source of this application has")
            return self
        if self.repository is None:
            raise ValueError("set repository (with path or chart), or sources")
        self._check_source()
        for value_file in self.helm.value_files if self.helm else []:
            if values_ref(value_file) is not None:
                raise ValueError(f"{value_file!r}: a $ref value file needs sources, with a source that has that ref")
        return self

    def source_list(self) -> list[SourceFields]:
        """The sources Argo CD reads, one for a single-source application."""
        return list(self.sources) if self.sources else [self]


def values_ref(value_file: str) -> str | None:
    """The ref a `$ref/path` value file reads from, or None for a file of its own source."""
    if not value_file.startswith(VALUES_REF_PREFIX):
        return None
    return value_file[1:].split("/", 1)[0]


class DiscoveryDestination(Settings):
    server: ServerUrl | None = None
    name: str | None = None
    namespace: NameTemplate = NAME_PLACEHOLDER
    """Namespace of each discovered application: a template like `{name}` or `{path[1]}`."""

    @model_validator(mode="after")
    def _not_both(self):
        if self.server is not None and self.name is not None:
            raise KeyProblems(("name", "set server or name, not both"))
        return self


class DiscoverySettings(ApplicationFields):
    """One Application per folder of a git repository matching `path` (like `apps/*`), chosen the
    way Argo CD's ApplicationSet git directory generator chooses them."""

    repository: str
    path: FolderPattern | None = None
    """A folder pattern (Go's path.Match): `apps/*`, `envs/*/apps/*`, `apps/[^_]*`."""
    paths: list[FolderPattern] = []
    """Several folder patterns, instead of `path`."""
    exclude: list[FolderPattern] = []
    """Folders matching one of these are left out, whatever `path` matches."""
    revision: str = DEFAULT_REVISION
    follow_branch: bool = False
    name: NameTemplate = NAME_PLACEHOLDER
    """Name of each application: a template like `{name}`, `{path[1]}-{name}` or `{path.normalized}`."""
    destination: DiscoveryDestination = DiscoveryDestination()
    helm: HelmSource | None = None
    """Settings for each discovered Helm folder."""
    kustomize: KustomizeSource | None = None
    """Settings for each discovered Kustomize folder."""
    directory: DirectorySource | None = None
    """Settings for each discovered plain or Jsonnet folder."""

    @model_validator(mode="after")
    def _patterns(self):
        if (self.path is None) == (not self.paths):
            raise ValueError("set path (one folder pattern) or paths (several)")
        return self

    @property
    def patterns(self) -> list[str]:
        return [self.path] if self.path is not None else list(self.paths)
