"""The mocks' computed outputs carry the names the providers' SDK classes read, all the way down:
a misspelt name would come back as None in the program, as if the provider had computed nothing."""

import importlib
import inspect
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pytest

from ops.mocks import CHART, COMPUTED_OUTPUTS, INGRESS, Resource

SAMPLE_INPUTS: dict[str, dict[str, Any]] = {
    "pulumi:index:Stash": {"input": {"password": "x"}},
    "aws:acm/certificate:Certificate": {"domainName": "argocd.dev.example.com", "validationMethod": "DNS"},
    "aws:route53/record:Record": {"name": "_abc.argocd.dev.example.com.", "type": "CNAME"},
    "gcp:compute/globalAddress:GlobalAddress": {"name": "platform-prd-argocd"},
    "gcp:compute/securityPolicy:SecurityPolicy": {"name": "platform-prd-argocd-allowlist"},
    CHART: {
        "name": "argocd",
        "namespace": "argocd",
        "values": {"server": {"ingress": {"enabled": True, "ingressClassName": "nginx"}, "ingressGrpc": {"enabled": True}}},
    },
    INGRESS: {"metadata": {"name": "web", "namespace": "team"}, "spec": {"ingressClassName": "alb"}},
}
URN = "urn:pulumi:dev::gitops::gitops:argocd:ArgoCD$kubernetes:helm.sh/v4:Chart::argocd-chart"


def sdk_class(path: str) -> type:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def output_properties(cls: type) -> dict[str, Any]:
    """Output name (as the engine spells it) → its annotation, for a resource or an output type."""
    found: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        # Resources of the core SDK (Stash) declare their outputs as annotated attributes.
        for name, annotation in inspect.get_annotations(klass).items():
            if typing.get_origin(annotation) is pulumi.Output:
                found[name] = annotation
        for value in vars(klass).values():
            if isinstance(value, property) and hasattr(value.fget, "_pulumi_name"):
                found[value.fget._pulumi_name] = typing.get_type_hints(value.fget).get("return", Any)
    return found


def element_class(annotation: Any) -> type | None:
    """The output type inside Output[Optional[Sequence[...]]] and the like, if it has properties."""
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is pulumi.Output or origin is typing.Union:
            annotation = next((a for a in args if a is not type(None)), Any)
        elif origin is not None and issubclass(origin, Mapping):
            annotation = args[-1] if args else Any
        elif origin is not None and issubclass(origin, Sequence):
            annotation = args[0] if args else Any
        else:
            break
    return annotation if isinstance(annotation, type) and output_properties(annotation) else None


def unknown_names(value: Any, cls: type, path: str = "") -> list[str]:
    if isinstance(value, list):
        return [name for index, item in enumerate(value) for name in unknown_names(item, cls, f"{path}[{index}]")]
    if not isinstance(value, dict):
        return []
    properties = output_properties(cls)
    problems = []
    for key, item in value.items():
        where = f"{path}.{key}" if path else key
        if key not in properties:
            problems.append(where)
        elif (inner := element_class(properties[key])) is not None:
            problems.extend(unknown_names(item, inner, where))
    return problems


def test_every_computed_type_has_a_sample():
    assert set(SAMPLE_INPUTS) == set(COMPUTED_OUTPUTS)


@pytest.mark.parametrize("token", sorted(COMPUTED_OUTPUTS))
def test_computed_outputs_are_named_as_the_sdk_reads_them(token):
    entry = COMPUTED_OUTPUTS[token]
    computed = entry.compute(Resource(token, "sample", URN, SAMPLE_INPUTS[token], {"region": "eu-west-1"}))
    assert computed.outputs
    assert unknown_names(computed.outputs, sdk_class(entry.sdk_class)) == []
    for child in computed.children:
        assert unknown_names(child.state, sdk_class(COMPUTED_OUTPUTS[child.type].sdk_class)) == [], child.name


def test_the_name_check_catches_a_misspelt_nested_output():
    certificate = sdk_class(COMPUTED_OUTPUTS["aws:acm/certificate:Certificate"].sdk_class)
    outputs = {"arn": "x", "domainValidationOptions": [{"resourceRecordName": "a", "recordValue": "b"}]}
    assert unknown_names(outputs, certificate) == ["domainValidationOptions[0].recordValue"]
    assert unknown_names(
        {"loadBalancer": {"ingres": []}}, sdk_class("pulumi_kubernetes.networking.v1.outputs:IngressStatus")
    ) == ["loadBalancer.ingres"]


def test_a_chart_refers_to_each_ingress_its_values_make_under_the_chart():
    computed = COMPUTED_OUTPUTS[CHART].compute(Resource(CHART, "argocd-chart", URN, SAMPLE_INPUTS[CHART], {}))
    assert [child.state["metadata"]["name"] for child in computed.children] == ["argocd-server", "argocd-server-grpc"]
    assert [reference["urn"] for reference in computed.outputs["resources"]] == [
        f"{URN.rsplit('::', 1)[0]}$kubernetes:networking.k8s.io/v1:Ingress::argocd-chart:argocd/argocd-server",
        f"{URN.rsplit('::', 1)[0]}$kubernetes:networking.k8s.io/v1:Ingress::argocd-chart:argocd/argocd-server-grpc",
    ]
    server, grpc = (child.state["status"]["loadBalancer"]["ingress"][0]["ip"] for child in computed.children)
    assert server != grpc  # so a test can tell which Ingress an address was read from
