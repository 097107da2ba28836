"""Pulumi mocks that record every resource the program registers, for render and tests.

The monitor is subclassed because `MockResourceArgs` carries neither the parent nor the
dependencies of a resource, and the render lists both.
"""

import base64
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc

_FAKE_CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nrendered\n-----END CERTIFICATE-----\n").decode()

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
    custom: bool = True
    protect: bool = False
    ignore_changes: list[str] = field(default_factory=list)


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registrations: list[Registration] = []
        self.invokes: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        return f"{args.name}-id", {**args.inputs, **_computed_outputs(args)}

    def call(self, args: pulumi.runtime.MockCallArgs):
        self.invokes.append((args.token, dict(args.args)))
        return FAKE_INVOKE_RESULTS.get(args.token, {})

    def by_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.registrations if r.name == name]
        if len(matches) != 1:
            raise KeyError(f"{len(matches)} resources named {name!r}")
        return matches[0]


def _computed_outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    """Outputs a real provider would compute, made deterministic so renders are stable."""
    if args.typ == "pulumi:index:Stash":
        return {"output": args.inputs["input"]}
    return {}


class RecordingMonitor(runtime_mocks.MockMonitor):
    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
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
