"""Pure builders of Argo CD's declarative objects: repository Secrets, AppProjects, Applications.

Argo CD's types mark almost every field `omitempty`, so an empty string, list or block (or a
false flag) that we send is dropped from the stored object and shows as a change on every
`pulumi up`. `_compact` keeps those out; free-form chart values are never compacted.
"""

from typing import Any

from pydantic import SecretStr

from components.app_sources import ResolvedApplication, argocd_repository_url, project_source_repos
from components.ownership import owned
from settings.applications import GroupKind, IgnoreDifference, ProjectSettings, RepositorySettings, SyncPolicy

API_VERSION = "argoproj.io/v1alpha1"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
"""Makes Argo CD delete an Application's resources before the Application itself."""
PART_OF = {"app.kubernetes.io/part-of": "argocd"}


def _compact(value: Any) -> Any:
    """Drop None, "", False, 0, [] and {} at every level, as Go's `omitempty` would."""
    if isinstance(value, dict):
        compacted = {key: _compact(item) for key, item in value.items()}
        return {key: item for key, item in compacted.items() if not _empty(item)}
    if isinstance(value, list):
        return [_compact(item) for item in value if not _empty(_compact(item))]
    return value


def _empty(value: Any) -> bool:
    if isinstance(value, SecretStr):
        return not value.get_secret_value()
    return value is None or value is False or (value == 0 and not isinstance(value, bool)) or value in ("", [], {})


def repository_secret_name(name: str, repository: RepositorySettings) -> str:
    return f"creds-{name}" if repository.credential_template else f"repo-{name}"


def repository_secret(name: str, repository: RepositorySettings, namespace: str) -> dict[str, Any]:
    """A repository Secret, or a repo-creds template for `credentialTemplate: true`. Every
    credential value is a SecretStr, user name and app ids included: the whole credential stays
    encrypted in Pulumi's state."""
    kind = "repo-creds" if repository.credential_template else "repository"
    credentials = repository.credentials
    oci = repository.type == "helm" and repository.url.startswith("oci://")
    data: dict[str, Any] = {
        "url": argocd_repository_url(repository),
        "type": repository.type,
        "name": None if repository.credential_template else name,
        "project": repository.project,
        "enableOCI": "true" if oci else None,
    }
    if credentials is not None:
        data.update(
            {
                "username": _secret(credentials.username),
                "password": credentials.password,
                "sshPrivateKey": credentials.ssh_private_key,
                "githubAppID": _secret(credentials.github_app_id),
                "githubAppInstallationID": _secret(credentials.github_app_installation_id),
                "githubAppPrivateKey": credentials.github_app_private_key,
                "githubAppEnterpriseBaseUrl": credentials.github_app_enterprise_base_url,
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": owned(
            {
                "name": repository_secret_name(name, repository),
                "namespace": namespace,
                "labels": {SECRET_TYPE_LABEL: kind, **PART_OF},
            }
        ),
        "type": "Opaque",
        "stringData": _compact(data),
    }


def _secret(value: Any) -> SecretStr | None:
    return None if value is None else SecretStr(str(value))


def app_project(
    name: str, project: ProjectSettings, repositories: dict[str, RepositorySettings], namespace: str
) -> dict[str, Any]:
    spec = _compact(
        {
            "description": project.description,
            "sourceRepos": project_source_repos(project.source_repos, repositories),
            "destinations": [d.model_dump(exclude_none=True) for d in project.destinations],
            "roles": [r.model_dump(exclude_none=True) for r in project.roles],
            "syncWindows": [w.model_dump(by_alias=True, exclude_none=True) for w in project.sync_windows],
        }
    )
    # `group` is required and "" is how Kubernetes names the core group: it must stay.
    for key, kinds in (
        ("clusterResourceWhitelist", project.cluster_resource_whitelist),
        ("namespaceResourceBlacklist", project.namespace_resource_blacklist),
    ):
        if kinds:
            spec[key] = [_group_kind(kind) for kind in kinds]
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": owned({"name": name, "namespace": namespace}),
        "spec": spec,
    }


def _group_kind(kind: GroupKind) -> dict[str, str]:
    return {"group": kind.group, "kind": kind.kind}


def application(app: ResolvedApplication, namespace: str) -> dict[str, Any]:
    settings = app.settings
    destination = settings.destination
    metadata: dict[str, Any] = {"name": app.name, "namespace": namespace}
    if app.cascade_delete:
        metadata["finalizers"] = [RESOURCES_FINALIZER]
    spec = _compact(
        {
            "project": settings.project,
            "source": _source(app),
            "destination": {
                "server": destination.effective_server,
                "name": destination.name,
                "namespace": destination.namespace,
            },
            "syncPolicy": sync_policy(settings.sync_policy),
            "ignoreDifferences": [ignore_difference(item) for item in settings.ignore_differences],
        }
    )
    if settings.helm is not None and settings.helm.values:
        # Chart values are the user's own: `replicas: 0` and `enabled: false` mean something.
        spec["source"].setdefault("helm", {})["valuesObject"] = settings.helm.values
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": owned(metadata), "spec": spec}


def _source(app: ResolvedApplication) -> dict[str, Any]:
    settings = app.settings
    helm = settings.helm
    return {
        "repoURL": app.repository_url,
        "targetRevision": app.target_revision,
        "path": settings.path,
        "chart": settings.chart,
        "helm": None
        if helm is None
        else {
            "releaseName": helm.release_name,
            "valueFiles": list(helm.value_files),
            "parameters": [p.model_dump(by_alias=True, exclude_none=True) for p in helm.parameters],
        },
        "kustomize": None
        if settings.kustomize is None
        else {"images": list(settings.kustomize.images), "namePrefix": settings.kustomize.name_prefix},
        "directory": None if settings.directory is None else {"recurse": settings.directory.recurse},
    }


def sync_policy(policy: SyncPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    automated = policy.automated
    return {
        # `enabled: true` rather than `automated: {}`: an empty block would be stripped.
        "automated": None if automated is None else {"enabled": True, "prune": automated.prune, "selfHeal": automated.self_heal},
        "syncOptions": list(policy.sync_options),
        "retry": None
        if policy.retry is None
        else {
            "limit": policy.retry.limit,
            "backoff": None if policy.retry.backoff is None else policy.retry.backoff.model_dump(by_alias=True),
        },
    }


def ignore_difference(item: IgnoreDifference) -> dict[str, Any]:
    return item.model_dump(by_alias=True, exclude_none=True)
