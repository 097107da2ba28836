"""On the real engine: promotion reads the commits a running stack really exported, writes them
into the next stack's file as a commit of the project, and `pulumi up` of that stack runs them."""

import json

import pytest

from tests.e2e.harness import APPS, REPOSITORY_TOKEN, git, kubeconfig_stack, start_control_plane

SOURCE, TARGET = "tested", "next"
SECRETS = {"repositories.apps.credentials.password": REPOSITORY_TOKEN}


@pytest.fixture(scope="module")
def target_plane(toolchain, tmp_path_factory):
    plane = start_control_plane(tmp_path_factory.mktemp("target-cluster"), toolchain)
    yield plane
    plane.stop()


def revisions(plane) -> dict[str, str]:
    apps = plane.custom().list_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications")["items"]
    return {a["metadata"]["name"]: a["spec"]["source"]["targetRevision"] for a in apps}


def test_promote_writes_the_tested_commits_and_up_runs_them(project, control_plane, target_plane, apps_repo):
    old = apps_repo.head()
    tested = apps_repo.commit("hello: a new greeting", lambda work: greet(work / "apps" / "hello"))
    # The source stack follows main (now `tested`); the target still runs `old`.
    project.write_stack(SOURCE, kubeconfig_stack(control_plane, apps_repo, "main"), secrets=SECRETS)
    target = kubeconfig_stack(target_plane, apps_repo, old, promotion={"source": SOURCE})
    project.write_stack(TARGET, target, secrets=SECRETS)
    project.commit("two stacks")
    project.up(SOURCE)
    project.up(TARGET)
    assert revisions(target_plane) == dict.fromkeys(APPS, old)

    # No Argo CD runs here to report Synced and Healthy, so the health gate is forced past; the
    # live Argo CD suite checks the gate itself.
    promoted = project.ops("promote", SOURCE, TARGET, "--force", "--json")
    assert promoted.returncode == 0, promoted.output
    document = json.loads(promoted.stdout)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=project.root)
    assert branch == document["branch"]
    assert git("log", "-1", "--format=%s", cwd=project.root)  # committed, not just written
    assert git("status", "--porcelain", cwd=project.root) == ""
    stack_file = project.stack_file(TARGET).read_text()
    assert stack_file.count(tested) == len(APPS) and old not in stack_file

    project.up(TARGET)
    assert revisions(target_plane) == dict.fromkeys(APPS, tested)
    project.preview(TARGET, "--expect-no-changes")


def greet(folder) -> None:
    path = folder / "values.yaml"
    path.write_text(path.read_text() + "\n# promoted\n")
