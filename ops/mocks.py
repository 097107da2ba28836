"""Pulumi mocks that record every resource the program registers, for render and tests, and that
compute the outputs real providers compute.

Without computed outputs every output a provider fills in (an ACM certificate's validation
options, an Ingress's load-balancer address, a static IP) would be None, and any wiring built on
one would go untested. `COMPUTED_OUTPUTS` fakes them per resource type, under the names of the
provider's real output properties (tests/test_mocks.py checks each name against the installed
SDK's class), with plausible values that are the same on every run.

The monitor is subclassed because `MockResourceArgs` carries neither the parent nor the
dependencies of a resource, and the render lists both; it also registers the objects a mocked
chart makes, so that the chart's `resources` output refers to resources that exist.
"""

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc

_FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nrendered\n-----END CERTIFICATE-----\n").decode()
FAKE_AWS_ACCOUNT = "123456789012"
FAKE_AWS_REGION = "eu-west-1"
"""The region of a fake AWS value whose provider names none."""

FAKE_INVOKE_RESULTS: dict[str, dict[str, Any]] = {
    "aws:eks/getCluster:getCluster": {
        "endpoint": "https://0123456789ABCDEF.gr7.eu-west-1.eks.amazonaws.com",
        "certificateAuthorities": [{"data": _FAKE_CA}],
    },
    "gcp:container/getCluster:getCluster": {
        "endpoint": "203.0.113.10",
        "masterAuths": [{"clusterCaCertificate": _FAKE_CA}],
    },
    "aws:route53/getZone:getZone": {"zoneId": "Z0EXAMPLE0ZONE", "id": "Z0EXAMPLE0ZONE", "name": "example.com"},
    "aws:elb/getHostedZoneId:getHostedZoneId": {"id": "Z32O12XQLNTSW2"},
}
"""What the cloud look-ups return under mocks: plausible values, never real ones."""

CHART = "kubernetes:helm.sh/v4:Chart"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
_RESOURCE_REFERENCE = {rpc._special_sig_key: rpc._special_resource_sig}


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str | None
    provider: str | None
    dependencies: list[str]
    inputs: dict[str, Any]
    secret_paths: list[str] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    """What the mocks returned: the inputs and the outputs `COMPUTED_OUTPUTS` adds."""
    custom: bool = True
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Child:
    """An object a mocked component makes (a chart's Ingress), as the engine would hold it."""

    type: str
    name: str
    id: str
    state: dict[str, Any]


@dataclass
class Computed:
    """What a provider would add to a resource's inputs."""

    outputs: dict[str, Any] = field(default_factory=dict)
    id: str | None = None
    """The id the provider gives it (an ACM certificate's id is its ARN); default `<name>-id`."""
    children: list[Child] = field(default_factory=list)
    """Objects of a component (a chart's), each referred to from `outputs` by a resource reference."""


@dataclass(frozen=True)
class Resource:
    """The part of a registration the computed outputs depend on."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    provider_inputs: dict[str, Any]
    """The inputs of the resource's provider (an AWS provider's region)."""

    def child_reference(self, child: Child) -> dict[str, Any]:
        return {**_RESOURCE_REFERENCE, "urn": child_urn(self.urn, child), "id": child.id}


@dataclass(frozen=True)
class ComputedOutputs:
    sdk_class: str
    """The SDK resource class whose output properties these are, as `module:Class`."""
    compute: Callable[[Resource], Computed]


def fake_ipv4(name: str, network: str = "203.0.113") -> str:
    """A documentation address (RFC 5737) chosen by `name`: the same name, the same address."""
    return f"{network}.{1 + _number(name) % 254}"


def _number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _aws_region(provider_inputs: dict[str, Any]) -> str:
    if provider_inputs.get("region"):
        return provider_inputs["region"]
    cluster = str(provider_inputs.get("clusterIdentifier") or "")
    return cluster.split(":")[1] if cluster.startswith("eks:") else FAKE_AWS_REGION


def _stash(resource: Resource) -> Computed:
    # A stash keeps the value of its first run, and a mocked run is always a first run.
    return Computed({"output": resource.inputs["input"]})


def _acm_certificate(resource: Resource) -> Computed:
    arn = f"arn:aws:acm:{_aws_region(resource.provider_inputs)}:{FAKE_AWS_ACCOUNT}:certificate/{_uuid(resource.name)}"
    domain = resource.inputs["domainName"]
    token = f"{_number(domain):x}"[:10]
    validation = {
        "domainName": domain,
        "resourceRecordName": f"_{token}.{domain}.",
        "resourceRecordType": "CNAME",
        "resourceRecordValue": f"_{token[::-1]}.xlfgrmvvlj.acm-validations.aws.",
    }
    return Computed({"arn": arn, "domainValidationOptions": [validation], "status": "PENDING_VALIDATION"}, id=arn)


def _uuid(name: str) -> str:
    digits = hashlib.sha256(name.encode()).hexdigest()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:32]}"


def _route53_record(resource: Resource) -> Computed:
    return Computed({"fqdn": str(resource.inputs["name"]).rstrip(".")})


def _global_address(resource: Resource) -> Computed:
    name = resource.inputs.get("name") or resource.name
    return Computed({"address": fake_ipv4(name), "selfLink": _gcp_link("addresses", name)})


def _security_policy(resource: Resource) -> Computed:
    name = resource.inputs.get("name") or resource.name
    return Computed({"selfLink": _gcp_link("securityPolicies", name), "fingerprint": f"{_number(name):x}"[:12]})


def _gcp_link(collection: str, name: str) -> str:
    return f"https://www.googleapis.com/compute/v1/projects/acme-platform/global/{collection}/{name}"


def ingress_status(ingress: dict[str, Any], region: str = FAKE_AWS_REGION) -> dict[str, Any]:
    """The status the Ingress's controller writes: an ALB's DNS name, the GKE load balancer's
    static IP, or (ingress-nginx and others) an IP of its own per Ingress."""
    metadata = ingress.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    spec = ingress.get("spec") or {}
    ingress_class = spec.get("ingressClassName") or annotations.get("kubernetes.io/ingress.class")
    key = f"{metadata.get('namespace')}/{metadata.get('name')}"
    if ingress_class == "alb":
        number = _number(key)
        short = f"{metadata.get('namespace', '')[:8]}-{metadata.get('name', '')[:8]}"
        entry = {"hostname": f"k8s-{short}-{number % 16**10:010x}-{number % 10**10:010d}.{region}.elb.amazonaws.com"}
    elif ingress_class == "gce":
        static_ip = annotations.get("kubernetes.io/ingress.global-static-ip-name")
        entry = {"ip": fake_ipv4(static_ip) if static_ip else fake_ipv4(key, "198.51.100")}
    else:
        entry = {"ip": fake_ipv4(key, "198.51.100")}
    return {"loadBalancer": {"ingress": [entry]}}


def _ingress(resource: Resource) -> Computed:
    return Computed({"status": ingress_status(resource.inputs, _aws_region(resource.provider_inputs))})


def _chart(resource: Resource) -> Computed:
    """The chart's `resources`: the objects of it that the program reads (its Ingresses), made from
    the values as the argo-cd chart's templates make them."""
    release, namespace = resource.inputs.get("name") or resource.name, resource.inputs.get("namespace")
    server = ((resource.inputs.get("values") or {}).get("server")) or {}
    children = []
    for key, suffix in (("ingress", "server"), ("ingressGrpc", "server-grpc")):
        values = server.get(key) or {}
        if not values.get("enabled"):
            continue
        name = f"{release}-{suffix}"
        ingress = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {"name": name, "namespace": namespace, "annotations": values.get("annotations") or {}},
            "spec": {"ingressClassName": values.get("ingressClassName")} if values.get("ingressClassName") else {},
        }
        ingress["status"] = ingress_status(ingress, _aws_region(resource.provider_inputs))
        children.append(Child(INGRESS, f"{resource.name}:{namespace}/{name}", f"{namespace}/{name}", ingress))
    return Computed({"resources": [resource.child_reference(child) for child in children]}, children=children)


COMPUTED_OUTPUTS: dict[str, ComputedOutputs] = {
    "pulumi:index:Stash": ComputedOutputs("pulumi:Stash", _stash),
    "aws:acm/certificate:Certificate": ComputedOutputs("pulumi_aws.acm:Certificate", _acm_certificate),
    "aws:route53/record:Record": ComputedOutputs("pulumi_aws.route53:Record", _route53_record),
    "gcp:compute/globalAddress:GlobalAddress": ComputedOutputs("pulumi_gcp.compute:GlobalAddress", _global_address),
    "gcp:compute/securityPolicy:SecurityPolicy": ComputedOutputs("pulumi_gcp.compute:SecurityPolicy", _security_policy),
    CHART: ComputedOutputs("pulumi_kubernetes.helm.v4:Chart", _chart),
    INGRESS: ComputedOutputs("pulumi_kubernetes.networking.v1:Ingress", _ingress),
}
"""Per type token: the outputs its provider computes, faked."""


def transformed(child: Child, transforms: list[Callable[..., Any]]) -> Child:
    """The child as a component's (synchronous) transforms leave it."""
    state = child.state
    for transform in transforms:
        result = transform(pulumi.ResourceTransformArgs(True, child.type, child.name, state, pulumi.ResourceOptions()))
        if result is not None:
            state = dict(result.props)
    return Child(child.type, child.name, child.id, state)


def child_urn(parent_urn: str, child: Child) -> str:
    """The URN the engine gives a component's child: the parent's type chain, then the child's type."""
    parent_types = parent_urn.split("::")[2]
    return "::".join([*parent_urn.split("::")[:2], f"{parent_types}${child.type}", child.name])


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registrations: list[Registration] = []
        self.invokes: list[tuple[str, dict[str, Any]]] = []
        self.registering_urn = ""
        """The URN of the resource `new_resource` is asked about (set by the monitor)."""
        self.children: dict[str, Child] = {}
        """The objects mocked components made, by URN, for the monitor to register."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        entry = COMPUTED_OUTPUTS.get(args.typ)
        if entry is None:
            return f"{args.name}-id", args.inputs
        resource = Resource(args.typ, args.name, self.registering_urn, args.inputs, self._provider_inputs(args.provider))
        computed = entry.compute(resource)
        for child in computed.children:
            # The engine runs a component's transforms on each of its children.
            self.children[child_urn(resource.urn, child)] = transformed(child, args.transforms or [])
        return computed.id or f"{args.name}-id", {**args.inputs, **computed.outputs}

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        return FAKE_INVOKE_RESULTS.get(args.token, {})

    def _provider_inputs(self, reference: str | None) -> dict[str, Any]:
        urn = (reference or "").rsplit("::", 1)[0]
        return next((r.inputs for r in self.registrations if r.urn == urn), {})


class RecordingMonitor(runtime_mocks.MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request):
        self.recording.registering_urn = self.make_urn(request.parent, request.type, request.name)
        response = super().RegisterResource(request)
        for urn, child in self.recording.children.items():
            self.resources.setdefault(urn, runtime_mocks.MockMonitor.ResourceRegistration(urn, child.id, child.state))
        if request.type != "pulumi:pulumi:Stack":
            inputs = rpc.deserialize_properties(request.object)
            secret_paths: list[str] = []
            self.recording.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent or None,
                    provider=request.provider or None,
                    dependencies=list(request.dependencies),
                    inputs=unwrap_secrets(inputs, "", secret_paths),
                    secret_paths=secret_paths,
                    outputs=self.resources[response.urn].state,
                    custom=request.custom,
                    protect=request.protect,
                    ignore_changes=list(request.ignoreChanges),
                )
            )
        return response


def unwrap_secrets(value: Any, path: str, secret_paths: list[str]) -> Any:
    """The value without Pulumi's secret wrappers; the path of each secret goes to `secret_paths`."""
    if rpc.is_rpc_secret(value):
        secret_paths.append(path or ".")
        return unwrap_secrets(rpc.unwrap_rpc_secret(value), path, [])
    if isinstance(value, dict):
        return {k: unwrap_secrets(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # numbers cross the RPC boundary as floats; `replicas: 2.0` is not an integer
    return value


def install(project: str, stack: str, config: dict[str, str], secret_keys: set[str]) -> RecordingMocks:
    """Route the Pulumi runtime to fresh recording mocks with this stack's config."""
    mocks = RecordingMocks()
    pulumi.runtime.reset_options()  # forget the root stack resource of a previous run
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=RecordingMonitor(mocks))
    pulumi.runtime.set_all_config(config, sorted(secret_keys))
    return mocks
