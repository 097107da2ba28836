"""Which cluster a stack deploys to: an EKS cluster, a GKE cluster or a kubeconfig context."""

from typing import Annotated, Literal

from pydantic import Field

from settings.base import Settings, formatted

EksClusterName = Annotated[str, formatted("an EKS cluster name like platform-dev", pattern=r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")]
AwsRegion = Annotated[str, formatted("an AWS region like eu-west-1", pattern=r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")]
RoleArn = Annotated[
    str,
    formatted(
        "an IAM role ARN like arn:aws:iam::123456789012:role/deployer", pattern=r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+"
    ),
]
GcpProject = Annotated[
    str, formatted("a Google Cloud project ID like acme-platform-prd", pattern=r"[a-z][a-z0-9-]{4,28}[a-z0-9]")
]
GcpLocation = Annotated[
    str, formatted("a Google Cloud region or zone like europe-west1 or europe-west1-b", pattern=r"[a-z]+-[a-z]+\d(-[a-z])?")
]
GkeClusterName = Annotated[str, formatted("a GKE cluster name like platform-prd", pattern=r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?")]


class KubeconfigCluster(Settings):
    """A context of a kubeconfig file; the default, meant for local clusters (kind, k3d, minikube)."""

    kind: Literal["kubeconfig"] = "kubeconfig"
    path: str | None = None
    """Kubeconfig file; defaults to $KUBECONFIG, then ~/.kube/config."""
    context: str | None = None
    """Context to use; defaults to the file's current context."""


class EksCluster(Settings):
    """An existing EKS cluster, looked up by name; credentials come from `aws eks get-token`."""

    kind: Literal["eks"]
    name: EksClusterName
    region: AwsRegion
    role_arn: RoleArn | None = None
    """Role the stack works as: `aws eks get-token` and the AWS provider (cluster lookup, certificate, DNS) assume it."""
    profile: str | None = None
    """AWS CLI profile for the lookup and for `aws eks get-token`."""


class GkeCluster(Settings):
    """An existing GKE cluster, looked up by name; credentials come from gke-gcloud-auth-plugin."""

    kind: Literal["gke"]
    name: GkeClusterName
    location: GcpLocation
    """Region (regional cluster) or zone (zonal cluster)."""
    project: GcpProject


ClusterSettings = Annotated[EksCluster | GkeCluster | KubeconfigCluster, Field(discriminator="kind")]
