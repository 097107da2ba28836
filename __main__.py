"""The gitops Pulumi program: read the stack's settings, connect to its cluster, install Argo CD."""

import pulumi

from components.argocd import ArgoCD, ArgoCDArgs
from components.cluster import kubernetes_provider
from settings import load_settings

settings = load_settings()
provider = kubernetes_provider("kubernetes", settings.cluster)

argocd = ArgoCD(
    "argocd",
    ArgoCDArgs(settings=settings.argocd, host=settings.dashboard.host),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)

pulumi.export("namespace", argocd.namespace)
pulumi.export("chartVersion", argocd.chart_version)
pulumi.export("argocdVersion", argocd.app_version)
if argocd.admin_password is not None:
    pulumi.export("adminPassword", argocd.admin_password)
