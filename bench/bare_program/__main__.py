"""A bare Pulumi program: the registrations of a plan, made with the SDK's own resource classes and
nothing else (no settings model, no validation, no git), and the plan's stack outputs exported.

The plan (`bench/bare_plan.py` writes it from a run of the real program, and checks afterwards
that this program registered the same thing) lists every resource in registration order with its
type, name, parent, provider, dependencies, inputs, secret inputs and options, and the cloud look-ups
(invokes). It is the physical limit the real program is measured against: what registering the same
resources costs the SDK. It covers the kubeconfig and GKE stacks; an EKS stack's DNS record depends
on an object of the chart, which this program does not make.

    .venv/bin/python bench/bare_run.py plan.json <project> <stack>
"""

import importlib
import json
import os
import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

plan = json.loads(Path(os.environ["BARE_PROGRAM_PLAN"]).read_text())
made: dict[str, pulumi.Resource] = {}


def snake_case(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def with_secrets(inputs: dict[str, Any], secret_paths: list[str]) -> dict[str, Any]:
    """The inputs with the value at each secret path (`stringData`, `a.b[0]`) a Pulumi secret."""
    for path in secret_paths:
        steps = [int(step) if step.isdigit() else step for step in re.findall(r"[^.\[\]]+", path)]
        holder = inputs
        for step in steps[:-1]:
            holder = holder[step]
        holder[steps[-1]] = pulumi.Output.secret(holder[steps[-1]])
    return inputs


def provider_input(value: str) -> Any:
    """A provider's input as given: the engine receives every one as a string, JSON for the others."""
    try:
        return json.loads(value)
    except ValueError:
        return value


CLOUD_PACKAGES = {"gcp": "pulumi_gcp", "aws": "pulumi_aws"}


def sdk_module(package: str, module: str) -> Any:
    """The SDK module of a type's or function's module part: gcp and `compute/globalAddress` is
    pulumi_gcp.compute."""
    return importlib.import_module(f"{CLOUD_PACKAGES[package]}.{module.split('/')[0]}")


def cloud_class(type_: str) -> type[pulumi.CustomResource]:
    """The SDK class of a cloud type: `gcp:compute/globalAddress:GlobalAddress` is
    pulumi_gcp.compute.GlobalAddress, `pulumi:providers:gcp` is pulumi_gcp.Provider."""
    package, module, class_name = type_.split(":")
    if package == "pulumi":
        return importlib.import_module(CLOUD_PACKAGES[class_name]).Provider
    return getattr(sdk_module(package, module), class_name)


def invoke(token: str, arguments: dict[str, Any], provider: pulumi.ProviderResource | None) -> pulumi.Output[Any]:
    """A cloud look-up through its SDK function: `gcp:container/getCluster:getCluster` is
    pulumi_gcp.container.get_cluster_output."""
    package, module, function = token.split(":")
    output_function = getattr(sdk_module(package, module), f"{snake_case(function)}_output")
    options = pulumi.InvokeOutputOptions(provider=provider)
    return output_function(**{snake_case(key): value for key, value in arguments.items()}, opts=options)


def take_ownership(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """What the project does to a chart's objects: each carries the patchForce annotation."""
    metadata = args.props.get("metadata")
    if not args.type_.startswith("kubernetes:") or not isinstance(metadata, dict):
        return None
    annotations = {**(metadata.get("annotations") or {}), "pulumi.com/patchForce": "true"}
    return pulumi.ResourceTransformResult({**args.props, "metadata": {**metadata, "annotations": annotations}}, args.opts)


KUBERNETES_CLASSES = {
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "kubernetes:core/v1:Secret": k8s.core.v1.Secret,
    "kubernetes:core/v1:ConfigMap": k8s.core.v1.ConfigMap,
}


def register(resource: dict[str, Any]) -> pulumi.Resource:
    type_, name = resource["type"], resource["name"]
    inputs = with_secrets(resource["inputs"], resource["secretPaths"])
    options = pulumi.ResourceOptions(
        parent=made.get(resource["parent"]),
        provider=made.get(resource["provider"]),
        depends_on=[made[urn] for urn in resource["dependencies"]],
        protect=resource["protect"],
        ignore_changes=resource["ignoreChanges"] or None,
    )
    if not resource["custom"] and type_ != "kubernetes:helm.sh/v4:Chart":
        return pulumi.ComponentResource(type_, name, None, options)
    if type_ == "pulumi:providers:kubernetes":
        # A kubeconfig is text, even when it is JSON (a GKE or EKS stack's).
        arguments = {snake_case(key): value if key == "kubeconfig" else provider_input(value) for key, value in inputs.items()}
        return k8s.Provider(name, opts=options, **arguments)
    if type_.removeprefix("pulumi:providers:") in CLOUD_PACKAGES:
        return cloud_class(type_)(name, opts=options, **{snake_case(key): provider_input(value) for key, value in inputs.items()})
    if type_.split(":")[0] in CLOUD_PACKAGES:
        return cloud_class(type_)(name, opts=options, **{snake_case(key): value for key, value in inputs.items()})
    if type_ == "pulumi:index:Stash":
        return pulumi.Stash(name, input=inputs["input"], opts=options)
    if type_ == "kubernetes:helm.sh/v4:Chart":
        options.transforms = [take_ownership]
        arguments = {snake_case(key): value for key, value in inputs.items()}
        return k8s.helm.v4.Chart(name, opts=options, **arguments)
    if type_ in KUBERNETES_CLASSES:
        arguments = {snake_case(key): value for key, value in inputs.items() if key not in ("apiVersion", "kind")}
        return KUBERNETES_CLASSES[type_](name, opts=options, **arguments)
    if type_.startswith("kubernetes:"):
        return k8s.apiextensions.CustomResource(
            name,
            api_version=inputs["apiVersion"],
            kind=inputs["kind"],
            metadata=inputs.get("metadata"),
            spec=inputs.get("spec"),
            opts=options,
        )
    raise ValueError(f"the bare program makes no {type_}")


# The cloud look-ups run once their package's provider is made, as the project's do.
invokes_by_package: dict[str, list[tuple[str, dict[str, Any]]]] = {}
for token, arguments in plan["invokes"]:
    invokes_by_package.setdefault(token.split(":")[0], []).append((token, arguments))
for resource in plan["resources"]:
    made[resource["urn"]] = register(resource)
    if resource["type"].startswith("pulumi:providers:"):
        for token, arguments in invokes_by_package.pop(resource["type"].removeprefix("pulumi:providers:"), []):
            invoke(token, arguments, made[resource["urn"]])
for token, arguments in [call for calls in invokes_by_package.values() for call in calls]:
    invoke(token, arguments, None)

for output_name, output in plan["outputs"].items():
    pulumi.export(output_name, pulumi.Output.secret(output["value"]) if output["secret"] else output["value"])
