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


def kubernetes_provider(name: str, cluster: ClusterSettings) -> k8s.Provider:
    if isinstance(cluster, EksCluster):
        return k8s.Provider(name, kubeconfig=_eks(name, cluster), cluster_identifier=f"eks:{cluster.region}:{cluster.name}")
    if isinstance(cluster, GkeCluster):
        return k8s.Provider(
            name, kubeconfig=_gke(name, cluster), cluster_identifier=f"gke:{cluster.project}:{cluster.location}:{cluster.name}"
        )
    return _kubeconfig_provider(name, cluster)


def _kubeconfig_provider(name: str, cluster: KubeconfigCluster) -> k8s.Provider:
    path = os.path.expanduser(cluster.path) if cluster.path else None
    return k8s.Provider(name, kubeconfig=path, context=cluster.context)


def _eks(name: str, cluster: EksCluster) -> pulumi.Output[str]:
    import pulumi_aws as aws

    aws_provider = aws.Provider(f"{name}-aws", region=cluster.region, profile=cluster.profile)
    found = aws.eks.get_cluster_output(name=cluster.name, opts=pulumi.InvokeOutputOptions(provider=aws_provider))
    return pulumi.Output.all(found.endpoint, found.certificate_authorities[0].data).apply(
        lambda args: json.dumps(eks_kubeconfig(cluster.name, *args, cluster.region, cluster.role_arn, cluster.profile))
    )


def _gke(name: str, cluster: GkeCluster) -> pulumi.Output[str]:
    import pulumi_gcp as gcp

    gcp_provider = gcp.Provider(f"{name}-gcp", project=cluster.project)
    found = gcp.container.get_cluster_output(
        name=cluster.name,
        location=cluster.location,
        project=cluster.project,
        opts=pulumi.InvokeOutputOptions(provider=gcp_provider),
    )
    return pulumi.Output.all(found.endpoint, found.master_auths[0].cluster_ca_certificate).apply(
        lambda args: json.dumps(gke_kubeconfig(cluster.name, *args))
    )
