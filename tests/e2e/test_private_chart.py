"""On the real engine: the argo-cd chart from a private Helm repository (https behind basic auth),
as a team installs it from an internal mirror: the stack's credentials reach Helm inside the
provider, and the password stays a secret in the state, the outputs and the engine's log."""

import subprocess

import pytest

from tests.e2e.git_http import TokenServer
from tests.e2e.harness import CHART, REPOSITORY_TOKEN, kubeconfig_stack

STACK = "mirrored"
CHART_PASSWORD = "canary-chart-mirror-password-51d7"


@pytest.fixture(scope="module")
def mirror(toolchain, tmp_path_factory, project):
    directory = tmp_path_factory.mktemp("chart-mirror")
    certificate, key = directory / "certificate.pem", directory / "key.pem"
    request = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    names = ["-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run([*request, *names, "-keyout", str(key), "-out", str(certificate)], check=True, capture_output=True)
    server = TokenServer(directory / "root", "robot", CHART_PASSWORD, tls=(certificate, key)).start()
    server.publish_chart(CHART, toolchain / "helm")
    # Helm, inside the provider, trusts the mirror's self-signed certificate (Go reads SSL_CERT_FILE).
    project.env["SSL_CERT_FILE"] = str(certificate)
    yield server
    server.stop()


def mirrored_stack(project, control_plane, apps_repo, mirror, password: str) -> None:
    chart = {"repository": mirror.charts_url, "username": "robot"}
    config = kubeconfig_stack(control_plane, apps_repo, apps_repo.head(), argocd={"chart": chart})
    secrets = {"repositories.apps.credentials.password": REPOSITORY_TOKEN, "argocd.chart.password": password}
    project.write_stack(STACK, config, secrets=secrets)


def test_the_chart_comes_from_the_private_repository_with_the_stacks_credentials(project, control_plane, apps_repo, mirror):
    mirrored_stack(project, control_plane, apps_repo, mirror, CHART_PASSWORD)
    project.up(STACK)
    assert control_plane.apps().read_namespaced_deployment("argocd-server", "argocd").metadata.name == "argocd-server"
    fetched = {r.path for r in mirror.requests if r.authorized and r.user == "robot"}
    assert {"/charts/index.yaml", "/charts/argo-cd-10.1.1.tgz"} <= fetched
    project.preview(STACK, "--expect-no-changes")


def test_the_chart_password_is_never_in_state_logs_or_output(project, mirror):
    exported = project.pulumi("stack", "export", stack=STACK).stdout
    assert "kubernetes:helm.sh/v4:Chart" in exported
    logged = project.pulumi("preview", "--logtostderr", "-v=9", stack=STACK)
    assert CHART_PASSWORD not in exported and CHART_PASSWORD not in logged.stderr
    for result in project.transcript:
        assert CHART_PASSWORD not in result.output, " ".join(result.args)


def test_a_wrong_password_stops_the_preview_with_the_mirrors_answer(project, control_plane, apps_repo, mirror):
    wrong = "canary-wrong-chart-password-0c2a"
    mirrored_stack(project, control_plane, apps_repo, mirror, wrong)
    preview = project.preview(STACK, check=False)
    assert preview.returncode != 0
    assert "401" in preview.output and wrong not in preview.output
    assert any(not r.authorized for r in mirror.requests)
