"""On the real engine: a production-tier stack (deletion protection, HA) takes configuration changes
and refuses to lose what it protects; an unprotected stack is destroyed and installed again."""

import json

import kubernetes
import pytest

from tests.e2e.harness import APPS, REPOSITORY_TOKEN, decoded, kubeconfig_stack, start_control_plane

ARGOCD = "argocd"
PRODUCTION = "production"
SCRATCH = "scratch"
DEX_SECRET = "canary-dex-client-secret-41d2"
# What argocd-server writes into argocd-secret on its first start; every session and token depends on it.
SERVER_SECRET_KEY = "c2VydmVyLXNlY3JldGtleS13cml0dGVuLWJ5LWFyZ29jZA=="


def production_config(control_plane, apps_repo, commit, **overrides):
    return kubeconfig_stack(
        control_plane,
        apps_repo,
        commit,
        environment={"tier": PRODUCTION},
        dashboard={
            "host": "argocd.localtest.me",
            "ingress": "nginx",
            "ingressClassName": "nginx",
            "tls": {"mode": "none"},
            "allowInsecureHttp": True,
        },
        **overrides,
    )


@pytest.fixture(scope="module")
def production(project, control_plane, apps_repo):
    commit = apps_repo.head()
    project.write_stack(
        PRODUCTION,
        production_config(control_plane, apps_repo, commit),
        secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN},
    )
    project.up(PRODUCTION)
    return commit


def test_production_protects_the_namespace_and_every_chart_object(project, production):
    resources = project.state(PRODUCTION)["deployment"]["resources"]
    protected = {r["urn"].rsplit("::", 1)[-1] for r in resources if r.get("protect")}
    assert "argocd-namespace" in protected
    chart_objects = [r for r in resources if "kubernetes:helm.sh/v4:Chart$" in r["urn"]]
    assert chart_objects and all(r.get("protect") for r in chart_objects)
    # The HA profile really ran: redis-ha on three Nodes and budgets that let one pod go at a time.
    assert any(r["type"] == "kubernetes:apps/v1:StatefulSet" and "redis-ha-server" in r["urn"] for r in resources)
    budgets = [r["outputs"]["spec"] for r in resources if r["type"] == "kubernetes:policy/v1:PodDisruptionBudget"]
    assert budgets and all(spec.get("maxUnavailable") == 1 for spec in budgets)


def test_rbac_and_sso_changes_apply_under_protection_and_keep_what_argocd_wrote(project, control_plane, apps_repo, production):
    core = control_plane.core()
    # As argocd-server does on its first start, under its own field manager.
    core.patch_namespaced_secret(
        "argocd-secret", ARGOCD, {"data": {"server.secretkey": SERVER_SECRET_KEY}}, field_manager="argocd-server"
    )
    config = production_config(control_plane, apps_repo, production)
    config["argocd"]["rbac"] = {"policy": "g, platform-team, role:admin\n"}
    config["argocd"]["sso"] = {"dex": [{"type": "github", "id": "github", "name": "GitHub", "config": {"clientID": "abc"}}]}
    project.write_stack(
        PRODUCTION,
        config,
        secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN, "argocd.sso.dex[0].clientSecret": DEX_SECRET},
    )
    preview = json.loads(project.pulumi("preview", "--json", stack=PRODUCTION).stdout)
    assert not [step for step in preview["steps"] if step["op"] in ("replace", "create-replacement", "delete-replaced")]
    project.up(PRODUCTION)

    assert core.read_namespaced_config_map("argocd-rbac-cm", ARGOCD).data["policy.csv"] == "g, platform-team, role:admin\n"
    assert "github" in core.read_namespaced_config_map("argocd-cm", ARGOCD).data["dex.config"]
    secret = core.read_namespaced_secret("argocd-secret", ARGOCD)
    assert decoded(secret)["dex.github.clientSecret"] == DEX_SECRET
    assert secret.data["server.secretkey"] == SERVER_SECRET_KEY  # updated in place, not replaced
    project.preview(PRODUCTION, "--expect-no-changes")


def test_destroy_and_a_replacing_change_are_refused_and_nothing_is_lost(project, control_plane, apps_repo, production):
    managed_before = managed(project.state(PRODUCTION))
    destroyed = project.pulumi("destroy", "--yes", "--skip-preview", stack=PRODUCTION, check=False)
    assert destroyed.returncode != 0
    assert "protected" in destroyed.output
    # Moving Argo CD to another namespace would replace the protected namespace: refused too.
    config = production_config(control_plane, apps_repo, production)
    config["argocd"]["namespace"] = "argo"
    project.write_stack(PRODUCTION, config, secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN})
    moved = project.pulumi("up", "--yes", "--skip-preview", stack=PRODUCTION, check=False)
    assert moved.returncode != 0 and "protect" in moved.output

    assert managed(project.state(PRODUCTION)) == managed_before
    core = control_plane.core()
    assert core.read_namespace(ARGOCD).status.phase == "Active"
    assert control_plane.apps().read_namespaced_deployment("argocd-server", ARGOCD).status.ready_replicas >= 1
    with pytest.raises(kubernetes.client.ApiException):
        core.read_namespace("argo")


def managed(state: dict) -> set[str]:
    """The resources Pulumi manages (a read, like the dashboard's Ingress look-up, is only looked at)."""
    return {r["urn"] for r in state["deployment"]["resources"] if not r.get("external")}


@pytest.fixture(scope="module")
def scratch_plane(toolchain, tmp_path_factory):
    plane = start_control_plane(tmp_path_factory.mktemp("scratch-cluster"), toolchain)
    yield plane
    plane.stop()


def test_an_unprotected_stack_is_destroyed_and_installed_again(project, scratch_plane, apps_repo):
    config = kubeconfig_stack(scratch_plane, apps_repo, apps_repo.head())
    for app in config["applications"].values():
        # No Argo CD controller runs here to remove the cascade finalizer (the live Argo CD suite does).
        app["cascadeDelete"] = False
    project.write_stack(SCRATCH, config, secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN})
    project.up(SCRATCH)

    destroyed = project.pulumi("destroy", "--yes", "--skip-preview", stack=SCRATCH, timeout=600)
    assert "deleted" in destroyed.output
    assert [r["type"] for r in project.state(SCRATCH)["deployment"].get("resources") or []] == []
    core = scratch_plane.core()
    with pytest.raises(kubernetes.client.ApiException) as gone:
        core.read_namespace(ARGOCD)
    assert gone.value.status == 404
    # The chart marks its CRDs helm.sh/resource-policy: keep; they outlive the stack.
    kept = kubernetes.client.ApiextensionsV1Api(scratch_plane.client()).read_custom_resource_definition(
        "applications.argoproj.io"
    )
    assert kept.metadata.deletion_timestamp is None

    project.up(SCRATCH)  # again, over the CRDs the first install left
    apps = scratch_plane.custom().list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications")
    assert sorted(a["metadata"]["name"] for a in apps["items"]) == sorted(APPS)
    project.preview(SCRATCH, "--expect-no-changes")
