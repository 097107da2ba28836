"""Multi-source applications and every field platform teams use: resolved against real git
repositories, rendered by the whole program under mocks, and validated strictly against Argo CD's
CRDs."""

import textwrap

import pytest

from ops.program import run_program
from ops.render import kubernetes_objects
from ops.validate import validate_object
from settings import SettingsError, parse_settings
from tests.gitrepos import SourceRepository

CHART = "apiVersion: v2\nname: app\nversion: 0.1.0\n"
LAYOUT = {
    "apps/guestbook/Chart.yaml": CHART,
    "apps/guestbook/values.yaml": "replicas: 1\n",
    "apps/hub/kustomization.yaml": "resources: []\n",
    "apps/hub/patch.yaml": "kind: Deployment\n",
    "apps/plain/deployment.yaml": "kind: Deployment\n",
    "apps/lib/main.jsonnet": "{}\n",
    "apps/cmp/app.yaml": "kind: ConfigMap\n",
    "values/redis.yaml": "replicas: 3\n",
    "root/Chart.yaml": CHART,
    "root/templates/apps.yaml": "kind: Application\n",
}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    repository = SourceRepository(tmp_path_factory.mktemp("platform"))
    repository.commit(LAYOUT, "platform")
    repository.branch("release")
    repository.commit({"values/redis.yaml": "replicas: 5\n"}, "main moves on")
    repository.push()
    return repository


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("GITOPS_GIT_CACHE", str(tmp_path / "cache"))


def run(tmp_path, body, stack="dev"):
    path = tmp_path / f"Pulumi.{stack}.yaml"
    path.write_text("config:\n" + textwrap.indent(textwrap.dedent(body), "  "))
    return run_program(stack, stack_file=path)


def stack(url):
    return f"""
    gitops:repositories:
      apps: {{url: "{url}"}}
      charts: {{url: https://charts.example.com, type: helm}}
    gitops:projects:
      team:
        sourceRepos: [apps, charts, "!https://github.com/evil/*"]
        destinations:
          - {{server: "*", namespace: "*"}}
          - {{server: "*", namespace: "!kube-system"}}
        clusterResourceWhitelist: [{{group: "", kind: Namespace}}]
        clusterResourceBlacklist: [{{group: rbac.authorization.k8s.io, kind: ClusterRole}}]
        namespaceResourceWhitelist: [{{group: apps, kind: Deployment}}, {{group: "", kind: ConfigMap}}]
        sourceNamespaces: [team-apps]
        destinationServiceAccounts:
          - {{server: https://kubernetes.default.svc, namespace: team-*, defaultServiceAccount: team:deployer}}
        orphanedResources: {{warn: true, ignore: [{{group: "", kind: ConfigMap, name: kube-root-ca.crt}}]}}
        signatureKeys: [{{keyID: 4AEE18F83AFDEB23}}]
        syncWindows: [{{kind: allow, schedule: "0 8 * * *", duration: 1h30m, applications: ["*"], andOperator: true}}]
    gitops:applications:
      redis:
        project: team
        sources:
          - repository: charts
            chart: redis
            revision: 19.0.1
            helm: {{releaseName: redis, valueFiles: [$values/values/redis.yaml]}}
          - {{repository: apps, revision: release, ref: values}}
        destination: {{namespace: redis}}
      pair:
        project: team
        sources:
          - {{repository: apps, path: apps/hub, revision: release}}
          - {{repository: apps, path: apps/plain, revision: main, directory: {{recurse: true, include: "*.yaml"}}}}
        destination: {{namespace: pair}}
      root:
        repository: apps
        path: root
        revision: release
        destination: {{namespace: argocd}}
        labels: {{team: platform}}
        annotations: {{argocd.argoproj.io/sync-wave: "-1", notifications.argoproj.io/subscribe.on-sync-failed.slack: ops}}
        cascadeDelete: background
        revisionHistoryLimit: 3
        info: [{{name: owner, value: platform-team}}]
        helm:
          values: {{revision: "{{commit}}", replicas: 0}}
          parameters: [{{name: global.revision, value: "{{commit}}"}}]
          ignoreMissingValueFiles: true
          valueFiles: [missing.yaml]
          skipCrds: true
          skipTests: true
          skipSchemaValidation: true
          passCredentials: true
          namespace: argocd
          kubeVersion: "1.33"
          apiVersions: [monitoring.coreos.com/v1]
          fileParameters: [{{name: config, path: values.yaml}}]
        syncPolicy:
          automated: {{prune: true, selfHeal: true, allowEmpty: true}}
          syncOptions: [CreateNamespace=true, ServerSideApply=true, PrunePropagationPolicy=background]
          managedNamespaceMetadata: {{labels: {{team: platform}}, annotations: {{owner: platform}}}}
          retry: {{limit: -1, refresh: true, backoff: {{duration: 1m30s, factor: 2, maxDuration: "600"}}}}
      hub:
        repository: apps
        path: apps/hub
        destination: {{namespace: hub}}
        cascadeDelete: foreground
        kustomize:
          images: [ghcr.io/acme/hub:1.2.3, "old=ghcr.io/acme/new@sha256:{"a" * 64}"]
          namePrefix: team-
          nameSuffix: -v1
          namespace: hub
          commonLabels: {{team: hub}}
          commonAnnotations: {{owner: hub}}
          forceCommonLabels: true
          patches:
            - {{path: patch.yaml, target: {{kind: Deployment, labelSelector: "app=hub"}}}}
            - patch: "- op: replace\\n  path: /spec/replicas\\n  value: 2"
              target: {{group: apps, version: v1, kind: Deployment, name: hub}}
              options: {{allowNameChange: true}}
          replicas: [{{name: hub, count: 2}}]
          components: [../components/monitoring]
          ignoreMissingComponents: true
      lib:
        repository: apps
        path: apps/lib
        destination: {{namespace: lib}}
        directory:
          jsonnet:
            tlas: [{{name: env, value: prod}}, {{name: replicas, value: "3", code: true}}]
            extVars: [{{name: cluster, value: prod}}]
            libs: [vendor]
      cmp:
        repository: apps
        path: apps/cmp
        destination: {{namespace: cmp}}
        plugin:
          name: envsubst-v1
          env: [{{name: FOO, value: bar}}]
          parameters:
            - {{name: mode, string: strict}}
            - {{name: files, array: [a.yaml, b.yaml]}}
            - {{name: labels, map: {{team: cmp}}}}
    gitops:discovery:
      apps:
        repository: apps
        paths: [apps/guestbook, apps/hub, apps/plain]
        name: "d-{{name}}"
        destination: {{namespace: "d-{{name}}"}}
        helm: {{releaseName: discovered, valueFiles: [values.yaml]}}
        kustomize: {{namePrefix: d-}}
        directory: {{recurse: true}}
        labels: {{discovered: "true"}}
    """


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, source):
    # One program run serves every test that only reads what it registered.
    directory = tmp_path_factory.mktemp("full")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITOPS_GIT_CACHE", str(directory / "cache"))
        return run(directory, stack(source.url))


def specs(run):
    return {obj["metadata"]["name"]: obj for _, obj in kubernetes_objects(run) if obj.get("apiVersion") == "argoproj.io/v1alpha1"}


def commit_of(source, revision):
    from tests.gitrepos import git

    return git("rev-parse", revision, cwd=source.work)


def test_every_new_field_renders_and_validates_strictly_against_argo_cds_crds(full_run):
    objects = [obj for _, obj in kubernetes_objects(full_run)]
    assert [str(problem) for obj in objects for problem in validate_object(obj)] == []
    assert {obj["kind"] for obj in objects if obj["apiVersion"] == "argoproj.io/v1alpha1"} == {"Application", "AppProject"}


def test_a_chart_with_values_from_git_pins_the_values_source_to_its_own_commit(full_run, source):
    spec = specs(full_run)["redis"]["spec"]
    assert "source" not in spec
    assert spec["sources"] == [
        {
            "repoURL": "https://charts.example.com",
            "chart": "redis",
            "targetRevision": "19.0.1",
            "helm": {"releaseName": "redis", "valueFiles": ["$values/values/redis.yaml"]},
        },
        {"repoURL": source.url, "targetRevision": commit_of(source, "release"), "ref": "values"},
    ]


def test_each_git_source_is_pinned_to_its_own_commit_and_exported_for_promotion(full_run, source):
    spec = specs(full_run)["pair"]["spec"]
    assert [s["targetRevision"] for s in spec["sources"]] == [commit_of(source, "release"), source.head()]
    assert spec["sources"][1]["directory"] == {"recurse": True, "include": "*.yaml"}
    output, _ = full_run.outputs["applications"]
    assert output["pair"] == {
        "sources": [
            {
                "requested": "release",
                "commit": commit_of(source, "release"),
                "repository": source.url,
                "type": "kustomize",
                "configPath": ["gitops:applications", "pair", "sources", 0, "revision"],
            },
            {
                "requested": "main",
                "commit": source.head(),
                "repository": source.url,
                "type": "directory",
                "configPath": ["gitops:applications", "pair", "sources", 1, "revision"],
            },
        ]
    }
    assert output["redis"]["sources"][0]["commit"] is None
    assert output["redis"]["sources"][1]["ref"] == "values"


def test_an_app_of_apps_hands_its_commit_to_the_applications_its_chart_renders(full_run, source):
    root = specs(full_run)["root"]
    helm = root["spec"]["source"]["helm"]
    release = commit_of(source, "release")
    assert root["spec"]["source"]["targetRevision"] == release
    assert helm["valuesObject"] == {"revision": release, "replicas": 0}
    assert helm["parameters"] == [{"name": "global.revision", "value": release}]


def test_labels_annotations_and_finalizer_variants(full_run):
    objects = specs(full_run)
    root = objects["root"]["metadata"]
    assert root["labels"] == {"team": "platform"}
    assert root["annotations"]["argocd.argoproj.io/sync-wave"] == "-1"
    assert root["annotations"]["pulumi.com/patchForce"] == "true"
    assert root["finalizers"] == ["resources-finalizer.argocd.argoproj.io/background"]
    assert objects["hub"]["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io/foreground"]
    assert objects["pair"]["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]


def test_sync_policy_extras_and_spec_fields(full_run):
    spec = specs(full_run)["root"]["spec"]
    assert spec["syncPolicy"] == {
        "automated": {"enabled": True, "prune": True, "selfHeal": True, "allowEmpty": True},
        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true", "PrunePropagationPolicy=background"],
        "managedNamespaceMetadata": {"labels": {"team": "platform"}, "annotations": {"owner": "platform"}},
        "retry": {"limit": -1, "refresh": True, "backoff": {"duration": "1m30s", "factor": 2, "maxDuration": "600"}},
    }
    assert spec["revisionHistoryLimit"] == 3
    assert spec["info"] == [{"name": "owner", "value": "platform-team"}]


def test_plugin_and_jsonnet_sources(full_run):
    objects = specs(full_run)
    assert objects["cmp"]["spec"]["source"]["plugin"] == {
        "name": "envsubst-v1",
        "env": [{"name": "FOO", "value": "bar"}],
        "parameters": [
            {"name": "mode", "string": "strict"},
            {"name": "files", "array": ["a.yaml", "b.yaml"]},
            {"name": "labels", "map": {"team": "cmp"}},
        ],
    }
    assert objects["lib"]["spec"]["source"]["directory"] == {
        "jsonnet": {
            "tlas": [{"name": "env", "value": "prod"}, {"name": "replicas", "value": "3", "code": True}],
            "extVars": [{"name": "cluster", "value": "prod"}],
            "libs": ["vendor"],
        }
    }
    output, _ = full_run.outputs["applications"]
    assert output["cmp"]["type"] == "plugin" and output["lib"]["type"] == "jsonnet"


def test_discovery_applies_the_defaults_of_each_folders_type(full_run):
    objects = specs(full_run)
    assert objects["d-guestbook"]["spec"]["source"]["helm"] == {"releaseName": "discovered", "valueFiles": ["values.yaml"]}
    assert objects["d-hub"]["spec"]["source"]["kustomize"] == {"namePrefix": "d-"}
    assert objects["d-plain"]["spec"]["source"]["directory"] == {"recurse": True}
    assert objects["d-plain"]["metadata"]["labels"] == {"discovered": "true"}


def test_project_extras(full_run):
    spec = specs(full_run)["team"]["spec"]
    assert spec["sourceRepos"][-1] == "!https://github.com/evil/*"
    assert spec["clusterResourceBlacklist"] == [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}]
    assert spec["namespaceResourceWhitelist"] == [{"group": "apps", "kind": "Deployment"}, {"group": "", "kind": "ConfigMap"}]
    assert spec["sourceNamespaces"] == ["team-apps"]
    assert spec["destinationServiceAccounts"] == [
        {"server": "https://kubernetes.default.svc", "namespace": "team-*", "defaultServiceAccount": "team:deployer"}
    ]
    assert spec["orphanedResources"] == {"warn": True, "ignore": [{"group": "", "kind": "ConfigMap", "name": "kube-root-ca.crt"}]}
    assert spec["signatureKeys"] == [{"keyID": "4AEE18F83AFDEB23"}]
    assert spec["syncWindows"][0]["andOperator"] is True


def test_a_values_file_missing_from_the_ref_source_is_an_error(tmp_path, source):
    body = f"""
    gitops:repositories:
      apps: {{url: "{source.url}"}}
      charts: {{url: https://charts.example.com, type: helm}}
    gitops:applications:
      redis:
        sources:
          - {{repository: charts, chart: redis, revision: 19.0.1, helm: {{valueFiles: [$values/values/nope.yaml]}}}}
          - {{repository: apps, revision: release, ref: values}}
        destination: {{namespace: redis}}
    """
    with pytest.raises(SettingsError) as raised:
        run(tmp_path, body)
    assert str(raised.value) == (
        "stacks/Pulumi.dev.yaml: gitops:applications.redis.sources[0].helm.valueFiles: '$values/values/nope.yaml' "
        f"does not exist in {source.url} at {commit_of(source, 'release')[:12]} (release); "
        "set ignoreMissingValueFiles: true if that is expected"
    )


APP = {"repository": "apps", "path": "p", "destination": {"namespace": "w"}}


@pytest.mark.parametrize(
    ("app", "line"),
    [
        ({**APP, "helm": {"skipCrd": True}}, 'gitops:applications.web.helm.skipCrd: unknown key (did you mean "skipCrds"?)'),
        (
            {**APP, "kustomize": {"commonLabel": {}}},
            'gitops:applications.web.kustomize.commonLabel: unknown key (did you mean "commonLabels"?)',
        ),
        (
            {**APP, "directory": {"jsonnet": {"extVar": []}}},
            'gitops:applications.web.directory.jsonnet.extVar: unknown key (did you mean "extVars"?)',
        ),
        ({**APP, "plugin": {"envs": []}}, 'gitops:applications.web.plugin.envs: unknown key (did you mean "env"?)'),
        (
            {**APP, "syncPolicy": {"managedNamespaceMetadata": {"label": {}}}},
            'gitops:applications.web.syncPolicy.managedNamespaceMetadata.label: unknown key (did you mean "labels"?)',
        ),
        (
            {**APP, "syncPolicy": {"automated": {"allowEmtpy": True}}},
            'gitops:applications.web.syncPolicy.automated.allowEmtpy: unknown key (did you mean "allowEmpty"?)',
        ),
        ({**APP, "annotation": {}}, 'gitops:applications.web.annotation: unknown key (did you mean "annotations"?)'),
        (
            {"sources": [{"repository": "apps", "revision": "main", "reff": "v"}], "destination": {"namespace": "w"}},
            'gitops:applications.web.sources[0].reff: unknown key (did you mean "ref"?)',
        ),
        (
            {**APP, "cascadeDelete": "orphan"},
            'gitops:applications.web.cascadeDelete: expected true, false, foreground or background, got "orphan"',
        ),
    ],
)
def test_typos_in_the_new_blocks_name_the_closest_key(app, line):
    with pytest.raises(SettingsError) as raised:
        parse_settings({"applications": {"web": app}}, "dev", set())
    assert str(raised.value).splitlines()[0].startswith(f"stacks/Pulumi.dev.yaml: {line}")


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (
            {"projects": {"t": {"destinations": [{"server": "*", "namespace": "*"}], "orphanedResource": {}}}},
            '"orphanedResources"',
        ),
        (
            {"projects": {"t": {"destinations": [{"server": "*", "namespace": "*"}], "signatureKeys": [{"keyId": "x"}]}}},
            '"keyID"',
        ),
        ({"discovery": {"d": {"repository": "a", "path": "*", "excludes": []}}}, '"exclude"'),
    ],
)
def test_typos_in_project_and_discovery_blocks_name_the_closest_key(raw, line):
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, "dev", set())
    assert f"(did you mean {line}?)" in str(raised.value)


def test_multi_source_settings_are_checked_when_loading():
    with pytest.raises(SettingsError) as raised:
        parse_settings(
            {
                "applications": {
                    "a": {
                        "repository": "apps",
                        "sources": [{"repository": "apps", "path": "x"}],
                        "destination": {"namespace": "a"},
                    },
                    "b": {
                        "sources": [{"repository": "c", "chart": "r", "revision": "1", "helm": {"valueFiles": ["$vals/v.yaml"]}}],
                        "destination": {"namespace": "b"},
                    },
                }
            },
            "dev",
            set(),
        )
    assert str(raised.value).splitlines() == [
        "stacks/Pulumi.dev.yaml: gitops:applications.a: with sources, set repository inside each source",
        "stacks/Pulumi.dev.yaml: gitops:applications.b: '$vals/v.yaml' names ref 'vals', which no source of this application has",
    ]


def test_every_failing_source_of_an_application_is_reported(tmp_path, source):
    body = f"""
    gitops:repositories:
      apps: {{url: "{source.url}"}}
    gitops:applications:
      pair:
        sources:
          - {{repository: apps, path: apps/nowhere, revision: release}}
          - {{repository: apps, path: apps/plain, revision: mian}}
        destination: {{namespace: pair}}
    """
    with pytest.raises(SettingsError) as raised:
        run(tmp_path, body)
    assert [line.split(": ")[1] for line in str(raised.value).splitlines()] == [
        "gitops:applications.pair.sources[0].path",
        "gitops:applications.pair.sources[1].revision",
    ]


def test_a_source_ref_is_a_name_other_sources_can_write_after_a_dollar():
    raw = {
        "applications": {
            "redis": {
                "sources": [{"repository": "a", "chart": "redis", "revision": "1"}, {"repository": "b", "ref": "my values"}],
                "destination": {"namespace": "redis"},
            }
        }
    }
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, "dev", set())
    assert str(raised.value) == (
        "stacks/Pulumi.dev.yaml: gitops:applications.redis.sources[1].ref: "
        "expected a ref name like values (letters, digits, '-' and '_'), got \"my values\""
    )
