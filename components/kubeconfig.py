"""Kubeconfig documents for EKS and GKE clusters: short-lived tokens come from exec plugins,
so nothing secret is written to Pulumi state."""

from typing import Any


def _kubeconfig(name: str, server: str, ca_data: str, exec_entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
        "users": [{"name": name, "user": {"exec": exec_entry}}],
    }


def eks_kubeconfig(
    cluster_name: str, endpoint: str, ca_data: str, region: str, role_arn: str | None = None, profile: str | None = None
) -> dict[str, Any]:
    args = ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"]
    if role_arn:
        args += ["--role-arn", role_arn]
    exec_entry: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": args,
        "interactiveMode": "Never",
    }
    if profile:
        exec_entry["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    return _kubeconfig(f"eks-{cluster_name}", endpoint, ca_data, exec_entry)


def gke_kubeconfig(cluster_name: str, endpoint: str, ca_data: str) -> dict[str, Any]:
    exec_entry = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "gke-gcloud-auth-plugin",
        "installHint": "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
        "provideClusterInfo": True,
        "interactiveMode": "Never",
    }
    server = endpoint if endpoint.startswith("https://") else f"https://{endpoint}"
    return _kubeconfig(f"gke-{cluster_name}", server, ca_data, exec_entry)
