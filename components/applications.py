"""Argo CD's repositories, AppProjects and Applications, registered after the chart that installs their CRDs."""

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.app_objects import app_project, application, repository_secret
from components.app_sources import ResolvedSources
from components.argocd import secret_leaves
from components.types import ComponentType
from settings.applications import ProjectSettings, RepositorySettings


@dataclass(frozen=True)
class ApplicationsArgs:
    namespace: str
    """Argo CD's namespace: its repository Secrets, AppProjects and Applications live there."""
    repositories: dict[str, RepositorySettings]
    projects: dict[str, ProjectSettings]
    sources: ResolvedSources
    """Applications already resolved by `resolve_sources`, before any resource was created."""
    chart: pulumi.Resource
    """The Argo CD chart: it installs the CRDs and the controller that reads the Secrets."""


class Applications(pulumi.ComponentResource):
    revisions: dict[str, dict[str, Any]]
    """What each pinned application runs (the `applications` stack output)."""

    def __init__(self, name: str, args: ApplicationsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(ComponentType.APPLICATIONS, name, None, opts)
        # Every child waits for the chart: without it, the CRDs do not exist yet and Argo CD
        # would not be there to pick up repository Secrets.
        child = pulumi.ResourceOptions(parent=self, depends_on=[args.chart])
        for repo_name, repository in args.repositories.items():
            obj = repository_secret(repo_name, repository, args.namespace)
            k8s.core.v1.Secret(
                f"{name}-repository-{repo_name}",
                metadata=obj["metadata"],
                type=obj["type"],
                string_data=secret_leaves(obj["stringData"]),
                opts=child,
            )
        projects = {}
        for project_name, project in args.projects.items():
            projects[project_name] = _custom_resource(
                f"{name}-project-{project_name}", app_project(project_name, project, args.repositories, args.namespace), child
            )
        for app in args.sources.applications:
            # An Application in a project declared here waits for that project too.
            depends = [args.chart, *([projects[app.settings.project]] if app.settings.project in projects else [])]
            _custom_resource(
                f"{name}-application-{app.name}",
                application(app, args.namespace),
                pulumi.ResourceOptions(parent=self, depends_on=depends),
            )
        self.revisions = args.sources.revisions()
        # Not the component's outputs as well: they are the `applications` stack output, and serializing
        # them a second time into the state cost about a tenth of the run at every size.
        self.register_outputs({})


def _custom_resource(name: str, obj: dict[str, Any], opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name, api_version=obj["apiVersion"], kind=obj["kind"], metadata=obj["metadata"], spec=obj["spec"], opts=opts
    )
