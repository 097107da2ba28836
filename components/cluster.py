"""The one Kubernetes provider of a stack, connected to the cluster its settings name.

Cloud SDKs are imported inside the function that needs them: importing pulumi_aws or
pulumi_gcp costs seconds, and a kubeconfig stack needs neither.
"""

import json
import os

import pulumi
import pulumi_kubernetes as k8s

from components.kubeconfig import eks_kubeconfig, gke_kubeconfig
from settings.cluster import ClusterSettings, EksCluster, GkeCluster, KubeconfigCluster


def cloud_provider(name: str, cluster: ClusterSettings) -> pulumi.ProviderResource | None:
    """The AWS or Google Cloud provider of the cluster's account: it looks the cluster up and serves
    every other cloud resource of the stack (one provider, one plugin instance)."""
    if isinstance(cluster, EksCluster):
        import pulumi_aws as aws

        # The role the kubeconfig's token assumes is the account the cluster, the certificate and
        # the DNS records live in: the lookups and the cloud resources assume it too.
        assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=cluster.role_arn)] if cluster.role_arn else None
        return aws.Provider(name, region=cluster.region, profile=cluster.profile, assume_roles=assume_roles)
    if isinstance(cluster, GkeCluster):
        import pulumi_gcp as gcp

        return gcp.Provider(name, project=cluster.project)
    return None


PROVIDER_OPTIONS = {
    # A ConfigMap or Secret whose data changes is updated in place, as `kubectl apply` does, not
    # replaced: a replacement of argocd-cm or argocd-secret is refused on a protected (production)
    # stack, and replacing argocd-secret would drop the keys Argo CD writes into it (server.secretkey).
    "enable_config_map_mutable": True,
    "enable_secret_mutable": True,
}


def kubernetes_provider(name: str, cluster: ClusterSettings, cloud: pulumi.ProviderResource | None = None) -> k8s.Provider:
    """`cloud` is the `cloud_provider` of an EKS or GKE cluster."""
    if isinstance(cluster, EksCluster):
        return k8s.Provider(
            name, kubeconfig=_eks(cluster, cloud), cluster_identifier=f"eks:{cluster.region}:{cluster.name}", **PROVIDER_OPTIONS
        )
    if isinstance(cluster, GkeCluster):
        return k8s.Provider(
            name,
            kubeconfig=_gke(cluster, cloud),
            cluster_identifier=f"gke:{cluster.project}:{cluster.location}:{cluster.name}",
            **PROVIDER_OPTIONS,
        )
    return _kubeconfig_provider(name, cluster)


RENDER_YAML_TO = "GITOPS_RENDER_YAML_TO"
"""A directory: a kubeconfig stack's provider then writes every object there as YAML instead of
applying it (the provider's renderYamlToDirectory). For the end-to-end test that compares this
with `ops render` only: the provider writes Secrets into those files in plain text."""


def _kubeconfig_provider(name: str, cluster: KubeconfigCluster) -> k8s.Provider:
    if os.environ.get(RENDER_YAML_TO):
        # The provider refuses a kubeconfig or context beside its render mode.
        return k8s.Provider(name, render_yaml_to_directory=os.environ[RENDER_YAML_TO], **PROVIDER_OPTIONS)
    path = os.path.expanduser(cluster.path) if cluster.path else None
    return k8s.Provider(name, kubeconfig=path, context=cluster.context, **PROVIDER_OPTIONS)


def _eks(cluster: EksCluster, aws_provider: pulumi.ProviderResource | None) -> pulumi.Output[str]:
    import pulumi_aws as aws

    found = aws.eks.get_cluster_output(name=cluster.name, opts=pulumi.InvokeOutputOptions(provider=aws_provider))
    return pulumi.Output.all(found.endpoint, found.certificate_authorities[0].data).apply(
        lambda args: json.dumps(eks_kubeconfig(cluster.name, *args, cluster.region, cluster.role_arn, cluster.profile))
    )


def _gke(cluster: GkeCluster, gcp_provider: pulumi.ProviderResource | None) -> pulumi.Output[str]:
    import pulumi_gcp as gcp

    found = gcp.container.get_cluster_output(
        name=cluster.name,
        location=cluster.location,
        project=cluster.project,
        opts=pulumi.InvokeOutputOptions(provider=gcp_provider),
    )
    return pulumi.Output.all(found.endpoint, found.master_auths[0].cluster_ca_certificate).apply(
        lambda args: json.dumps(gke_kubeconfig(cluster.name, *args))
    )
