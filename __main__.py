"""The gitops Pulumi program: read the stack's settings, connect to its cluster, install Argo CD."""

import pulumi

from components.app_sources import resolve_sources
from components.applications import Applications, ApplicationsArgs
from components.argocd import ArgoCD, ArgoCDArgs
from components.cluster import kubernetes_provider
from settings import load_settings, stack_file_for

settings = load_settings()
# Git is read before any resource exists: a bad revision or path fails the run, not half an update.
sources = resolve_sources(settings, stack_file_for(pulumi.get_stack()))
provider = kubernetes_provider("kubernetes", settings.cluster)

argocd = ArgoCD(
    "argocd",
    ArgoCDArgs(settings=settings.argocd, host=settings.dashboard.host),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)

applications = Applications(
    "applications",
    ApplicationsArgs(
        namespace=settings.argocd.namespace,
        repositories=settings.repositories,
        projects=settings.projects,
        sources=sources,
        chart=argocd.chart,
    ),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)

pulumi.export("namespace", argocd.namespace)
pulumi.export("chartVersion", argocd.chart_version)
pulumi.export("argocdVersion", argocd.app_version)
if argocd.admin_password is not None:
    pulumi.export("adminPassword", argocd.admin_password)
pulumi.export("applications", applications.revisions)
