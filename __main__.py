"""The gitops Pulumi program: read the stack's settings, connect to its cluster, install Argo CD."""

import gc

# The program's process is short-lived and keeps every object it builds until it exits, so the
# cyclic garbage collector frees next to nothing here; each pass re-walks every object registered
# so far, which made it a third of the CPU at 1,000 applications. ops.program turns it back on
# after an offline run.
gc.disable()

import pulumi

from components.app_sources import resolve_sources
from components.applications import Applications, ApplicationsArgs
from components.argocd import ArgoCD, ArgoCDArgs
from components.cluster import cloud_provider, kubernetes_provider
from components.dashboard import DashboardAddressArgs, DashboardEndpoint, DashboardEndpointArgs, load_balancer_address
from settings import load_settings, stack_file_for

settings = load_settings()
# Git is read before any resource exists: a bad revision or path fails the run, not half an update.
sources = resolve_sources(settings, stack_file_for(pulumi.get_stack()))
cloud = cloud_provider("cloud", settings.cluster)
provider = kubernetes_provider("kubernetes", settings.cluster, cloud)
# Deletion protection covers every resource the components make (children inherit it): a refused
# `pulumi destroy` must not have deleted Argo CD's secrets or the Applications on its way.
protect = settings.argocd.deletion_protection

# Before the chart: the certificate and static IP its Ingress names.
dashboard = DashboardEndpoint(
    "dashboard",
    DashboardEndpointArgs(settings=settings.dashboard, cluster=settings.cluster),
    opts=pulumi.ResourceOptions(providers=[cloud] if cloud else None, protect=protect),
)

argocd = ArgoCD(
    "argocd",
    ArgoCDArgs(settings=settings.argocd, host=settings.dashboard.host, extra_values=dashboard.chart_values),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, protect=protect),
)

# After the chart: the address its Ingress got, and the DNS record that names it.
dashboard_address = load_balancer_address(
    "dashboard-address",
    dashboard,
    DashboardAddressArgs(settings=settings.dashboard, chart=argocd.chart),
    opts=pulumi.ResourceOptions(providers=[provider, cloud] if cloud else [provider], protect=protect),
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
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, protect=protect),
)

pulumi.export("namespace", argocd.namespace)
pulumi.export("chartVersion", argocd.chart_version)
pulumi.export("argocdVersion", argocd.app_version)
if dashboard.url:
    pulumi.export("dashboardUrl", dashboard.url)
    pulumi.export("cliLogin", dashboard.cli_login)
    pulumi.export("loadBalancerAddress", dashboard_address)
if argocd.admin_password is not None:
    pulumi.export("adminPassword", argocd.admin_password)
pulumi.export("applications", applications.revisions)

# Still paused, the collector runs once more as Python exits and walks and frees every object the
# run made (a tenth of a 1,000-application run's process). Frozen, they are left to the operating
# system; ops.program unfreezes them for an in-process caller that collects.
gc.freeze()
