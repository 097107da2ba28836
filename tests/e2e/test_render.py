"""Render fidelity: what `python -m ops render` writes for a stack (the program under mocks, the
chart through `helm template`) against what the real engine applied for the same stack (each
object's inputs in the state, the chart's rendered by the Kubernetes provider against the API
server). Every object, and every field of it, must agree."""

import json
from pathlib import Path

import yaml

from components.cluster import RENDER_YAML_TO
from tests.e2e.harness import REPOSITORY_TOKEN, kubeconfig_stack

STACK = "fidelity"
KUBERNETES_VERSION = "1.36"  # the local control plane's
NOT_OBJECTS = ("kubernetes:helm.sh/", "pulumi:providers:")


def rendered_objects(directory: Path) -> dict[tuple, dict]:
    found = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("chart-*/*.yaml")]):
        obj = yaml.load(path.read_text(), Loader=yaml.CSafeLoader)
        found[identity(obj)] = obj
    return found


def applied_objects(state: dict) -> dict[tuple, dict]:
    found = {}
    for resource in state["deployment"]["resources"]:
        if not resource["type"].startswith("kubernetes:") or resource["type"].startswith(NOT_OBJECTS):
            continue
        if resource.get("external"):
            continue  # a read (the dashboard's look-up of the chart's Ingress), not an object Pulumi applies
        obj = {key: value for key, value in resource["inputs"].items() if not key.startswith("__")}
        found[identity(obj)] = obj
    return found


def identity(obj: dict) -> tuple:
    metadata = obj.get("metadata") or {}
    return obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"]


def comparable(obj: dict) -> dict:
    """A Secret without its data: the state holds it encrypted as one value (the provider turns
    stringData into data), a render redacts the values."""
    if obj.get("kind") != "Secret":
        return obj
    return {key: value for key, value in obj.items() if key not in ("data", "stringData")}


def differences(applied, rendered, path=()) -> list[str]:
    where = ".".join(map(str, path)) or "(root)"
    if isinstance(applied, dict) and isinstance(rendered, dict):
        found = []
        for key in sorted(set(applied) | set(rendered)):
            if key not in applied or key not in rendered:
                found.append(f"{where}.{key}: only {'applied' if key in applied else 'rendered'}")
            else:
                found += differences(applied[key], rendered[key], (*path, key))
        return found
    if isinstance(applied, list) and isinstance(rendered, list) and len(applied) == len(rendered):
        return [d for i, pair in enumerate(zip(applied, rendered, strict=True)) for d in differences(*pair, (*path, i))]
    if applied == rendered:
        return []
    return [f"{where}: applied {json.dumps(applied)[:100]}, rendered {json.dumps(rendered)[:100]}"]


def test_ops_render_writes_exactly_what_the_engine_applied(project, control_plane, apps_repo, tmp_path):
    commit = apps_repo.head()
    config = kubeconfig_stack(control_plane, apps_repo, commit)
    # Fields beyond the basics, so the API server checks them against the real CRD too.
    config["applications"]["hello-two-sources"] = {
        "sources": [
            {
                "repository": "apps",
                "path": "apps/hello",
                "revision": commit,
                "helm": {"valueFiles": ["$values/apps/hello/values.yaml"]},
            },
            {"repository": "apps", "revision": commit, "ref": "values"},
        ],
        "project": "examples",
        "destination": {"namespace": "hello"},
        "labels": {"team": "platform"},
        "annotations": {"argocd.argoproj.io/sync-wave": "1"},
        "cascadeDelete": "foreground",
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True, "allowEmpty": False},
            "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
            "retry": {"limit": 3, "backoff": {"duration": "1m30s", "factor": 2, "maxDuration": "5m"}},
        },
        "revisionHistoryLimit": 5,
        "info": [{"name": "owner", "value": "platform"}],
    }
    project.write_stack(STACK, config, secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN})
    project.up(STACK)
    rendered = project.ops("render", "--stack", STACK, "--out", str(tmp_path), "--kubernetes-version", KUBERNETES_VERSION)
    assert rendered.returncode == 0, rendered.output
    assert "objects by helm template" in rendered.stdout

    applied, by_render = applied_objects(project.state(STACK)), rendered_objects(tmp_path / STACK)
    assert len(applied) > 50
    assert sorted(set(applied) - set(by_render)) == []  # nothing applied that a render leaves out
    assert sorted(set(by_render) - set(applied)) == []  # nothing rendered that is not applied
    problems = {
        " ".join(str(part) for part in key if part): found
        for key in applied
        if (found := differences(comparable(applied[key]), comparable(by_render[key])))
    }
    assert problems == {}, json.dumps(problems, indent=1)


def test_the_providers_own_render_mode_cannot_render_the_chart(project, apps_repo, tmp_path):
    """Chart v4 in the provider's render mode (renderYamlToDirectory) has no cluster to ask its
    version, so Helm assumes Kubernetes 1.20 and the argo-cd chart (kubeVersion >=1.25) refuses it:
    why `ops render` renders charts with `helm template` instead. This fails once the provider
    learns a version for its render mode; `ops render` can then use it."""
    project.write_stack(
        "render-mode",
        kubeconfig_stack(None, apps_repo, apps_repo.head()),
        secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN},
    )
    project.env[RENDER_YAML_TO] = str(tmp_path / "provider")
    try:
        result = project.pulumi("up", "--yes", "--skip-preview", stack="render-mode", check=False)
    finally:
        del project.env[RENDER_YAML_TO]
    assert result.returncode != 0
    assert "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.20.0" in result.output
    # What comes before the chart is written, secrets in plain text as the provider warns.
    assert (tmp_path / "provider" / "1-manifest" / "v1-secret-argocd-argocd-redis.yaml").exists()
    assert "contains a secret value in plaintext" in result.output
