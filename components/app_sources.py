"""Resolve what each Application deploys, before any resource exists: revisions to commits, paths
and value files checked at those commits, discovery expanded into applications, projects' rules
enforced the way Argo CD enforces them.

Every problem is collected and raised as one SettingsError, one line per problem, so a stack file
with three mistakes is fixed in one round.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components.project_permissions import Destination, destination_permitted, normalize_git_url, source_permitted
from gitsource import AppType, Credentials, GitSourceError, Mirror, RepositoryCache, RevisionNotFound
from gitsource.app_types import marker_types
from settings.applications import (
    COMMIT_PLACEHOLDER,
    DEFAULT_PROJECT,
    ApplicationDestination,
    ApplicationSettings,
    CascadeDelete,
    DiscoverySettings,
    ProjectSettings,
    RepositoryCredentials,
    RepositorySettings,
    SourceFields,
    values_ref,
)
from settings.base import is_dns_label, is_dns_subdomain
from settings.errors import SettingsError, did_you_mean
from settings.load import PROJECT
from settings.path_templates import fill_template
from settings.stack import StackSettings

APPLICATIONS_KEY = f"{PROJECT}:applications"
DISCOVERY_KEY = f"{PROJECT}:discovery"
REPOSITORIES_KEY = f"{PROJECT}:repositories"
PROJECTS_KEY = f"{PROJECT}:projects"
REVISION_SUGGESTIONS = 3
"""Branch and tag names suggested for a revision that is none of them."""
_REMOTE_VALUE_FILE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

# The tool each block asks for. Argo CD renders a source with an explicit (non-empty) block with
# that tool whatever discovery would say, so the folder must hold that tool's marker file.
_TYPES_FOR_BLOCK = {
    "helm": {AppType.HELM},
    "kustomize": {AppType.KUSTOMIZE},
    "directory": {AppType.DIRECTORY, AppType.JSONNET},
}
ConfigPath = tuple[str | int, ...]


@dataclass(frozen=True)
class ResolvedSource:
    """One source of an Application, with the commit and type it resolved to."""

    settings: SourceFields
    repository: str
    """Name of the repository in `gitops:repositories`."""
    repository_url: str
    """The URL as Argo CD writes it in `repoURL`."""
    repository_type: Literal["git", "helm"]
    commit: str | None
    """The 40-hex commit `revision` resolved to; None for a chart from a Helm repository."""
    app_type: AppType | None
    """The tool Argo CD renders the source with; None for a source that only lends files (`ref`)."""
    config_path: ConfigPath
    """Where `revision` is set in the stack file, for the promotion command."""

    @property
    def requested(self) -> str:
        return self.settings.revision

    @property
    def pinned(self) -> bool:
        return self.commit is not None and not self.settings.follow_branch

    @property
    def target_revision(self) -> str:
        return self.commit if self.pinned else self.settings.revision

    @property
    def ref(self) -> str | None:
        return getattr(self.settings, "ref", None)

    def summary(self) -> dict[str, Any]:
        """What the source asked for and what it runs (one entry of the `applications` output)."""
        entry = {
            "requested": self.requested,
            "commit": self.commit if self.pinned else None,
            "repository": self.repository_url,
            "type": None if self.app_type is None else str(self.app_type),
            "configPath": list(self.config_path),
        }
        if self.ref is not None:
            entry["ref"] = self.ref
        return entry


@dataclass(frozen=True)
class ResolvedApplication:
    name: str
    settings: ApplicationSettings
    """The application's settings; for a discovered one, built from its discovery entry."""
    sources: tuple[ResolvedSource, ...]
    cascade_delete: CascadeDelete
    """False, or the deletion Argo CD runs: True (its default), "foreground" or "background"."""

    @property
    def multi_source(self) -> bool:
        return bool(self.settings.sources)

    @property
    def pinned(self) -> bool:
        return any(source.pinned for source in self.sources)

    def summary(self) -> dict[str, Any]:
        if self.multi_source:
            return {"sources": [source.summary() for source in self.sources]}
        return self.sources[0].summary()


@dataclass(frozen=True)
class ResolvedSources:
    applications: tuple[ResolvedApplication, ...]

    def revisions(self) -> dict[str, dict[str, Any]]:
        """The `applications` stack output: for every application, what each source asked for, the
        commit it runs (null for a chart or a source following its branch), the tool that renders
        it, and where its revision is configured (what `python -m ops promote` rewrites)."""
        return {app.name: app.summary() for app in self.applications}


class _Problems:
    def __init__(self, stack_file: str) -> None:
        self.stack_file = stack_file
        self.lines: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.lines.append(f"{self.stack_file}: {key}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise SettingsError("\n".join(self.lines))


def resolve_sources(settings: StackSettings, stack_file: str, cache: RepositoryCache | None = None) -> ResolvedSources:
    """Every application of the stack, resolved; raises one SettingsError listing every problem."""
    problems = _Problems(stack_file)
    mirrors = _Mirrors(settings.repositories, cache)
    candidates: list[tuple[ResolvedApplication, str]] = []
    defined_by: dict[str, str] = {}

    for name, app in settings.applications.items():
        key = f"{APPLICATIONS_KEY}.{name}"
        defined_by[name] = key
        resolved = _resolve_application(name, app, key, settings, mirrors, problems)
        if resolved is not None:
            candidates.append((resolved, key))

    for entry_name, entry in settings.discovery.items():
        key = f"{DISCOVERY_KEY}.{entry_name}"
        for resolved in _discover(entry_name, entry, key, settings, mirrors, problems):
            folder = resolved.settings.path
            if resolved.name in defined_by:
                other = defined_by[resolved.name]
                hint = ""
                if other.startswith(key):
                    hint = ' (a name template such as "{path[1]}-{name}" or "{path.normalized}" tells them apart)'
                problems.add(key, f'application "{resolved.name}" from folder {folder} is already defined by {other}{hint}')
                continue
            defined_by[resolved.name] = f"{key} (folder {folder})"
            candidates.append((resolved, key))

    for app, key in candidates:
        _check_project(app, key, settings, problems)
    problems.raise_if_any()
    return ResolvedSources(tuple(app for app, _ in candidates))


class _Mirrors:
    """One cache per run and one `open` per repository, failures remembered too."""

    def __init__(self, repositories: dict[str, RepositorySettings], cache: RepositoryCache | None) -> None:
        self._repositories = repositories
        self._cache = cache
        self._opened: dict[str, Mirror | GitSourceError] = {}

    def open(self, name: str) -> Mirror:
        if name not in self._opened:
            if self._cache is None:
                self._cache = RepositoryCache()
            repository = self._repositories[name]
            credentials = repository_credentials(repository.url, self._repositories)
            try:
                self._opened[name] = self._cache.open(repository.url, credentials and to_git_credentials(credentials))
            except GitSourceError as error:
                self._opened[name] = error
        result = self._opened[name]
        if isinstance(result, GitSourceError):
            raise result
        return result


def repository_credentials(url: str, repositories: Mapping[str, RepositorySettings]) -> RepositoryCredentials | None:
    """The credentials Argo CD uses for `url`: those of a repository with that URL, else those of the
    credential template with the longest URL prefix of it. Mirrors `getRepositoryIndex` (`SameURL`)
    and `getRepositoryCredentialIndex` (argo-cd util/db), which compare URLs normalised by
    `NormalizeGitURL`."""
    wanted = normalize_git_url(url) or url
    for repository in repositories.values():
        if not repository.credential_template and repository.credentials is not None:
            if (normalize_git_url(repository.url) or repository.url) == wanted:
                return repository.credentials
    best: RepositorySettings | None = None
    best_length = 0
    for repository in repositories.values():
        if repository.credential_template:
            prefix = normalize_git_url(repository.url) or repository.url
            if wanted.startswith(prefix) and len(prefix) > best_length:
                best, best_length = repository, len(prefix)
    return None if best is None else best.credentials


def to_git_credentials(credentials: RepositoryCredentials) -> Credentials:
    def reveal(value: Any) -> str | None:
        return None if value is None else value.get_secret_value()

    api = credentials.github_app_enterprise_base_url
    return Credentials(
        username=credentials.username,
        password=reveal(credentials.password),
        ssh_private_key=reveal(credentials.ssh_private_key),
        github_app_id=credentials.github_app_id,
        github_app_installation_id=credentials.github_app_installation_id,
        github_app_private_key=reveal(credentials.github_app_private_key),
        **({"github_api_url": api} if api else {}),
    )


def _repository(name: str, key: str, settings: StackSettings, problems: _Problems) -> RepositorySettings | None:
    repository = settings.repositories.get(name)
    if repository is None:
        problems.add(f"{key}.repository", f'unknown repository "{name}"{did_you_mean(name, settings.repositories)}')
        return None
    if repository.credential_template:
        problems.add(f"{key}.repository", f'"{name}" is a credential template, not a repository: add the repository itself')
        return None
    return repository


def _resolve_application(
    name: str, app: ApplicationSettings, key: str, settings: StackSettings, mirrors: _Mirrors, problems: _Problems
) -> ResolvedApplication | None:
    sources: list[ResolvedSource | None] = []
    for index, source in enumerate(app.source_list()):
        if app.sources:
            source_key, config_path = f"{key}.sources[{index}]", (APPLICATIONS_KEY, name, "sources", index, "revision")
        else:
            source_key, config_path = key, (APPLICATIONS_KEY, name, "revision")
        sources.append(_resolve_source(source, source_key, config_path, settings, mirrors, problems))
    resolved = [source for source in sources if source is not None]
    if len(resolved) < len(sources):
        return None  # each failed source said why
    if not _value_files_exist(resolved, key, bool(app.sources), mirrors, problems):
        return None
    return _resolved(name, app, resolved, settings)


def _resolve_source(
    source: SourceFields,
    key: str,
    config_path: ConfigPath,
    settings: StackSettings,
    mirrors: _Mirrors,
    problems: _Problems,
) -> ResolvedSource | None:
    repository = _repository(source.repository, key, settings, problems)
    if repository is None:
        return None
    if repository.type == "helm":
        if source.path is not None or (source.chart is None and getattr(source, "ref", None) is not None):
            field = "path" if source.path is not None else "ref"
            problems.add(f"{key}.{field}", f'repository "{source.repository}" is a Helm repository: set chart, not {field}')
            return None
        if source.kustomize or source.directory or source.plugin:
            problems.add(key, "a chart from a Helm repository takes helm settings only")
            return None
        return _source(source, repository, None, AppType.HELM, config_path)
    if source.chart is not None:
        problems.add(f"{key}.chart", f'repository "{source.repository}" is a git repository: set path, not chart')
        return None
    commit = _commit(source.repository, source.revision, key, mirrors, problems)
    if commit is None:
        return None
    if source.path is None:  # only lends its files to other sources (`ref`)
        return _source(source, repository, commit, None, config_path)
    mirror = mirrors.open(source.repository)
    try:
        # An absolute path or one leaving the repository is a GitSourceError, not a missing path.
        if not mirror.has_path(commit, source.path):
            where = f"{repository.url} at {commit[:12]} ({source.revision})"
            problems.add(f"{key}.path", f'"{source.path}" does not exist in {where}')
            return None
        detected = mirror.detect_type(commit, source.path)
    except GitSourceError as error:
        problems.add(f"{key}.path", str(error))
        return None
    app_type = _rendering_type(source, detected, lambda: marker_types(mirror.file_names(commit, source.path)))
    if app_type is None:
        block = explicit_block(source)
        problems.add(f"{key}.{block}", f'"{source.path}" holds a {detected} application at {commit[:12]}, not {block}')
        return None
    return _source(source, repository, commit, app_type, config_path)


def explicit_block(source: SourceFields) -> str | None:
    """The tool block Argo CD sees on this source: a block that holds nothing is dropped before
    Argo CD reads it (and Argo CD's `NormalizeSource` drops a block whose `IsZero` is true
    anyway), so it decides nothing."""
    block = source.block
    if block is None:
        return None
    if not getattr(source, block).model_dump(exclude_defaults=True):
        return None
    return block


def _rendering_type(source: SourceFields, detected: AppType, markers: Callable[[], set[AppType]]) -> AppType | None:
    """The tool Argo CD renders the folder with; None when the folder's explicit block cannot work
    there (a `helm` block on a folder without a Chart.yaml).

    Mirrors `GetAppSourceType` (argo-cd reposerver/repository/repository.go): an explicit block
    wins, otherwise `discovery.go` decides (the lexically last marker file).
    """
    block = explicit_block(source)
    if block is None:
        return detected
    if block == "plugin":
        return AppType.PLUGIN
    if detected in _TYPES_FOR_BLOCK[block]:
        return detected
    wanted = next(iter(_TYPES_FOR_BLOCK[block]))
    if block != "directory" and wanted in markers():
        return wanted  # both Chart.yaml and kustomization.yaml: the block chooses
    return None


def _commit(repository: str, revision: str, key: str, mirrors: _Mirrors, problems: _Problems) -> str | None:
    try:
        mirror = mirrors.open(repository)
    except GitSourceError as error:
        problems.add(f"{key}.repository", f'repository "{repository}" cannot be read: {error}')
        return None
    try:
        return mirror.resolve(revision)
    except RevisionNotFound as error:
        close = did_you_mean(revision, error.names, listing=None, most=REVISION_SUGGESTIONS)
        problems.add(f"{key}.revision", f"{error}{close}")
    except GitSourceError as error:
        problems.add(f"{key}.revision", str(error))
    return None


def _value_files_exist(
    sources: list[ResolvedSource],
    key: str,
    multi_source: bool,
    mirrors: _Mirrors,
    problems: _Problems,
    folder: str | None = None,
) -> bool:
    """Every Helm value file is there at the commit its source resolved to, unless the source says
    `ignoreMissingValueFiles`. Paths resolve as Argo CD's `ResolveValueFilePathOrUrl` resolves
    them (argo-cd util/io/path/resolved.go): relative to the source's path, `/...` from the repository root,
    `$ref/...` from the root of the source with that `ref`; URLs are fetched by Argo CD itself, and
    files inside a chart from a Helm repository are not in git, so both are left to it."""
    by_ref = {source.ref: source for source in sources if source.ref is not None}
    where = "" if folder is None else f"folder {folder}: "
    ok = True
    for index, source in enumerate(sources):
        helm = source.settings.helm
        if helm is None or helm.ignore_missing_value_files:
            continue
        source_key = f"{key}.sources[{index}]" if multi_source else key
        for value_file in helm.value_files:
            ref = values_ref(value_file)
            if ref is not None:
                owner = by_ref[ref]
                relative = value_file.split("/", 1)[1] if "/" in value_file else ""
            elif _REMOTE_VALUE_FILE.match(value_file) or source.repository_type == "helm":
                continue
            else:
                owner = source
                base = "" if value_file.startswith("/") else (source.settings.path or "")
                relative = posixpath.normpath(posixpath.join(base, value_file.lstrip("/")))
            if owner.repository_type != "git" or owner.commit is None:
                problems.add(f"{source_key}.helm.valueFiles", f"{where}{value_file!r}: ref {ref!r} is not a git source")
                ok = False
                continue
            if relative.startswith("../") or relative == "..":
                problems.add(f"{source_key}.helm.valueFiles", f"{where}{value_file!r} points outside the repository")
                ok = False
                continue
            mirror = mirrors.open(owner.repository)
            if not mirror.is_file(owner.commit, relative):
                problems.add(
                    f"{source_key}.helm.valueFiles",
                    f"{where}{value_file!r} does not exist in {owner.repository_url} at {owner.commit[:12]} ({owner.requested}); "
                    "set ignoreMissingValueFiles: true if that is expected",
                )
                ok = False
    return ok


_SHARED_FIELDS = (
    "project",
    "labels",
    "annotations",
    "sync_policy",
    "ignore_differences",
    "cascade_delete",
    "revision_history_limit",
    "info",
)


def _discover(
    entry_name: str, entry: DiscoverySettings, key: str, settings: StackSettings, mirrors: _Mirrors, problems: _Problems
) -> list[ResolvedApplication]:
    repository = _repository(entry.repository, key, settings, problems)
    if repository is None:
        return []
    if repository.type != "git":
        problems.add(f"{key}.repository", f'discovery needs a git repository; "{entry.repository}" is a Helm repository')
        return []
    commit = _commit(entry.repository, entry.revision, key, mirrors, problems)
    if commit is None:
        return []
    try:
        found = mirrors.open(entry.repository).discover_typed(commit, entry.patterns, entry.exclude)
    except GitSourceError as error:
        problems.add(f"{key}.path", str(error))
        return []
    field = "path" if entry.path is not None else "paths"
    if not found:
        shown = " or ".join(f'"{pattern}"' for pattern in entry.patterns)
        excluded = " once exclude is applied" if entry.exclude else ""
        problems.add(
            f"{key}.{field}", f"{shown} matches no folder{excluded} in {repository.url} at {commit[:12]} ({entry.revision})"
        )
        return []
    discovered = []
    config_path = (DISCOVERY_KEY, entry_name, "revision")
    for folder, app_type in found:
        try:
            name = fill_template(entry.name, folder)
            namespace = fill_template(entry.destination.namespace, folder)
        except KeyError as missing:
            problems.add(f"{key}.name", f"folder {folder} has no {{{missing.args[0]}}}: it is not that deep")
            continue
        bad = [
            (field_name, value)
            for field_name, value in (("name", name), ("destination.namespace", namespace))
            if not _valid(field_name, value)
        ]
        if bad:
            for field_name, value in bad:
                problems.add(f"{key}.{field_name}", f'folder {folder} gives "{value}", not a valid Kubernetes name')
            continue
        blocks = {
            "helm": entry.helm if app_type is AppType.HELM else None,
            "kustomize": entry.kustomize if app_type is AppType.KUSTOMIZE else None,
            "directory": entry.directory if app_type in (AppType.DIRECTORY, AppType.JSONNET) else None,
        }
        app = ApplicationSettings(
            repository=entry.repository,
            path=folder,
            revision=entry.revision,
            follow_branch=entry.follow_branch,
            destination=ApplicationDestination(server=entry.destination.server, name=entry.destination.name, namespace=namespace),
            **blocks,
            **{field_name: getattr(entry, field_name) for field_name in _SHARED_FIELDS},
        )
        source = _source(app, repository, commit, app_type, config_path)
        if not _value_files_exist([source], key, False, mirrors, problems, folder=folder):
            continue
        discovered.append(_resolved(name, app, [source], settings))
    return discovered


def _valid(field: str, value: str) -> bool:
    """An application's name is a DNS-1123 subdomain (dots allowed), a namespace a DNS label."""
    return is_dns_subdomain(value) if field == "name" else is_dns_label(value)


def _source(
    source: SourceFields,
    repository: RepositorySettings,
    commit: str | None,
    app_type: AppType | None,
    config_path: ConfigPath,
) -> ResolvedSource:
    return ResolvedSource(
        settings=source,
        repository=source.repository,
        repository_url=argocd_repository_url(repository),
        repository_type=repository.type,
        commit=commit,
        app_type=app_type,
        config_path=config_path,
    )


def _resolved(name: str, app: ApplicationSettings, sources: list[ResolvedSource], settings: StackSettings) -> ResolvedApplication:
    cascade = (not settings.production) if app.cascade_delete is None else app.cascade_delete
    return ResolvedApplication(name=name, settings=app, sources=tuple(sources), cascade_delete=cascade)


def fill_commit(value: Any, commit: str | None) -> Any:
    """`value` with `{commit}` in every string replaced by `commit` (app of apps: a parent passes
    the commit it is pinned to down to the Applications its chart renders)."""
    if commit is None:
        return value
    if isinstance(value, str):
        return value.replace(COMMIT_PLACEHOLDER, commit)
    if isinstance(value, dict):
        return {key: fill_commit(item, commit) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_commit(item, commit) for item in value]
    return value


def argocd_repository_url(repository: RepositorySettings) -> str:
    """The URL as Argo CD spells it: a Helm OCI registry without `oci://` (its secret says enableOCI)."""
    if repository.type == "helm" and repository.url.startswith("oci://"):
        return repository.url.removeprefix("oci://")
    return repository.url


def project_source_repos(source_repos: Iterable[str], repositories: dict[str, RepositorySettings]) -> list[str]:
    """A project's sourceRepos with repository names (also after a `!`) replaced by their URLs."""
    resolved = []
    for entry in source_repos:
        denied = entry.startswith("!")
        name = entry.removeprefix("!")
        url = argocd_repository_url(repositories[name]) if name in repositories else name
        resolved.append(("!" if denied else "") + url)
    return resolved


def _check_project(app: ResolvedApplication, key: str, settings: StackSettings, problems: _Problems) -> None:
    project_name = app.settings.project
    project = settings.projects.get(project_name)
    if project is None:
        if project_name != DEFAULT_PROJECT:
            problems.add(f"{key}.project", f'unknown project "{project_name}"{did_you_mean(project_name, settings.projects)}')
        return  # Argo CD's built-in `default` project allows every source and destination.
    destination = app.settings.destination
    if _destination_permitted(destination, project) is False:
        where = destination.name if destination.name is not None else destination.effective_server
        problems.add(
            f"{key}.destination",
            f'{where} namespace "{destination.namespace}" is outside the destinations of project "{project_name}"',
        )
    repos = project_source_repos(project.source_repos, settings.repositories)
    for source in app.sources:
        if source_permitted(source.repository_url, repos) is False:
            problems.add(f"{key}.repository", f'{source.repository_url} is not among the sourceRepos of project "{project_name}"')


def _destination_permitted(destination: ApplicationDestination, project: ProjectSettings) -> bool | None:
    known = Destination.of(destination.name, destination.server, destination.namespace)
    return destination_permitted(known, project.destinations, project.permit_only_project_scoped_clusters)
