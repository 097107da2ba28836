"""With Argo CD running for real (tests/e2e/argocd_local.py): the Applications the stack declares
are synced from git by Argo CD itself, and `ops drift` and `ops promote` act on the sync status,
health and revision Argo CD wrote. The tests run in order against one stack.

Set GITOPS_RECORD_FIXTURES=tests/fixtures/argocd to write the Application states the tests read
(from `pulumi stack export`, as ops reads them) into the unit suite's fixtures.
"""

import base64
import json
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import kubernetes
import pytest

from ops.argocd_status import APPLICATION_TYPE
from tests.e2e.argocd_local import start_argocd
from tests.e2e.git_http import TokenServer
from tests.e2e.harness import REPO, REPOSITORY_TOKEN, kubeconfig_stack, wait_until

STACK, TARGET = "live", "next"
ARGOCD = "argocd"
PRIVATE_TOKEN = "canary-private-token-5b1d07"
WRONG_TOKEN = "canary-revoked-token-77e2a9"
GROUP, VERSION = "argoproj.io", "v1alpha1"
SYNC_AND_HEAL = {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["CreateNamespace=true"]}
# podinfo does not heal itself, and gives up a failing sync after one retry (Argo CD's default is five).
SYNC_ONLY = {
    "automated": {"prune": True},
    "syncOptions": ["CreateNamespace=true"],
    "retry": {"limit": 1, "backoff": {"duration": "2s", "factor": 2, "maxDuration": "10s"}},
}
# What each application deploys: (kind, namespace, name) of one object it must create.
OBJECTS = {
    "guestbook": ("Deployment", "guestbook", "guestbook-ui"),  # plain manifests
    "podinfo": ("Deployment", "podinfo", "podinfo"),  # Kustomize
    "hello": ("ConfigMap", "hello", "hello-greeting"),  # a Helm chart in git
    "greeting": ("ConfigMap", "greeting", "greeting-greeting"),  # two sources: the chart and a values file
    "private": ("Deployment", "private", "guestbook-ui"),  # a git repository that needs a token
    "charted": ("ConfigMap", "charted", "charted-greeting"),  # a Helm repository that needs a token
}
# How Argo CD v3 marks the objects of an application (resource tracking by annotation).
TRACKING = "argocd.argoproj.io/tracking-id"
GREETING_VALUES = "$values/values/greeting.yaml"  # from the second source, ref `values`
RECORDED = os.environ.get("GITOPS_RECORD_FIXTURES")


def secrets(charts_token: str = PRIVATE_TOKEN) -> dict[str, str]:
    return {
        "repositories.apps.credentials.password": REPOSITORY_TOKEN,
        "repositories.private.credentials.password": PRIVATE_TOKEN,
        "repositories.charts.credentials.password": charts_token,
    }


def live_config(plane, apps_repo, server: TokenServer, revision: str, **revisions: str) -> dict:
    """Six applications, each automatically synced: guestbook heals itself, podinfo does not, hello
    is not deleted with its Application (the production default), greeting has two sources."""
    config = kubeconfig_stack(plane, apps_repo, revision)
    config["repositories"].update(
        {
            "private": {"url": server.git_url("private.git"), "credentials": {"username": "git"}},
            "charts": {"url": server.charts_url, "type": "helm", "credentials": {"username": "git"}},
        }
    )
    config["projects"]["examples"]["sourceRepos"] += ["private", "charts"]
    config["projects"]["examples"]["destinations"] = [
        {"server": "https://kubernetes.default.svc", "namespace": name} for name in OBJECTS
    ]
    # CreateNamespace=true: Argo CD creates each destination namespace, a cluster-scoped object.
    config["projects"]["examples"]["clusterResourceWhitelist"] = [{"group": "", "kind": "Namespace"}]
    apps = config["applications"]
    apps["greeting"] = {
        "project": "examples",
        "destination": {"namespace": "greeting"},
        "sources": [
            {"repository": "apps", "path": "apps/hello", "revision": revision, "helm": {"valueFiles": [GREETING_VALUES]}},
            {"repository": "apps", "revision": revision, "ref": "values"},
        ],
    }
    apps["private"] = {"repository": "private", "path": "apps/guestbook", "revision": revision, "project": "examples"}
    apps["private"]["destination"] = {"namespace": "private"}
    apps["charted"] = {"repository": "charts", "chart": "hello", "revision": "0.1.0", "project": "examples"}
    apps["charted"]["destination"] = {"namespace": "charted"}
    for name, app in apps.items():
        app["syncPolicy"] = SYNC_ONLY if name == "podinfo" else SYNC_AND_HEAL
        if name in revisions:
            app["revision"] = revisions[name]
    apps["hello"]["cascadeDelete"] = False
    return config


@pytest.fixture(scope="module")
def live(project, control_plane, apps_repo, toolchain, tmp_path_factory):
    if shutil.which("redis-server") is None:
        reason = "redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)"
        if os.environ.get("GITOPS_E2E") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    revision = apps_repo.commit("values of the greeting app", add_greeting_values)
    server = TokenServer(tmp_path_factory.mktemp("token-server"), "git", PRIVATE_TOKEN).start()
    server.publish_git("private.git", apps_repo.work)
    server.publish_chart(apps_repo.work / "apps" / "hello", toolchain / "helm")
    project.write_stack(STACK, live_config(control_plane, apps_repo, server, revision), secrets=secrets())
    project.commit("the live stack")
    project.up(STACK)
    read_by_the_program = len(server.requests)
    argocd = start_argocd(tmp_path_factory.mktemp("argocd"), toolchain, control_plane)
    yield SimpleNamespace(server=server, argocd=argocd, revision=revision, read_by_the_program=read_by_the_program)
    argocd.stop()
    server.stop()


def add_greeting_values(work: Path) -> None:
    (work / "values").mkdir(exist_ok=True)
    (work / "values" / "greeting.yaml").write_text("greeting: hello from a second source\n")


def application(plane, name: str) -> dict:
    return plane.custom().get_namespaced_custom_object(GROUP, VERSION, ARGOCD, "applications", name)


def wait_for_application(live, plane, name: str, what: str, condition, timeout: float = 180) -> dict:
    """The Application once `condition(status)` holds; on a timeout, the error shows its status."""

    def reached():
        assert live.argocd.alive() == list(live.argocd.processes), live.argocd.log("argocd-application-controller")[-3000:]
        found = application(plane, name)
        return found if condition(found.get("status") or {}) else None

    try:
        return wait_until(f"{name} {what}", reached, timeout=timeout, interval=1)
    except AssertionError as timeout_error:
        status = json.dumps(application(plane, name).get("status"), indent=1)
        raise AssertionError(f"{timeout_error}; its status:\n{status[-5000:]}") from None


def wait_for_status(live, plane, name: str, sync: str, health: str, timeout: float = 180) -> dict:
    def reached(status):
        return ((status.get("sync") or {}).get("status"), (status.get("health") or {}).get("status")) == (sync, health)

    return wait_for_application(live, plane, name, f"to be {sync}/{health}", reached, timeout)


def live_object(plane, kind: str, namespace: str, name: str):
    api = plane.dynamic().resources.get(api_version="apps/v1" if kind == "Deployment" else "v1", kind=kind)
    return api.get(name=name, namespace=namespace)


def drift(project) -> tuple[int, dict]:
    result = project.ops("drift", "--stack", STACK, "--json")
    assert result.returncode in (0, 2), result.output
    return result.returncode, json.loads(result.stdout)


def reported(report: dict) -> dict[str, tuple]:
    return {a["name"]: (a["sync"], a["health"], a["revision"]) for a in report["applications"]}


def record(project, name: str, tmp_path_factory) -> None:
    """Keep the Application resources of the stack's state as `ops` reads them after its refresh:
    each one's outputs verbatim (what the cluster held: the status is Argo CD's), without the
    engine's bookkeeping (inputs, stack traces, dependencies)."""
    resources = [
        {key: r[key] for key in ("urn", "type", "custom", "id", "outputs") if key in r}
        for r in project.state(STACK)["deployment"]["resources"]
        if r["type"] == APPLICATION_TYPE
    ]
    document = json.dumps({"version": 3, "deployment": {"resources": resources}}, indent=1, sort_keys=True) + "\n"
    (tmp_path_factory.getbasetemp() / f"argocd-{name}.json").write_text(document)
    if RECORDED:
        (REPO / RECORDED).mkdir(parents=True, exist_ok=True)
        (REPO / RECORDED / f"{name}.json").write_text(document)


def test_every_declared_application_syncs_and_turns_healthy_at_its_pinned_commit(project, control_plane, live):
    commits = {name: entry.get("commit") for name, entry in project.outputs(STACK)["applications"].items()}
    for name in OBJECTS:
        found = wait_for_status(live, control_plane, name, "Synced", "Healthy")
        sync = found["status"]["sync"]
        if name == "greeting":
            assert sync["revisions"] == [live.revision, live.revision]
        elif name == "charted":
            assert sync["revision"] == "0.1.0"  # a chart version, not a commit
        else:
            assert sync["revision"] == commits[name] and len(commits[name]) == 40
    for name, (kind, namespace, object_name) in OBJECTS.items():
        obj = live_object(control_plane, kind, namespace, object_name)
        assert obj.metadata.annotations[TRACKING].startswith(f"{name}:"), name
    greeting = live_object(control_plane, "ConfigMap", "greeting", "greeting-greeting")
    assert greeting.data["greeting"] == "hello from a second source"
    # What the token server saw since Argo CD started: Argo CD read both repositories with the token.
    by_argocd = {(r.path.split("/")[1], r.user, r.authorized) for r in live.server.requests[live.read_by_the_program :]}
    assert by_argocd >= {("git", "git", True), ("charts", "git", True)}, live.server.requests
    project.preview(STACK, "--expect-no-changes")


def test_drift_reports_the_sync_status_health_and_revision_argo_cd_wrote(project, live, tmp_path_factory):
    code, report = drift(project)
    assert (code, report["status"], report["resources"]) == (0, "clean", [])
    commits = {name: entry.get("commit") for name, entry in project.outputs(STACK)["applications"].items()}
    expected = {name: ("Synced", "Healthy", commits[name]) for name in OBJECTS}
    expected["greeting"] = ("Synced", "Healthy", f"{live.revision},{live.revision}")
    expected["charted"] = ("Synced", "Healthy", "0.1.0")
    assert reported(report) == expected
    record(project, "synced-healthy", tmp_path_factory)


def never_ready(work: Path) -> None:
    """guestbook's new Pods run but never turn Ready (scripts/cluster.sh's kwok stage), and the
    Deployment gives up on the rollout after 10 s."""
    path = work / "apps" / "guestbook" / "deployment.yaml"
    text = path.read_text().replace("  replicas: 1\n", "  replicas: 1\n  progressDeadlineSeconds: 10\n")
    pod_labels = "        app: guestbook-ui\n    spec:"
    path.write_text(text.replace(pod_labels, '        app: guestbook-ui\n        e2e.gitops/never-ready: "true"\n    spec:'))


def test_a_workload_that_never_turns_ready_is_degraded_and_drift_exits_2(
    project, control_plane, apps_repo, live, tmp_path_factory
):
    broken = apps_repo.commit("guestbook: a release that never turns ready", never_ready)
    project.pulumi("config", "set", "--path", "gitops:applications.guestbook.revision", broken, stack=STACK)
    project.up(STACK)
    wait_for_status(live, control_plane, "guestbook", "Synced", "Degraded")

    code, report = drift(project)
    assert code == 2 and report["status"] == "drift" and report["resources"] == []
    assert reported(report)["guestbook"] == ("Synced", "Degraded", broken)
    assert reported(report)["podinfo"][:2] == ("Synced", "Healthy")
    record(project, "degraded", tmp_path_factory)


def invalid_port(work: Path) -> None:
    path = work / "apps" / "podinfo" / "service.yaml"
    path.write_text(path.read_text().replace("- port: 9898", "- port: 98980"))


def test_a_manifest_the_api_server_rejects_is_out_of_sync_and_drift_exits_2(
    project, control_plane, apps_repo, live, tmp_path_factory
):
    rejected = apps_repo.commit("podinfo: a port out of range", invalid_port)
    project.pulumi("config", "set", "--path", "gitops:applications.podinfo.revision", rejected, stack=STACK)
    project.up(STACK)

    def sync_failed(status):
        state = status.get("operationState") or {}
        attempted = state.get("operation", {}).get("sync", {}).get("revision")
        return attempted == rejected and state.get("phase") == "Failed"

    wait_for_application(live, control_plane, "podinfo", "to fail its sync", sync_failed, timeout=120)
    code, report = drift(project)
    assert code == 2
    podinfo = next(a for a in report["applications"] if a["name"] == "podinfo")
    assert (podinfo["sync"], podinfo["revision"]) == ("OutOfSync", rejected)
    assert 'Service "podinfo" is invalid: spec.ports[0].port: Invalid value: 98980' in podinfo["message"]
    assert "Service podinfo/podinfo: OutOfSync" in podinfo["message"]
    record(project, "out-of-sync-sync-failed", tmp_path_factory)


def heal(work: Path) -> None:
    """Both apps as they were: guestbook turns Ready, podinfo's port is valid."""
    for name in ("guestbook/deployment.yaml", "podinfo/service.yaml"):
        (work / "apps" / name).write_text((REPO / "examples" / "apps" / name).read_text())


def test_promote_refuses_a_degraded_or_out_of_sync_source_and_promotes_once_healthy(project, control_plane, apps_repo, live):
    target = live_config(control_plane, apps_repo, live.server, live.revision)
    target["promotion"] = {"source": STACK}
    project.write_stack(TARGET, target, secrets=secrets())
    project.commit("the next stack")
    before = project.stack_file(TARGET).read_text()

    refused = project.ops("promote", STACK, TARGET)
    assert refused.returncode == 1
    assert "guestbook is Synced/Degraded" in refused.output and "podinfo is OutOfSync/" in refused.output
    assert project.stack_file(TARGET).read_text() == before

    healed = apps_repo.commit("guestbook and podinfo healed", heal)
    for name in ("guestbook", "podinfo"):
        project.pulumi("config", "set", "--path", f"gitops:applications.{name}.revision", healed, stack=STACK)
    project.commit("guestbook and podinfo at the healed commit")
    project.up(STACK)
    for name in ("guestbook", "podinfo"):
        wait_for_status(live, control_plane, name, "Synced", "Healthy")

    promoted = project.ops("promote", STACK, TARGET, "--json")
    assert promoted.returncode == 0, promoted.output
    assert {tuple(c["apps"]): c["new"] for c in json.loads(promoted.stdout)["changes"]} == {
        ("guestbook",): healed,
        ("podinfo",): healed,
    }


def sync(live, plane, name: str) -> dict:
    """As `argocd app sync NAME` does: an operation on the Application, which the controller runs.
    Returns the Application once that sync succeeded."""
    revision = application(plane, name)["status"]["sync"]["revision"]
    operation = {"operation": {"initiatedBy": {"username": "e2e"}, "sync": {"revision": revision}}}
    plane.custom().patch_namespaced_custom_object(GROUP, VERSION, ARGOCD, "applications", name, operation)

    def succeeded(status):
        state = status.get("operationState") or {}
        return state.get("operation", {}).get("initiatedBy", {}).get("username") == "e2e" and state.get("phase") == "Succeeded"

    return wait_for_application(live, plane, name, "synced by hand", succeeded, timeout=90)


def test_self_heal_reverts_a_change_where_the_stack_asks_and_drift_reports_it_where_not(
    project, control_plane, live, tmp_path_factory
):
    # Without self-heal, an automated sync still applies a revision it has not synced yet; podinfo's
    # current revision matched the cluster without a sync (test above), so it is synced once first.
    sync(live, control_plane, "podinfo")
    apps = control_plane.apps()
    changed_at = datetime.now(UTC).replace(microsecond=0)
    apps.patch_namespaced_deployment_scale("guestbook-ui", "guestbook", {"spec": {"replicas": 3}})
    apps.patch_namespaced_deployment_scale("podinfo", "podinfo", {"spec": {"replicas": 3}})

    wait_until("guestbook healed", lambda: apps.read_namespaced_deployment("guestbook-ui", "guestbook").spec.replicas == 1, 90)
    wait_for_status(live, control_plane, "podinfo", "OutOfSync", "Healthy", timeout=90)
    healed = application(control_plane, "guestbook")["status"]["operationState"]
    assert healed["operation"]["initiatedBy"]["automated"] is True and healed["phase"] == "Succeeded"
    assert datetime.fromisoformat(healed["startedAt"]) >= changed_at  # a sync of Argo CD's, after the change

    code, report = drift(project)
    assert code == 2 and report["resources"] == []
    assert reported(report)["podinfo"][:2] == ("OutOfSync", "Healthy")
    assert reported(report)["guestbook"][:2] == ("Synced", "Healthy")
    podinfo = next(a for a in report["applications"] if a["name"] == "podinfo")
    assert podinfo["message"] == "Deployment podinfo/podinfo: OutOfSync"
    record(project, "out-of-sync-changed-in-cluster", tmp_path_factory)
    assert apps.read_namespaced_deployment("podinfo", "podinfo").spec.replicas == 3  # left as changed, all along

    sync(live, control_plane, "podinfo")
    wait_for_status(live, control_plane, "podinfo", "Synced", "Healthy", timeout=90)
    assert apps.read_namespaced_deployment("podinfo", "podinfo").spec.replicas == 1


def hard_refresh(plane, name: str) -> None:
    """As `argocd app get --hard-refresh`: Argo CD reads the source again instead of its cache."""
    patch = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}
    plane.custom().patch_namespaced_custom_object(GROUP, VERSION, ARGOCD, "applications", name, patch)


def set_charts_token(project, token: str) -> None:
    project.pulumi("config", "set", "--secret", "--path", "gitops:repositories.charts.credentials.password", token, stack=STACK)


def test_the_repository_credentials_of_the_stack_are_the_ones_argo_cd_uses(
    project, control_plane, apps_repo, toolchain, live, tmp_path_factory
):
    # A new chart version, which the repo-server has not cached, read with a wrong token.
    live.server.publish_chart(chart_version(apps_repo.work / "apps" / "hello", "0.2.0", tmp_path_factory), toolchain / "helm")
    project.pulumi("config", "set", "--path", "gitops:applications.charted.revision", "0.2.0", stack=STACK)
    set_charts_token(project, WRONG_TOKEN)
    project.up(STACK)

    def comparison_error():
        conditions = application(control_plane, "charted").get("status", {}).get("conditions") or []
        return [c for c in conditions if c["type"] == "ComparisonError"]

    errors = wait_until("Argo CD to fail reading the chart repository", comparison_error, timeout=120, interval=1)
    assert "401" in errors[0]["message"]
    assert ("charts", "git", False) in {(r.path.split("/")[1], r.user, r.authorized) for r in live.server.requests}
    code, report = drift(project)
    assert code == 2
    charted = next(a for a in report["applications"] if a["name"] == "charted")
    assert "401" in charted["message"]
    record(project, "comparison-error", tmp_path_factory)

    set_charts_token(project, PRIVATE_TOKEN)
    project.up(STACK)
    hard_refresh(control_plane, "charted")
    found = wait_for_status(live, control_plane, "charted", "Synced", "Healthy")
    assert found["status"]["sync"]["revision"] == "0.2.0" and not comparison_error()
    code, report = drift(project)
    assert code == 0, report


def chart_version(chart: Path, version: str, tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp(f"chart-{version}") / chart.name
    shutil.copytree(chart, copy)
    metadata = copy / "Chart.yaml"
    metadata.write_text(re.sub(r"(?m)^version: .*$", f"version: {version}", metadata.read_text()))
    return copy


def test_deleting_an_application_removes_its_objects_only_with_the_cascade_finalizer(project, control_plane, live):
    assert application(control_plane, "guestbook")["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert not application(control_plane, "hello")["metadata"].get("finalizers")
    project.pulumi("config", "rm", "--path", "gitops:applications.guestbook", stack=STACK)
    project.pulumi("config", "rm", "--path", "gitops:applications.hello", stack=STACK)
    project.up(STACK)

    for name in ("guestbook", "hello"):
        with pytest.raises(kubernetes.client.ApiException) as gone:
            application(control_plane, name)
        assert gone.value.status == 404
    with pytest.raises(kubernetes.client.ApiException) as removed:
        control_plane.apps().read_namespaced_deployment("guestbook-ui", "guestbook")
    assert removed.value.status == 404
    kept = control_plane.core().read_namespaced_config_map("hello-greeting", "hello")
    assert kept.metadata.annotations[TRACKING].startswith("hello:")
    project.preview(STACK, "--expect-no-changes")


def test_no_token_or_password_in_any_output_or_in_argo_cds_logs(project, control_plane, live):
    """Every token of this file and the Redis password the chart generated: neither the commands
    run here nor Argo CD's processes (which read them from the cluster) ever show one."""
    redis = control_plane.core().read_namespaced_secret("argocd-redis", ARGOCD)
    canaries = {
        "the apps repository's token": REPOSITORY_TOKEN,
        "the private repositories' token": PRIVATE_TOKEN,
        "the wrong token": WRONG_TOKEN,
        "the Redis password": base64.b64decode(redis.data["auth"]).decode(),
    }
    logs = {name: live.argocd.log(name) for name in live.argocd.processes}
    assert "--password ******" in logs["argocd-repo-server"]  # it did log the commands it ran
    for what, canary in canaries.items():
        for result in project.transcript:
            assert canary not in result.output, f"{what} in the output of {' '.join(result.args)}"
        for name, text in logs.items():
            assert canary not in text, f"{what} in the log of {name}"
