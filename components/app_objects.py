"""Pure builders of Argo CD's declarative objects: repository Secrets, AppProjects, Applications.

Argo CD's types mark almost every field `omitempty`, so an empty string, list or block (or a
false flag) that we send is dropped from the stored object and shows as a change on every
`pulumi up`. `_compact` keeps those out; free-form chart values are never compacted.
"""

from typing import Any

from pydantic import SecretStr

from components.app_sources import (
    ResolvedApplication,
    ResolvedSource,
    argocd_repository_url,
    explicit_block,
    fill_commit,
    project_source_repos,
)
from components.ownership import owned
from settings.applications import (
    DirectorySource,
    GroupKind,
    HelmSource,
    IgnoreDifference,
    KustomizeSource,
    PluginSource,
    ProjectSettings,
    RepositorySettings,
    SyncPolicy,
)

API_VERSION = "argoproj.io/v1alpha1"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"
"""Makes Argo CD delete an Application's resources before the Application itself (foreground)."""
CASCADE_FINALIZERS = {
    True: RESOURCES_FINALIZER,
    "foreground": f"{RESOURCES_FINALIZER}/foreground",
    "background": f"{RESOURCES_FINALIZER}/background",
}
PART_OF = {"app.kubernetes.io/part-of": "argocd"}
REPOSITORY_PUBLIC_KEYS = ("url", "type", "name", "project", "enableOCI")
"""Keys of a repository Secret that say which repository it is and hold no credential: the
render shows them (the whole `stringData` stays a Pulumi secret in state)."""


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
            "sourceNamespaces": list(project.source_namespaces),
            "destinationServiceAccounts": [
                a.model_dump(by_alias=True, exclude_none=True) for a in project.destination_service_accounts
            ],
            "signatureKeys": [k.model_dump(by_alias=True) for k in project.signature_keys],
            "permitOnlyProjectScopedClusters": project.permit_only_project_scoped_clusters,
        }
    )
    # `group` is required and "" is how Kubernetes names the core group: it must stay.
    for key, kinds in (
        ("clusterResourceWhitelist", project.cluster_resource_whitelist),
        ("clusterResourceBlacklist", project.cluster_resource_blacklist),
        ("namespaceResourceWhitelist", project.namespace_resource_whitelist),
        ("namespaceResourceBlacklist", project.namespace_resource_blacklist),
    ):
        if kinds:
            spec[key] = [_group_kind(kind) for kind in kinds]
    orphaned = project.orphaned_resources
    if orphaned is not None:
        # `orphanedResources: {}` turns the feature on: an empty block must stay. The core group
        # of an ignore entry is "" and stays as well.
        spec["orphanedResources"] = {
            **({"warn": orphaned.warn} if orphaned.warn is not None else {}),
            **({"ignore": [i.model_dump(exclude_none=True) for i in orphaned.ignore]} if orphaned.ignore else {}),
        }
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
    metadata: dict[str, Any] = {
        "name": app.name,
        "namespace": namespace,
        **({"labels": dict(settings.labels)} if settings.labels else {}),
        **({"annotations": dict(settings.annotations)} if settings.annotations else {}),
    }
    if app.cascade_delete:
        metadata["finalizers"] = [CASCADE_FINALIZERS[app.cascade_delete]]
    sources = [_source(source) for source in app.sources]
    spec = _compact(
        {
            "project": settings.project,
            "destination": {
                "server": destination.effective_server,
                "name": destination.name,
                "namespace": destination.namespace,
            },
            "syncPolicy": sync_policy(settings.sync_policy),
            "ignoreDifferences": [ignore_difference(item) for item in settings.ignore_differences],
            "revisionHistoryLimit": settings.revision_history_limit,
            "info": [item.model_dump() for item in settings.info],
        }
    )
    if settings.revision_history_limit == 0:
        spec["revisionHistoryLimit"] = 0  # keep no history: 0 means something here
    if app.multi_source:
        spec["sources"] = sources
    else:
        spec["source"] = sources[0]
    return {"apiVersion": API_VERSION, "kind": "Application", "metadata": owned(metadata), "spec": spec}


def _source(source: ResolvedSource) -> dict[str, Any]:
    settings = source.settings
    block = explicit_block(settings)
    built = _compact(
        {
            "repoURL": source.repository_url,
            "targetRevision": source.target_revision,
            "path": settings.path,
            "chart": settings.chart,
            "ref": source.ref,
            "helm": _helm(settings.helm, source.commit) if block == "helm" else None,
            "kustomize": _kustomize(settings.kustomize) if block == "kustomize" else None,
            "directory": _directory(settings.directory) if block == "directory" else None,
            "plugin": _plugin(settings.plugin) if block == "plugin" else None,
        }
    )
    if block == "helm" and settings.helm.values:
        # Chart values are the user's own: `replicas: 0` and `enabled: false` mean something.
        built.setdefault("helm", {})["valuesObject"] = fill_commit(settings.helm.values, source.commit)
    return built


def _helm(helm: HelmSource, commit: str | None) -> dict[str, Any]:
    return {
        "releaseName": helm.release_name,
        "valueFiles": list(helm.value_files),
        "ignoreMissingValueFiles": helm.ignore_missing_value_files,
        "parameters": [
            {**p.model_dump(by_alias=True, exclude_none=True), "value": fill_commit(p.value, commit)} for p in helm.parameters
        ],
        "fileParameters": [p.model_dump() for p in helm.file_parameters],
        "passCredentials": helm.pass_credentials,
        "skipCrds": helm.skip_crds,
        "skipTests": helm.skip_tests,
        "skipSchemaValidation": helm.skip_schema_validation,
        "namespace": helm.namespace,
        "kubeVersion": helm.kube_version,
        "apiVersions": list(helm.api_versions),
    }


def _kustomize(kustomize: KustomizeSource) -> dict[str, Any]:
    return {
        "images": list(kustomize.images),
        "namePrefix": kustomize.name_prefix,
        "nameSuffix": kustomize.name_suffix,
        "namespace": kustomize.namespace,
        "commonLabels": dict(kustomize.common_labels),
        "commonAnnotations": dict(kustomize.common_annotations),
        "forceCommonLabels": kustomize.force_common_labels,
        "forceCommonAnnotations": kustomize.force_common_annotations,
        "patches": [p.model_dump(by_alias=True, exclude_none=True) for p in kustomize.patches],
        "replicas": [r.model_dump() for r in kustomize.replicas],
        "components": list(kustomize.components),
        "ignoreMissingComponents": kustomize.ignore_missing_components,
    }


def _directory(directory: DirectorySource) -> dict[str, Any]:
    jsonnet = directory.jsonnet
    return {
        "recurse": directory.recurse,
        "include": directory.include,
        "exclude": directory.exclude,
        "jsonnet": None
        if jsonnet is None
        else {
            "tlas": [v.model_dump() for v in jsonnet.tlas],
            "extVars": [v.model_dump() for v in jsonnet.ext_vars],
            "libs": list(jsonnet.libs),
        },
    }


def _plugin(plugin: PluginSource) -> dict[str, Any]:
    return {
        "name": plugin.name,
        "env": [e.model_dump() for e in plugin.env],
        "parameters": [p.model_dump(exclude_none=True) for p in plugin.parameters],
    }


def sync_policy(policy: SyncPolicy | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    automated = policy.automated
    metadata = policy.managed_namespace_metadata
    return {
        # `enabled: true` rather than `automated: {}`: an empty block would be stripped.
        "automated": None
        if automated is None
        else {"enabled": True, "prune": automated.prune, "selfHeal": automated.self_heal, "allowEmpty": automated.allow_empty},
        "syncOptions": list(policy.sync_options),
        "retry": None
        if policy.retry is None
        else {
            "limit": policy.retry.limit,
            "backoff": None if policy.retry.backoff is None else policy.retry.backoff.model_dump(by_alias=True),
            "refresh": policy.retry.refresh,
        },
        "managedNamespaceMetadata": None
        if metadata is None
        else {"labels": dict(metadata.labels), "annotations": dict(metadata.annotations)},
    }


def ignore_difference(item: IgnoreDifference) -> dict[str, Any]:
    return item.model_dump(by_alias=True, exclude_none=True)
