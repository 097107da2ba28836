"""Strict schema checks of rendered objects: Kubernetes' own schemas and Argo CD's CRDs.

Strict means an unknown field is an error, as the API server would prune or reject it.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from settings.base import is_dns_subdomain

ARGOCD_CRDS = Path(__file__).resolve().parent.parent / "schemas" / "argocd-v3.4.4"
DEFAULT_KUBERNETES_VERSION = "1.33"
CLOUD_CRD_GROUPS = {"networking.gke.io", "cloud.google.com", "elbv2.k8s.aws"}
"""API groups of the CRDs GKE and the AWS Load Balancer Controller install in their clusters: no
schema of theirs is kept here, so objects of these groups get the name checks only."""


@dataclass(frozen=True)
class Problem:
    object: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.object}: {self.field or '(root)'}: {self.message}"


def describe(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    where = f"{metadata.get('namespace')}/" if metadata.get("namespace") else ""
    return f"{obj.get('apiVersion')} {obj.get('kind')} {where}{metadata.get('name')}"


def validate_object(obj: dict[str, Any], kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> list[Problem]:
    schema = crd_schemas().get((obj.get("apiVersion"), obj.get("kind")))
    if schema is not None:
        problems = [_problem(obj, error) for error in jsonschema.Draft7Validator(schema).iter_errors(obj)]
        return problems + _name_problems(obj)
    try:
        kubernetes_validate.validate(obj, kubernetes_version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [_problem(obj, error)]
    except kubernetes_validate.SchemaNotFoundError:
        if str(obj.get("apiVersion", "")).split("/")[0] in CLOUD_CRD_GROUPS:
            return _name_problems(obj)
        return [Problem(describe(obj), "", f"no schema for this kind in Kubernetes {kubernetes_version} or Argo CD's CRDs")]
    return []


def _problem(obj: dict[str, Any], error: jsonschema.ValidationError) -> Problem:
    return Problem(describe(obj), ".".join(str(p) for p in error.absolute_path), error.message)


def _name_problems(obj: dict[str, Any]) -> list[Problem]:
    # A CRD's schema says only `metadata: {type: object}`; the API server still checks names.
    metadata = obj.get("metadata") or {}
    problems = []
    for key in ("name", "namespace"):
        value = metadata.get(key)
        if key == "name" and not value:
            problems.append(Problem(describe(obj), "metadata.name", "is required"))
        elif value and not is_dns_subdomain(value):
            problems.append(Problem(describe(obj), f"metadata.{key}", f"{value!r} is not a valid DNS-1123 name"))
    return problems


@cache
def crd_schemas(directory: Path = ARGOCD_CRDS) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → strict JSON schema of each served version of each CRD."""
    schemas = {}
    for path in sorted(directory.glob("*.yaml")):
        crd = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schema = strict(version["schema"]["openAPIV3Schema"])
            schema.setdefault("properties", {}).update(
                {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"}}
            )
            schemas[(f"{group}/{version['name']}", kind)] = schema
    return schemas


def strict(node: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists its properties,
    except those marked x-kubernetes-preserve-unknown-fields, and int-or-string made explicit."""
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: strict(value) for key, value in node.items()}
    if result.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in result and not result.get("x-kubernetes-preserve-unknown-fields"):
        result.setdefault("additionalProperties", False)
    return result


def validate_directory(directory: Path, kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> tuple[int, list[Problem]]:
    """Validate every object file under `directory` and its chart-<release>/ folders (the chart
    documents in charts/ and the JSON files are not objects)."""
    problems, count = [], 0
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("chart-*/*.yaml")]):
        obj = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        count += 1
        problems += validate_object(obj, kubernetes_version)
    return count, problems
