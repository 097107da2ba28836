"""Pulumi type tokens of the project's components, in one place (`package:module:Type`)."""

from enum import StrEnum


class ComponentType(StrEnum):
    ARGOCD = "gitops:argocd:ArgoCD"
    APPLICATIONS = "gitops:applications:Applications"
    DASHBOARD_ENDPOINT = "gitops:dashboard:DashboardEndpoint"
    DASHBOARD_ADDRESS = "gitops:dashboard:DashboardAddress"
