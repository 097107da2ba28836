"""On the real engine: install, re-run, refresh, drift and reconcile, one revision bump, and no
secret in plain text, on one kubeconfig stack of the local control plane (the tests run in order)."""

import json
from types import SimpleNamespace

import kubernetes
import pytest

from tests.e2e.harness import APPS, REPOSITORY_TOKEN, decoded, kubeconfig_stack

STACK = "e2e"
ARGOCD = "argocd"
CHART_URN_SUFFIX = "kubernetes:helm.sh/v4:Chart::argocd-chart"


@pytest.fixture(scope="module")
def stack(project, control_plane, apps_repo):
    commit = apps_repo.head()
    project.write_stack(
        STACK,
        kubeconfig_stack(control_plane, apps_repo, commit),
        secrets={"repositories.apps.credentials.password": REPOSITORY_TOKEN},
    )
    project.commit("the e2e stack")
    return SimpleNamespace(name=STACK, commit=commit)


def chart_objects(state: dict) -> list[dict]:
    resources = state["deployment"]["resources"]
    chart = next(r["urn"] for r in resources if r["urn"].endswith(CHART_URN_SUFFIX))
    return [r for r in resources if r.get("parent") == chart]


def test_preview_then_up_installs_the_chart_and_the_applications(project, control_plane, stack):
    # The first preview runs before anything exists (the dashboard address is read only after the chart).
    project.preview(STACK)
    project.up(STACK)

    objects = chart_objects(project.state(STACK))
    assert len(objects) > 50
    dynamic = control_plane.dynamic()
    for obj in objects:
        outputs = obj["outputs"]
        api = dynamic.resources.get(api_version=outputs["apiVersion"], kind=outputs["kind"])
        live = api.get(name=outputs["metadata"]["name"], namespace=outputs["metadata"].get("namespace"))
        # Pulumi takes back fields other managers change (components/ownership.py), on chart objects too.
        assert live.metadata.annotations["pulumi.com/patchForce"] == "true", obj["urn"]

    extensions = kubernetes.client.ApiextensionsV1Api(control_plane.client())
    for crd in ("applications.argoproj.io", "appprojects.argoproj.io", "applicationsets.argoproj.io"):
        conditions = {c.type: c.status for c in extensions.read_custom_resource_definition(crd).status.conditions}
        assert conditions["Established"] == "True", crd

    custom = control_plane.custom()
    apps = custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications")["items"]
    assert {a["metadata"]["name"]: a["spec"]["source"]["targetRevision"] for a in apps} == dict.fromkeys(APPS, stack.commit)
    # The API server validated them against the CRD's schema; it does reject what breaks it.
    broken = {**apps[0], "metadata": {"name": "broken", "namespace": ARGOCD}, "spec": {**apps[0]["spec"], "project": 7}}
    with pytest.raises(kubernetes.client.ApiException) as rejected:
        custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications", broken, dry_run="All")
    assert rejected.value.status == 422

    core = control_plane.core()
    assert len(decoded(core.read_namespaced_secret("argocd-redis", ARGOCD))["auth"]) == 32
    repository = decoded(core.read_namespaced_secret("repo-apps", ARGOCD))
    assert repository["url"] == stack_url(project) and repository["password"] == REPOSITORY_TOKEN
    assert core.read_namespaced_config_map("argocd-cm", ARGOCD).data["url"] == "http://argocd.localtest.me"


def stack_url(project) -> str:
    return project.outputs(STACK)["applications"]["guestbook"]["repository"]


def test_a_second_run_and_a_refresh_change_nothing(project, stack):
    project.preview(STACK, "--expect-no-changes")
    project.pulumi("refresh", "--yes", "--skip-preview", stack=STACK)
    project.preview(STACK, "--expect-no-changes")


def drift_report(project) -> tuple[int, dict]:
    result = project.ops("drift", "--stack", STACK, "--json")
    assert result.returncode in (0, 2), result.output
    return result.returncode, json.loads(result.stdout)


def test_drift_names_exactly_what_changed_and_reconcile_puts_it_back(project, control_plane, stack):
    code, report = drift_report(project)
    assert (code, report["status"], report["resources"]) == (0, "clean", [])

    core, apps, custom = control_plane.core(), control_plane.apps(), control_plane.custom()
    core.patch_namespaced_config_map("argocd-cm", ARGOCD, {"data": {"timeout.reconciliation": "60s"}})
    apps.patch_namespaced_deployment_scale("argocd-repo-server", ARGOCD, {"spec": {"replicas": 3}})
    # As `argocd app delete --cascade=false` does: the finalizer goes first, then the Application.
    custom.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", ARGOCD, "applications", "hello", {"metadata": {"finalizers": None}}
    )
    custom.delete_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications", "hello")

    project.pulumi("stack", "init", "someone-elses")  # the stack the user has selected
    code, report = drift_report(project)
    assert code == 2 and report["status"] == "drift"
    assert {(r["name"], r["operation"], tuple(c["path"] for c in r["changes"])) for r in report["resources"]} == {
        ("argocd-chart:argocd/argocd-cm", "update", ('data["timeout.reconciliation"]',)),
        ("argocd-chart:argocd/argocd-repo-server", "update", ("spec.replicas",)),
        ("applications-application-hello", "create", ()),
    }
    assert project.pulumi("stack", "--show-name").stdout.strip() == "someone-elses"

    reconciled = project.ops("reconcile", "--stack", STACK)
    assert reconciled.returncode == 0, reconciled.output
    assert core.read_namespaced_config_map("argocd-cm", ARGOCD).data["timeout.reconciliation"] == "120s"  # the chart's
    assert apps.read_namespaced_deployment("argocd-repo-server", ARGOCD).spec.replicas == 1
    custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications", "hello")
    code, report = drift_report(project)
    assert (code, report["resources"]) == (0, [])


def test_a_new_revision_of_one_application_changes_only_that_application(project, control_plane, apps_repo, stack):
    bumped = apps_repo.commit("guestbook: two replicas", lambda work: scale_guestbook(work / "apps" / "guestbook"))
    project.pulumi("config", "set", "--path", "gitops:applications.guestbook.revision", bumped, stack=STACK)

    preview = json.loads(project.pulumi("preview", "--json", stack=STACK).stdout)
    changed = [(step["op"], step["urn"].rsplit("::", 1)[-1]) for step in preview["steps"] if step["op"] not in ("same", "read")]
    assert changed == [("update", "applications-application-guestbook")]
    project.up(STACK)
    revisions = {
        a["metadata"]["name"]: a["spec"]["source"]["targetRevision"]
        for a in control_plane.custom().list_namespaced_custom_object("argoproj.io", "v1alpha1", ARGOCD, "applications")["items"]
    }
    assert revisions == {"guestbook": bumped, "podinfo": stack.commit, "hello": stack.commit}
    assert project.outputs(STACK)["applications"]["guestbook"]["commit"] == bumped


def scale_guestbook(folder) -> None:
    path = folder / "deployment.yaml"
    path.write_text(path.read_text().replace("replicas: 1", "replicas: 2"))


def test_no_secret_in_the_state_the_logs_or_any_output(project, control_plane, stack):
    admin_password = project.outputs(STACK, show_secrets=True)["adminPassword"]
    redis_password = decoded(control_plane.core().read_namespaced_secret("argocd-redis", ARGOCD))["auth"]
    canaries = {"repository token": REPOSITORY_TOKEN, "admin password": admin_password, "redis password": redis_password}

    exported = project.pulumi("stack", "export", stack=STACK).stdout
    # The engine's own verbose log. (Not with --logflow, which hands -v=9 to the provider too:
    # pulumi-kubernetes then logs each RPC's properties, secrets in plain text; see the README.)
    logged = project.pulumi("preview", "--logtostderr", "-v=9", stack=STACK)
    assert len(logged.stderr) > 100_000
    for what, canary in canaries.items():
        assert canary not in exported, what
        for result in project.transcript:
            assert canary not in result.output, f"{what} in the output of {' '.join(result.args)}"
