"""The whole program under mocks, for stack files whose applications live in real git repositories
served as file:// remotes: what it registers, and the one error each bad input gives."""

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ops.program
from gitsource.redaction import REDACTED
from ops.cli import app
from ops.program import run_program
from ops.render import application_rows, kubernetes_objects, render
from ops.validate import validate_object
from settings import SettingsError
from tests.gitrepos import standard_app_repository
from tests.registered import find, one

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
SECRET = "kubernetes:core/v1:Secret"
PASSWORD = "s3cr3t-helm-password-value"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("apps"))


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GITOPS_SECRET_REPOSITORIES_CHARTS_CREDENTIALS_PASSWORD", PASSWORD)


def stack_file(tmp_path: Path, stack: str, body: str) -> Path:
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text("config:\n" + textwrap.indent(textwrap.dedent(body), "  "))
    return path


def full_stack(url: str) -> str:
    return f"""
    gitops:cluster: {{kind: kubeconfig, context: kind-gitops}}
    gitops:repositories:
      apps: {{url: "{url}"}}
      charts:
        url: https://charts.example.com
        type: helm
        credentials: {{username: robot, password: {{secure: v1:AAAA}}}}
      registry: {{url: "oci://registry.example.com/charts", type: helm}}
      github:
        url: https://github.com/acme
        credentialTemplate: true
        credentials:
          githubAppId: 1
          githubAppInstallationId: 2
          githubAppPrivateKey: {{secure: v1:BBBB}}
      private:
        url: git@github.com:acme/private.git
        credentials: {{sshPrivateKey: {{secure: v1:CCCC}}}}
    gitops:projects:
      team:
        description: The team's applications
        sourceRepos: [apps, charts, registry]
        destinations:
          - {{server: https://kubernetes.default.svc, namespace: "team-*"}}
          - {{server: https://kubernetes.default.svc, namespace: podinfo}}
          - {{server: https://kubernetes.default.svc, namespace: plain}}
        clusterResourceWhitelist: [{{group: "", kind: Namespace}}]
        namespaceResourceBlacklist: [{{group: "", kind: ResourceQuota}}]
        roles: [{{name: ci, policies: ["p, proj:team:ci, applications, sync, team/*, allow"], groups: [ci]}}]
        syncWindows: [{{kind: deny, schedule: "0 22 * * *", duration: 8h, applications: ["*"]}}]
    gitops:applications:
      guestbook:
        repository: apps
        path: apps/guestbook
        revision: main
        project: team
        destination: {{namespace: team-guestbook}}
        helm:
          releaseName: guestbook
          valueFiles: [values.yaml]
          values: {{replicas: 0, enabled: false, nested: {{list: []}}}}
          parameters: [{{name: image.tag, value: "1.2", forceString: true}}]
        syncPolicy:
          automated: {{prune: true, selfHeal: true}}
          syncOptions: [CreateNamespace=true]
          retry: {{limit: 3, backoff: {{duration: 5s, factor: 2, maxDuration: 3m}}}}
        ignoreDifferences: [{{group: apps, kind: Deployment, jsonPointers: [/spec/replicas]}}]
      podinfo:
        repository: apps
        path: apps/podinfo
        revision: v1.0.0
        project: team
        destination: {{namespace: podinfo}}
        kustomize: {{images: ["ghcr.io/acme/podinfo:6.7.1"], namePrefix: team-}}
      plain:
        repository: apps
        path: apps/plain
        revision: release-1.0
        followBranch: true
        project: team
        destination: {{namespace: plain}}
        directory: {{recurse: true}}
        syncPolicy: {{automated: {{}}}}
      redis:
        repository: charts
        chart: redis
        revision: 19.0.1
        project: team
        destination: {{namespace: team-redis}}
      nginx:
        repository: registry
        chart: nginx
        revision: 1.2.3
        destination: {{name: in-cluster, namespace: nginx}}
        cascadeDelete: false
    gitops:discovery:
      envs:
        repository: apps
        path: envs/prod/apps/*
        revision: main
        name: "prod-{{name}}"
        destination: {{namespace: "prod-{{name}}"}}
        syncPolicy: {{syncOptions: [CreateNamespace=true]}}
    """


@pytest.fixture
def full_run(tmp_path, source):
    return run_program("dev", stack_file=stack_file(tmp_path, "dev", full_stack(source.url)))


def registrations(run, type_):
    return {r.name: r for r in find(run, type_)}


def test_every_repository_secret_project_and_application_validates_strictly(full_run):
    objects = kubernetes_objects(full_run)
    kinds = sorted(obj["kind"] for _, obj in objects if obj["apiVersion"] == "argoproj.io/v1alpha1")
    assert kinds == ["AppProject"] + ["Application"] * 7
    repository_secrets = [obj for _, obj in objects if "argocd.argoproj.io/secret-type" in obj["metadata"].get("labels", {})]
    assert len(repository_secrets) == 5
    assert [str(p) for _, obj in objects for p in validate_object(obj)] == []


def test_applications_are_pinned_to_resolved_commits_unless_they_follow_a_branch(full_run, source):
    apps = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in registrations(full_run, APPLICATION).values()}
    assert apps["guestbook"]["source"]["targetRevision"] == source.head()
    tagged = apps["podinfo"]["source"]["targetRevision"]
    assert len(tagged) == 40 and tagged != source.head()  # v1.0.0 is an annotated tag: its commit, not the tag object
    assert apps["plain"]["source"]["targetRevision"] == "release-1.0"
    assert apps["redis"]["source"] == {"repoURL": "https://charts.example.com", "chart": "redis", "targetRevision": "19.0.1"}
    assert apps["nginx"]["source"]["repoURL"] == "registry.example.com/charts"
    assert apps["nginx"]["destination"] == {"name": "in-cluster", "namespace": "nginx"}
    assert sorted(n for n in apps if n.startswith("prod-")) == ["prod-api", "prod-web"]
    assert apps["prod-web"]["destination"]["namespace"] == "prod-web"


def test_applications_output_has_the_shape_promotion_reads(full_run, source):
    output, secret = full_run.outputs["applications"]
    assert not secret
    assert sorted(output) == ["guestbook", "nginx", "plain", "podinfo", "prod-api", "prod-web", "redis"]
    assert output["guestbook"] == {
        "requested": "main",
        "commit": source.head(),
        "repository": source.url,
        "type": "helm",
        "configPath": ["gitops:applications", "guestbook", "revision"],
    }
    # Nothing to promote: a chart version and a branch Argo CD follows have no commit here.
    assert output["redis"]["commit"] is None and output["redis"]["type"] == "helm"
    assert output["plain"] == {
        "requested": "release-1.0",
        "commit": None,
        "repository": source.url,
        "type": "directory",
        "configPath": ["gitops:applications", "plain", "revision"],
    }
    assert output["prod-api"]["configPath"] == ["gitops:discovery", "envs", "revision"]
    assert json.loads(json.dumps(output)) == output


def test_every_object_waits_for_the_chart_and_uses_the_stack_provider(full_run):
    chart = one(full_run, "kubernetes:helm.sh/v4:Chart")
    component = one(full_run, "gitops:applications:Applications")
    provider = one(full_run, "pulumi:providers:kubernetes")
    children = find(full_run, parent=component.urn)
    assert len(children) == 5 + 1 + 7
    for child in children:
        assert chart.urn in child.dependencies, child.name
        assert child.provider.rsplit("::", 1)[0] == provider.urn
        assert child.inputs["metadata"]["namespace"] == "argocd"
    project = registrations(full_run, APP_PROJECT)["applications-project-team"]
    assert project.urn in registrations(full_run, APPLICATION)["applications-application-guestbook"].dependencies


def test_credentials_are_secret_in_state_and_keys_follow_argo_cd(full_run):
    secrets = registrations(full_run, SECRET)
    charts = secrets["applications-repository-charts"]
    assert charts.inputs["stringData"] == {
        "url": "https://charts.example.com",
        "type": "helm",
        "name": "charts",
        "username": "robot",
        "password": PASSWORD,
    }
    # The whole map is kept secret in state (the SDK marks a Secret's stringData secret, and a secret
    # leaf would make the map secret anyway), so the render redacts it too.
    for name in ("apps", "charts", "github", "private", "registry"):
        assert secrets[f"applications-repository-{name}"].secret_paths == ["stringData"]
    template = secrets["applications-repository-github"]
    assert template.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repo-creds"
    assert template.inputs["metadata"]["name"] == "creds-github"
    assert template.secret_paths == ["stringData"]
    assert template.inputs["stringData"]["githubAppID"] == "1"
    assert secrets["applications-repository-private"].secret_paths == ["stringData"]
    registry = secrets["applications-repository-registry"].inputs["stringData"]
    assert registry == {"url": "registry.example.com/charts", "type": "helm", "name": "registry", "enableOCI": "true"}
    assert secrets["applications-repository-apps"].inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"


def test_renders_show_which_repository_a_secret_is_and_redact_only_credentials(full_run, tmp_path):
    objects = {obj["metadata"]["name"]: obj for _, obj in kubernetes_objects(full_run) if obj["kind"] == "Secret"}
    assert objects["repo-charts"]["stringData"] == {
        "url": "https://charts.example.com",
        "type": "helm",
        "name": "charts",
        "username": REDACTED,
        "password": REDACTED,
    }
    assert objects["creds-github"]["stringData"]["url"] == "https://github.com/acme"
    assert objects["creds-github"]["stringData"]["githubAppPrivateKey"] == REDACTED
    assert objects["repo-private"]["stringData"]["sshPrivateKey"] == REDACTED
    rendered = render(full_run, tmp_path / "out")
    text = "".join(path.read_text() for path in rendered.directory.rglob("*") if path.is_file())
    assert PASSWORD not in text and "robot" not in text


def test_the_render_summary_lists_each_apps_type_and_commit(full_run, source):
    rows = {row[0]: row for row in application_rows(full_run)}
    assert rows["guestbook"] == ("guestbook", "helm", "main", source.head())
    assert rows["plain"] == ("plain", "directory", "release-1.0", "(not pinned)")
    assert rows["redis"] == ("redis", "helm", "19.0.1", "(not pinned)")
    assert rows["prod-web"][1] == "helm"


def test_cli_render_prints_the_applications_table(tmp_path):
    result = CliRunner().invoke(app, ["render", "--stack", "dev", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "applications" in result.output and "guestbook" in result.output and "directory" in result.output


def _empty_values(value, path=""):
    if isinstance(value, dict):
        if not value:
            yield path
        for key, item in value.items():
            if key != "valuesObject":
                yield from _empty_values(item, f"{path}.{key}")
    elif isinstance(value, list):
        if not value:
            yield path
        for index, item in enumerate(value):
            yield from _empty_values(item, f"{path}[{index}]")
    elif value is None or value is False or value == "":
        yield path


def test_no_status_operation_or_empty_field_that_argo_cd_would_strip(full_run):
    for registration in [*registrations(full_run, APPLICATION).values(), *registrations(full_run, APP_PROJECT).values()]:
        assert set(registration.inputs) == {"apiVersion", "kind", "metadata", "spec"}
        empties = list(_empty_values(registration.inputs))
        # The core API group is "" by definition, and Argo CD keeps it.
        assert [p for p in empties if not p.endswith(".group")] == [], registration.name
    apps = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in registrations(full_run, APPLICATION).values()}
    assert apps["plain"]["syncPolicy"] == {"automated": {"enabled": True}}
    assert apps["guestbook"]["source"]["helm"]["valuesObject"] == {"replicas": 0, "enabled": False, "nested": {"list": []}}
    assert apps["guestbook"]["syncPolicy"]["automated"] == {"enabled": True, "prune": True, "selfHeal": True}


def _finalizers(run):
    return {
        r.inputs["metadata"]["name"]: r.inputs["metadata"].get("finalizers") for r in registrations(run, APPLICATION).values()
    }


def test_cascade_delete_finalizer_by_default_outside_production_and_only_when_asked(full_run):
    finalizers = _finalizers(full_run)
    assert finalizers["guestbook"] == ["resources-finalizer.argocd.argoproj.io"]
    assert finalizers["nginx"] is None  # cascadeDelete: false


def test_production_does_not_cascade_unless_asked(tmp_path, source):
    body = f"""
    gitops:repositories: {{apps: {{url: "{source.url}"}}}}
    gitops:applications:
      kept: {{repository: apps, path: apps/plain, revision: main, destination: {{namespace: plain}}}}
      cascading: {{repository: apps, path: apps/plain, revision: main, destination: {{namespace: plain}}, cascadeDelete: true}}
    """
    run = run_program("prd", stack_file=stack_file(tmp_path, "prd", body))
    assert _finalizers(run) == {"kept": None, "cascading": ["resources-finalizer.argocd.argoproj.io"]}


APP = "{repository: apps, path: apps/plain, revision: main, destination: {namespace: plain}}"
BAD_INPUTS = {
    "unknown repository": (
        "gitops:applications: {web: {repository: aps, path: apps/plain, destination: {namespace: web}}}",
        'gitops:applications.web.repository: unknown repository "aps" (did you mean "apps"?)',
    ),
    "revision not found": (
        "gitops:applications: {web: {repository: apps, path: apps/plain, revision: mian, destination: {namespace: web}}}",
        "gitops:applications.web.revision: revision 'mian' not found in",
    ),
    "revision close to a branch": (
        "gitops:applications: {web: {repository: apps, path: apps/plain, revision: release-1.O, destination: {namespace: web}}}",
        '(did you mean "release-1.0"?)',
    ),
    "path missing at the commit": (
        "gitops:applications: {web: {repository: apps, path: apps/nowhere, revision: v0.9.0, destination: {namespace: web}}}",
        'gitops:applications.web.path: "apps/nowhere" does not exist in',
    ),
    "settings of another type": (
        "gitops:applications: {web: {repository: apps, path: apps/podinfo, destination: {namespace: web}, "
        "helm: {releaseName: x}}}",
        'gitops:applications.web.helm: "apps/podinfo" holds a kustomize application',
    ),
    "unreachable remote": (
        "gitops:applications: {web: {repository: gone, path: apps/plain, destination: {namespace: web}}}",
        'gitops:applications.web.repository: repository "gone" cannot be read: cannot clone',
    ),
    "discovery matching nothing": (
        "gitops:discovery: {all: {repository: apps, path: services/*}}",
        'gitops:discovery.all.path: "services/*" matches no folder in',
    ),
    "duplicate after discovery": (
        f"gitops:applications: {{podinfo: {APP}}}\ngitops:discovery: {{all: {{repository: apps, path: apps/*}}}}",
        'gitops:discovery.all: application "podinfo" from folder apps/podinfo is already defined by gitops:applications.podinfo',
    ),
    "destination outside the project": (
        "gitops:projects: {team: {destinations: [{server: https://kubernetes.default.svc, namespace: team-*}]}}\n"
        "gitops:applications: {web: {repository: apps, path: apps/plain, project: team, destination: {namespace: web}}}",
        'gitops:applications.web.destination: https://kubernetes.default.svc namespace "web" '
        'is outside the destinations of project "team"',
    ),
    "repository outside the project": (
        "gitops:projects: {team: {sourceRepos: [https://github.com/*], destinations: [{server: '*', namespace: '*'}]}}\n"
        "gitops:applications: {web: {repository: apps, path: apps/plain, project: team, destination: {namespace: web}}}",
        'is not among the sourceRepos of project "team"',
    ),
    "unknown project": (
        "gitops:projects: {team: {destinations: [{server: '*', namespace: '*'}]}}\n"
        "gitops:applications: {web: {repository: apps, path: apps/plain, project: taem, destination: {namespace: web}}}",
        'gitops:applications.web.project: unknown project "taem" (did you mean "team"?)',
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_each_bad_input_is_one_error_naming_file_app_and_key_before_any_resource(case, tmp_path, source, monkeypatch):
    config, expected = BAD_INPUTS[case]
    repositories = (
        f'gitops:repositories: {{apps: {{url: "{source.url}"}}, gone: {{url: "{(tmp_path / "gone.git").as_uri()}"}}}}\n'
    )
    recorded = []

    def install(*args):
        recorded.append(ops.program.install.__wrapped__(*args))
        return recorded[-1]

    install.__wrapped__ = ops.program.install
    monkeypatch.setattr(ops.program, "install", install)
    with pytest.raises(SettingsError) as raised:
        run_program("dev", stack_file=stack_file(tmp_path, "dev", repositories + config))
    message = str(raised.value)
    assert message.startswith("stacks/Pulumi.dev.yaml: ")
    assert expected in message
    assert len(message.splitlines()) == 1
    assert recorded and recorded[0].registrations == []


def test_several_problems_come_together_and_never_show_credentials(tmp_path, source, monkeypatch):
    monkeypatch.setenv("GITOPS_SECRET_REPOSITORIES_LOCKED_CREDENTIALS_PASSWORD", PASSWORD)
    body = f"""
    gitops:repositories:
      apps: {{url: "{source.url}"}}
      locked:
        url: http://127.0.0.1:9/acme/locked.git
        credentials: {{username: robot, password: {{secure: v1:AAAA}}}}
    gitops:applications:
      one: {{repository: locked, path: apps/plain, destination: {{namespace: one}}}}
      two: {{repository: apps, path: apps/plain, revision: nope, destination: {{namespace: two}}}}
    """
    with pytest.raises(SettingsError) as raised:
        run_program("dev", stack_file=stack_file(tmp_path, "dev", body))
    lines = str(raised.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["gitops:applications.one.repository", "gitops:applications.two.revision"]
    assert PASSWORD not in str(raised.value)
    assert "robot" not in str(raised.value)
