"""Pulumi owns the fields it declares, on every object of the stack.

The Kubernetes provider applies objects server-side. When another field manager has taken a field
Pulumi declares (`kubectl scale`, `kubectl edit`, another tool's apply), the next apply, and the
preview of a drift check, fail with a field conflict instead of putting the declared value back.
`pulumi.com/patchForce` makes the provider take such fields back, so that drift shows as a
difference and `pulumi up` (or `python -m ops reconcile`) restores it. Fields Pulumi does not
declare (an HPA's replicas, Argo CD's status) stay with whoever manages them.
"""

from typing import Any

import pulumi

PATCH_FORCE = {"pulumi.com/patchForce": "true"}


def owned(metadata: dict[str, Any]) -> dict[str, Any]:
    """`metadata` with the annotation that makes Pulumi take its fields back."""
    return {**metadata, "annotations": {**(metadata.get("annotations") or {}), **PATCH_FORCE}}


def take_ownership(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A transform for the objects a component makes from a chart (the builders call `owned`)."""
    metadata = args.props.get("metadata")
    if not args.type_.startswith("kubernetes:") or not isinstance(metadata, dict):
        return None
    return pulumi.ResourceTransformResult({**args.props, "metadata": owned(metadata)}, args.opts)
