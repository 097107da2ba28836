"""Strict schema checks of rendered objects: Kubernetes' own schemas and Argo CD's CRDs.

Strict means an unknown field is an error, as the API server would prune or reject it.
"""

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import InvalidVersion, Version
from referencing import Registry, Resource

from ops.errors import OpsError
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
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    if (api_version, kind) in crd_schemas():
        problems = [_problem(obj, error) for error in _crd_validator(api_version, kind).iter_errors(obj)]
        return problems + _name_problems(obj)
    validator = _kubernetes_validator(kubernetes_schema_version(kubernetes_version), api_version, kind)
    if validator is not None:
        return [_problem(obj, error) for error in validator.iter_errors(obj)]
    if api_version.split("/")[0] in CLOUD_CRD_GROUPS:
        return _name_problems(obj)
    return [Problem(describe(obj), "", f"no schema for this kind in Kubernetes {kubernetes_version} or Argo CD's CRDs")]


# kubernetes-validate's schemas: one directory of strict JSON schemas per Kubernetes release,
# `<kind>-<group>-<version>.json` (the group's first label) referring into `_definitions.json`.
# Its `validate` reads that 1.4 MB file and builds a validator for every object; a render checks
# hundreds, so each validator here is built once.
_KUBERNETES_SCHEMAS = files("kubernetes_validate") / "kubernetes-json-schema"


@cache
def kubernetes_schema_version(kubernetes_version: str) -> str:
    """The release whose schemas check objects for `kubernetes_version`: the newest one
    kubernetes-validate has that is not newer (as its own `validate` picks)."""
    known = sorted(set(all_versions()), key=Version)
    try:
        wanted = Version(kubernetes_version.removeprefix("v")).release[:2]
    except InvalidVersion:
        wanted = None
    older = [version for version in known if wanted and Version(version).release[:2] <= wanted]
    if not older or wanted > Version(known[-1]).release[:2]:
        raise OpsError(
            f"no Kubernetes schemas for version {kubernetes_version!r}: kubernetes-validate has {known[0]} to {known[-1]}"
        )
    return older[-1]


@cache
def _kubernetes_registry(schema_version: str) -> Registry:
    definitions = json.loads((_KUBERNETES_SCHEMAS / f"v{schema_version}-local-strict" / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry()


@cache
def _kubernetes_validator(schema_version: str, api_version: str, kind: str) -> jsonschema.Validator | None:
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # rbac.authorization.k8s.io/v1 → rbac-v1
    path = _KUBERNETES_SCHEMAS / f"v{schema_version}-local-strict" / f"{kind.lower()}-{group_version}.json"
    if not kind or not path.is_file():
        return None
    schema = json.loads(path.read_text())
    return jsonschema.Draft202012Validator(schema, registry=Resource.from_contents(schema) @ _kubernetes_registry(schema_version))


@cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Validator:
    return jsonschema.Draft7Validator(crd_schemas()[(api_version, kind)])


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


def validate_objects(objects: list[dict[str, Any]], kubernetes_version: str = DEFAULT_KUBERNETES_VERSION) -> list[Problem]:
    return [problem for obj in objects for problem in validate_object(obj, kubernetes_version)]
