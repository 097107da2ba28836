"""Resolve what each Application deploys, before any resource exists: revisions to commits, paths
checked at those commits, discovery expanded into applications, projects' rules enforced.

Every problem is collected and raised as one SettingsError, one line per problem, so a stack file
with three mistakes is fixed in one round.
"""

import fnmatch
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from gitsource import AppType, Credentials, GitSourceError, Mirror, RepositoryCache
from settings.applications import (
    DEFAULT_PROJECT,
    NAME_PLACEHOLDER,
    ApplicationDestination,
    ApplicationSettings,
    DiscoverySettings,
    RepositoryCredentials,
    RepositorySettings,
)
from settings.errors import SettingsError, did_you_mean
from settings.load import PROJECT
from settings.stack import StackSettings

APPLICATIONS_KEY = f"{PROJECT}:applications"
DISCOVERY_KEY = f"{PROJECT}:discovery"
REPOSITORIES_KEY = f"{PROJECT}:repositories"
PROJECTS_KEY = f"{PROJECT}:projects"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

# Which settings block fits which detected type: Argo CD treats a source with a `helm` block as a
# Helm app whatever the folder holds, so a mismatch would fail only at sync time.
_BLOCK_FOR_TYPE = {
    AppType.HELM: "helm",
    AppType.KUSTOMIZE: "kustomize",
    AppType.DIRECTORY: "directory",
    AppType.JSONNET: "directory",
}


@dataclass(frozen=True)
class ResolvedApplication:
    name: str
    settings: ApplicationSettings
    """The application's settings; for a discovered one, built from its discovery entry."""
    repository: str
    """Name of the repository in `gitops:repositories`."""
    repository_url: str
    """The URL as Argo CD writes it in `repoURL`."""
    repository_type: Literal["git", "helm"]
    commit: str | None
    """The 40-hex commit `revision` resolved to; None for a chart from a Helm repository."""
    app_type: AppType | None
    cascade_delete: bool
    config_path: tuple[str, str, str]
    """Where `revision` is set in the stack file, for the promotion command."""

    @property
    def requested(self) -> str:
        return self.settings.revision

    @property
    def target_revision(self) -> str:
        if self.commit is None or self.settings.follow_branch:
            return self.settings.revision
        return self.commit

    @property
    def pinned(self) -> bool:
        return self.commit is not None and not self.settings.follow_branch


@dataclass(frozen=True)
class ResolvedSources:
    applications: tuple[ResolvedApplication, ...]

    def revisions(self) -> dict[str, dict[str, Any]]:
        """The `applications` stack output: what each pinned git application runs, and where its
        revision is configured. Charts and applications following a branch have nothing to promote."""
        return {
            app.name: {
                "requested": app.requested,
                "commit": app.commit,
                "repository": app.repository_url,
                "configPath": list(app.config_path),
            }
            for app in self.applications
            if app.pinned
        }


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
                problems.add(key, f'application "{resolved.name}" from folder {folder} is already defined by {other}')
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
            try:
                self._opened[name] = self._cache.open(repository.url, _git_credentials(name, self._repositories))
            except GitSourceError as error:
                self._opened[name] = error
        result = self._opened[name]
        if isinstance(result, GitSourceError):
            raise result
        return result


def _git_credentials(name: str, repositories: dict[str, RepositorySettings]) -> Credentials | None:
    """The repository's own credentials, else those of the longest credential template covering it
    (Argo CD's own rule for repo-creds)."""
    repository = repositories[name]
    credentials = repository.credentials
    if credentials is None:
        templates = [r for r in repositories.values() if r.credential_template and repository.url.startswith(r.url.rstrip("/"))]
        if templates:
            credentials = max(templates, key=lambda r: len(r.url)).credentials
    return None if credentials is None else to_git_credentials(credentials)


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
    repository = _repository(app.repository, key, settings, problems)
    if repository is None:
        return None
    if repository.type == "helm":
        if app.chart is None:
            problems.add(f"{key}.path", f'repository "{app.repository}" is a Helm repository: set chart, not path')
            return None
        if app.kustomize or app.directory:
            problems.add(key, "a chart from a Helm repository takes helm settings only")
            return None
        return _resolved(name, app, repository, None, AppType.HELM, (APPLICATIONS_KEY, name, "revision"), settings)
    if app.path is None:
        problems.add(f"{key}.chart", f'repository "{app.repository}" is a git repository: set path, not chart')
        return None
    commit = _commit(app.repository, app.revision, key, mirrors, problems)
    if commit is None:
        return None
    mirror = mirrors.open(app.repository)
    try:
        if not mirror.has_path(commit, app.path):
            problems.add(f"{key}.path", f'"{app.path}" does not exist in {repository.url} at {commit[:12]} ({app.revision})')
            return None
        app_type = mirror.detect_type(commit, app.path)
    except GitSourceError as error:
        problems.add(f"{key}.path", str(error))
        return None
    block = next((b for b in ("helm", "kustomize", "directory") if getattr(app, b) is not None), None)
    if block is not None and block != _BLOCK_FOR_TYPE[app_type]:
        problems.add(f"{key}.{block}", f'"{app.path}" holds a {app_type} application at {commit[:12]}, not {block}')
        return None
    return _resolved(name, app, repository, commit, app_type, (APPLICATIONS_KEY, name, "revision"), settings)


def _commit(repository: str, revision: str, key: str, mirrors: _Mirrors, problems: _Problems) -> str | None:
    try:
        mirror = mirrors.open(repository)
    except GitSourceError as error:
        problems.add(f"{key}.repository", f'repository "{repository}" cannot be read: {error}')
        return None
    try:
        return mirror.resolve(revision)
    except GitSourceError as error:
        problems.add(f"{key}.revision", str(error))
        return None


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
        found = mirrors.open(entry.repository).discover_typed(commit, entry.path)
    except GitSourceError as error:
        problems.add(f"{key}.path", str(error))
        return []
    if not found:
        problems.add(f"{key}.path", f'"{entry.path}" matches no folder in {repository.url} at {commit[:12]} ({entry.revision})')
        return []
    discovered = []
    for folder, app_type in found:
        base = posixpath.basename(folder.rstrip("/"))
        name = entry.name.replace(NAME_PLACEHOLDER, base)
        namespace = entry.destination.namespace.replace(NAME_PLACEHOLDER, base)
        bad = [
            (field, value)
            for field, value in (("name", name), ("destination.namespace", namespace))
            if not _DNS_LABEL.match(value)
        ]
        if bad:
            for field, value in bad:
                problems.add(f"{key}.{field}", f'folder {folder} gives "{value}", not a valid Kubernetes name')
            continue
        app = ApplicationSettings(
            repository=entry.repository,
            path=folder,
            revision=entry.revision,
            follow_branch=entry.follow_branch,
            destination=ApplicationDestination(server=entry.destination.server, name=entry.destination.name, namespace=namespace),
            project=entry.project,
            sync_policy=entry.sync_policy,
            ignore_differences=entry.ignore_differences,
            cascade_delete=entry.cascade_delete,
        )
        discovered.append(_resolved(name, app, repository, commit, app_type, (DISCOVERY_KEY, entry_name, "revision"), settings))
    return discovered


def _resolved(
    name: str,
    app: ApplicationSettings,
    repository: RepositorySettings,
    commit: str | None,
    app_type: AppType | None,
    config_path: tuple[str, str, str],
    settings: StackSettings,
) -> ResolvedApplication:
    cascade = (not settings.production) if app.cascade_delete is None else app.cascade_delete
    return ResolvedApplication(
        name=name,
        settings=app,
        repository=app.repository,
        repository_url=argocd_repository_url(repository),
        repository_type=repository.type,
        commit=commit,
        app_type=app_type,
        cascade_delete=cascade,
        config_path=config_path,
    )


def argocd_repository_url(repository: RepositorySettings) -> str:
    """The URL as Argo CD spells it: a Helm OCI registry without `oci://` (its secret says enableOCI)."""
    if repository.type == "helm" and repository.url.startswith("oci://"):
        return repository.url.removeprefix("oci://")
    return repository.url


def project_source_repos(source_repos: Iterable[str], repositories: dict[str, RepositorySettings]) -> list[str]:
    """A project's sourceRepos with repository names replaced by their URLs."""
    return [argocd_repository_url(repositories[entry]) if entry in repositories else entry for entry in source_repos]


def _check_project(app: ResolvedApplication, key: str, settings: StackSettings, problems: _Problems) -> None:
    project_name = app.settings.project
    project = settings.projects.get(project_name)
    if project is None:
        if project_name != DEFAULT_PROJECT:
            problems.add(f"{key}.project", f'unknown project "{project_name}"{did_you_mean(project_name, settings.projects)}')
        return  # Argo CD's built-in `default` project allows every source and destination.
    destination = app.settings.destination
    if not any(_destination_allowed(destination, allowed) for allowed in project.destinations):
        where = destination.name if destination.name is not None else destination.effective_server
        problems.add(
            f"{key}.destination",
            f'{where} namespace "{destination.namespace}" is outside the destinations of project "{project_name}"',
        )
    repos = project_source_repos(project.source_repos, settings.repositories)
    if not any(fnmatch.fnmatchcase(app.repository_url, pattern) for pattern in repos):
        problems.add(f"{key}.repository", f'{app.repository_url} is not among the sourceRepos of project "{project_name}"')


def _destination_allowed(destination: ApplicationDestination, allowed: Any) -> bool:
    # Argo CD matches each field as a glob; a destination given by name is matched by name.
    if destination.name is not None:
        cluster_ok = allowed.name is not None and fnmatch.fnmatchcase(destination.name, allowed.name)
    else:
        cluster_ok = allowed.server is not None and fnmatch.fnmatchcase(destination.effective_server, allowed.server)
    return cluster_ok and fnmatch.fnmatchcase(destination.namespace, allowed.namespace)
