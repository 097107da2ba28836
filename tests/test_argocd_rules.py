"""Every rule this program decides before Argo CD sees an application, decided as Argo CD decides
it, on real git repositories made in temporary directories."""

import pytest

from components.app_objects import application
from components.app_sources import resolve_sources
from gitsource import AppType, RepositoryCache
from settings import SettingsError, parse_settings
from tests.gitrepos import SourceRepository

STACK_FILE = "stacks/Pulumi.dev.yaml"
CHART = "apiVersion: v2\nname: app\nversion: 0.1.0\n"
KUSTOMIZATION = "resources: []\n"
LAYOUT = {
    "README.md": "# platform\n",
    ".github/workflows/ci.yaml": "on: push\n",
    ".ci/apps/x/kustomization.yaml": KUSTOMIZATION,
    "apps/guestbook/Chart.yaml": CHART,
    "apps/guestbook/values.yaml": "replicas: 1\n",
    "apps/guestbook/values-prod.yaml": "replicas: 3\n",
    "apps/hub/kustomization.yaml": KUSTOMIZATION,
    "apps/hidden/.keep/kustomization.yaml": KUSTOMIZATION,
    "apps/_template/kustomization.yaml": KUSTOMIZATION,
    "apps/both/Chart.yaml": CHART,
    "apps/both/kustomization.yaml": KUSTOMIZATION,
    "apps/plain/deployment.yaml": "kind: Deployment\n",
    "envs/dev/apps/api/kustomization.yaml": KUSTOMIZATION,
    "envs/prod/apps/api/kustomization.yaml": KUSTOMIZATION,
    "charts/redis/Chart.yaml": CHART,
    "charts/redis/ci/values.yaml": "a: 1\n",
    "charts/nginx/Chart.yaml": CHART,
    "charts/nginx/ci/values.yaml": "a: 1\n",
    "values/prod/guestbook.yaml": "replicas: 5\n",
    "root/Chart.yaml": CHART,
    "root/templates/apps.yaml": "kind: Application\n",
}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    repository = SourceRepository(tmp_path_factory.mktemp("platform"))
    repository.commit(LAYOUT, "platform")
    repository.branch("release")
    repository.commit({"apps/guestbook/values.yaml": "replicas: 2\n"}, "main moves on")
    repository.push()
    return repository


def resolve(tmp_path, raw, stack="dev", secret_keys=frozenset()):
    settings = parse_settings(raw, stack, set(secret_keys))
    return {app.name: app for app in resolve_sources(settings, STACK_FILE, RepositoryCache(tmp_path / "cache")).applications}


def problems(tmp_path, raw):
    with pytest.raises(SettingsError) as raised:
        resolve(tmp_path, raw)
    return [line.removeprefix(f"{STACK_FILE}: ") for line in str(raised.value).splitlines()]


def settings_problems(raw):
    with pytest.raises(SettingsError) as raised:
        parse_settings(raw, "dev", set())
    return [line.removeprefix(f"{STACK_FILE}: ") for line in str(raised.value).splitlines()]


def repos(source):
    return {"apps": {"url": source.url}}


def discovery(source, **entry):
    return {"repositories": repos(source), "discovery": {"all": {"repository": "apps", **entry}}}


# --- the git directory generator ---------------------------------------------------------------


def test_star_on_a_repository_with_hidden_folders_finds_only_visible_ones(tmp_path, source):
    found = resolve(tmp_path, discovery(source, path="*", destination={"namespace": "x"}))
    assert sorted(found) == ["apps", "charts", "envs", "root", "values"]


def test_a_hidden_folder_and_everything_inside_it_is_never_an_app(tmp_path, source):
    for pattern in (".ci/apps/*", "apps/hidden/*", "apps/*/*"):
        assert problems(tmp_path, discovery(source, path=pattern)) == [
            f'gitops:discovery.all.path: "{pattern}" matches no folder in {source.url} at {source.head()[:12]} (HEAD)'
        ]


def test_go_negated_classes_use_a_caret_and_bang_is_a_character(tmp_path, source):
    named = {"name": "{path.basenameNormalized}", "destination": {"namespace": "x"}}
    caret = resolve(tmp_path, discovery(source, path="apps/[^_]*", **named))
    assert sorted(caret) == ["both", "guestbook", "hidden", "hub", "plain"]
    bang = resolve(tmp_path, discovery(source, path="apps/[!_]*", **named))
    assert sorted(bang) == ["template"]  # the class of "!" and "_": only apps/_template


def test_exclude_patterns_and_several_paths(tmp_path, source):
    found = resolve(
        tmp_path,
        discovery(source, paths=["apps/*", "envs/prod/apps/*"], exclude=["apps/_*", "apps/both"], name="{path.normalized}"),
    )
    assert sorted(found) == ["apps-guestbook", "apps-hidden", "apps-hub", "apps-plain", "envs-prod-apps-api"]


def test_an_exclude_that_leaves_nothing_says_so(tmp_path, source):
    assert problems(tmp_path, discovery(source, path="apps/hub", exclude=["apps/*"])) == [
        f'gitops:discovery.all.path: "apps/hub" matches no folder once exclude is applied in {source.url} '
        f"at {source.head()[:12]} (HEAD)"
    ]


def test_malformed_patterns_and_root_relative_spellings_are_refused_when_loading():
    assert settings_problems({"discovery": {"all": {"repository": "apps", "path": "apps/[a"}}}) == [
        "gitops:discovery.all.path: 'apps/[a' is not a valid folder pattern: a character class is not closed with ] "
        "(Go's path.Match syntax)"
    ]
    (line,) = settings_problems({"discovery": {"all": {"repository": "apps", "paths": ["./apps/*"]}}})
    assert line.startswith("gitops:discovery.all.paths[0]: './apps/*': write a folder pattern relative to the repository root")


# --- names from the path -----------------------------------------------------------------------


def test_envs_layout_names_apps_by_environment_and_folder(tmp_path, source):
    found = resolve(
        tmp_path,
        discovery(source, path="envs/*/apps/*", name="{path[1]}-{name}", destination={"namespace": "{path[1]}"}),
    )
    assert sorted(found) == ["dev-api", "prod-api"]
    assert found["prod-api"].settings.destination.namespace == "prod"


def test_star_star_and_charts_ci_layouts_have_templates_that_do_not_collide(tmp_path, source):
    charts = resolve(tmp_path, discovery(source, path="charts/*/ci", name="{path[1]}-ci", destination={"namespace": "ci"}))
    assert sorted(charts) == ["nginx-ci", "redis-ci"]
    assert charts["redis-ci"].settings.path == "charts/redis/ci"
    two_levels = resolve(
        tmp_path, discovery(source, path="*/*", name="{path.basenameNormalized}.{path[0]}", destination={"namespace": "x"})
    )
    assert "guestbook.apps" in two_levels and "template.apps" in two_levels  # "_template" normalised


def test_a_collision_is_one_clear_error_with_a_way_out(tmp_path, source):
    assert problems(tmp_path, discovery(source, path="envs/*/apps/*")) == [
        'gitops:discovery.all: application "api" from folder envs/prod/apps/api is already defined by '
        'gitops:discovery.all (folder envs/dev/apps/api) (a name template such as "{path[1]}-{name}" or '
        '"{path.normalized}" tells them apart)'
    ]


def test_unknown_placeholders_and_double_braces_are_refused_when_loading():
    (unknown,) = settings_problems({"discovery": {"all": {"repository": "apps", "path": "*", "name": "{path.base}"}}})
    assert unknown.startswith("gitops:discovery.all.name: '{path.base}': unknown placeholder {path.base}")
    (braces,) = settings_problems({"discovery": {"all": {"repository": "apps", "path": "*", "name": "{{path.basename}}"}}})
    assert "one pair of braces" in braces


def test_a_segment_deeper_than_the_folder_is_an_error(tmp_path, source):
    assert problems(tmp_path, discovery(source, path="apps/hub", name="{path[3]}")) == [
        "gitops:discovery.all.name: folder apps/hub has no {path[3]}: it is not that deep"
    ]


# --- projects ------------------------------------------------------------------------------------


def project_stack(source, project, app):
    return {
        "repositories": repos(source),
        "projects": {"team": project},
        "applications": {"web": {"repository": "apps", "path": "apps/plain", "project": "team", **app}},
    }


def test_a_deny_namespace_refuses_the_app_and_allows_the_others(tmp_path, source):
    project = {"destinations": [{"server": "*", "namespace": "*"}, {"server": "*", "namespace": "!kube-system"}]}
    assert problems(tmp_path, project_stack(source, project, {"destination": {"namespace": "kube-system"}})) == [
        'gitops:applications.web.destination: https://kubernetes.default.svc namespace "kube-system" '
        'is outside the destinations of project "team"'
    ]
    assert resolve(tmp_path, project_stack(source, project, {"destination": {"namespace": "web"}}))


def test_a_deny_url_refuses_that_repository(tmp_path, source):
    project = {"sourceRepos": ["*", f"!{source.url}"], "destinations": [{"server": "*", "namespace": "*"}]}
    assert problems(tmp_path, project_stack(source, project, {"destination": {"namespace": "web"}})) == [
        f'gitops:applications.web.repository: {source.url} is not among the sourceRepos of project "team"'
    ]
    by_name = {"sourceRepos": ["*", "!apps"], "destinations": [{"server": "*", "namespace": "*"}]}
    assert len(problems(tmp_path, project_stack(source, by_name, {"destination": {"namespace": "web"}}))) == 1


def test_repository_urls_compare_without_dot_git_and_case(tmp_path, source):
    spelled = source.url.removesuffix(".git").upper()
    project = {"sourceRepos": [spelled], "destinations": [{"server": "*", "namespace": "*"}]}
    assert resolve(tmp_path, project_stack(source, project, {"destination": {"namespace": "web"}}))


def test_a_star_in_source_repos_stops_at_a_slash(tmp_path, source):
    parent = source.url.rsplit("/", 2)[0]
    project = {"sourceRepos": [f"{parent}/*"], "destinations": [{"server": "*", "namespace": "*"}]}
    assert len(problems(tmp_path, project_stack(source, project, {"destination": {"namespace": "web"}}))) == 1
    project["sourceRepos"] = [f"{parent}/**"]
    assert resolve(tmp_path, project_stack(source, project, {"destination": {"namespace": "web"}}))


def test_in_cluster_by_name_meets_a_project_listing_its_server(tmp_path, source):
    project = {"destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}]}
    assert resolve(tmp_path, project_stack(source, project, {"destination": {"name": "in-cluster", "namespace": "web"}}))


def test_a_cluster_only_argo_cd_can_look_up_is_left_to_it(tmp_path, source):
    project = {"destinations": [{"server": "https://prod.example.com", "namespace": "web"}]}
    assert resolve(tmp_path, project_stack(source, project, {"destination": {"name": "prod", "namespace": "web"}}))
    assert len(problems(tmp_path, project_stack(source, project, {"destination": {"name": "prod", "namespace": "db"}}))) == 1


# --- Helm value files and explicit tool blocks --------------------------------------------------


def app_stack(source, **app):
    return {
        "repositories": repos(source),
        "applications": {"web": {"repository": "apps", "destination": {"namespace": "web"}, **app}},
    }


def test_value_files_must_exist_at_the_pinned_commit(tmp_path, source):
    stack = app_stack(
        source, path="apps/guestbook", helm={"valueFiles": ["values.yaml", "values-prd.yaml", "/values/prod/guestbook.yaml"]}
    )
    assert problems(tmp_path, stack) == [
        f"gitops:applications.web.helm.valueFiles: 'values-prd.yaml' does not exist in {source.url} at "
        f"{source.head()[:12]} (HEAD); set ignoreMissingValueFiles: true if that is expected"
    ]
    stack["applications"]["web"]["helm"]["ignoreMissingValueFiles"] = True
    assert resolve(tmp_path, stack)["web"].sources[0].app_type is AppType.HELM


def test_remote_value_files_are_left_to_argo_cd(tmp_path, source):
    stack = app_stack(source, path="apps/guestbook", helm={"valueFiles": ["https://example.com/values.yaml"]})
    assert resolve(tmp_path, stack)


def test_an_explicit_block_chooses_the_tool_on_a_folder_with_both_markers(tmp_path, source):
    helm = resolve(tmp_path, app_stack(source, path="apps/both", helm={"releaseName": "both"}))["web"]
    assert helm.sources[0].app_type is AppType.HELM
    assert application(helm, "argocd")["spec"]["source"]["helm"] == {"releaseName": "both"}
    kustomize = resolve(tmp_path, app_stack(source, path="apps/both", kustomize={"namePrefix": "x-"}))["web"]
    assert kustomize.sources[0].app_type is AppType.KUSTOMIZE
    # An empty block is dropped before Argo CD reads it: discovery decides (the last marker wins).
    empty = resolve(tmp_path, app_stack(source, path="apps/both", helm={}))["web"]
    assert empty.sources[0].app_type is AppType.KUSTOMIZE
    assert "helm" not in application(empty, "argocd")["spec"]["source"]


def test_a_block_for_a_tool_whose_marker_is_missing_is_an_error(tmp_path, source):
    assert problems(tmp_path, app_stack(source, path="apps/hub", helm={"releaseName": "hub"})) == [
        f'gitops:applications.web.helm: "apps/hub" holds a kustomize application at {source.head()[:12]}, not helm'
    ]


# --- names and values Argo CD accepts -----------------------------------------------------------


def test_names_and_durations_argo_cd_accepts(tmp_path, source):
    release = "r" * 53
    stack = {
        "repositories": repos(source),
        "applications": {
            "web.team-a": {
                "repository": "apps",
                "path": "apps/guestbook",
                "destination": {"namespace": "web"},
                "helm": {"releaseName": release},
                "syncPolicy": {"retry": {"limit": 3, "backoff": {"duration": "1m30s", "maxDuration": "90", "factor": 2}}},
            }
        },
    }
    app = resolve(tmp_path, stack)["web.team-a"]
    assert application(app, "argocd")["metadata"]["name"] == "web.team-a"
    stack["applications"]["web.team-a"]["helm"]["releaseName"] = "r" * 54
    (line,) = settings_problems(stack)
    assert line.startswith('gitops:applications["web.team-a"].helm.releaseName: ') and "at most 53" in line


@pytest.mark.parametrize(
    ("sync_options", "message"),
    [
        (["CreateNamspace=true"], "'CreateNamspace' is not a sync option Argo CD knows (did you mean \"CreateNamespace\"?)"),
        (["CreateNamespace=yes"], "CreateNamespace takes true or false, not 'yes'"),
        (["ServerSideApply"], "'ServerSideApply' is not a sync option like CreateNamespace=true"),
    ],
)
def test_sync_options_are_checked(sync_options, message):
    raw = {
        "applications": {
            "web": {
                "repository": "a",
                "path": "p",
                "destination": {"namespace": "w"},
                "syncPolicy": {"syncOptions": sync_options},
            }
        }
    }
    assert settings_problems(raw) == [f"gitops:applications.web.syncPolicy.syncOptions[0]: {message}"]


@pytest.mark.parametrize(
    ("image", "valid"),
    [
        ("ghcr.io/acme/api:1.2.3", True),
        ("api=ghcr.io/acme/api:1.2.3", True),
        ("api@sha256:" + "a" * 64, True),
        ("registry.example.com:5000/team/api:v1", True),
        ("api:$ARGOCD_APP_REVISION", True),
        ("ghcr.io/Acme/api:1", False),
        ("api:1.2:3", False),
        ("api tag", False),
    ],
)
def test_kustomize_images_are_checked(image, valid):
    raw = {
        "applications": {
            "web": {"repository": "a", "path": "p", "destination": {"namespace": "w"}, "kustomize": {"images": [image]}}
        }
    }
    if valid:
        parse_settings(raw, "dev", set())
    else:
        (line,) = settings_problems(raw)
        assert line == (
            "gitops:applications.web.kustomize.images[0]: expected a Kustomize image override like ghcr.io/acme/api:1.2.3, "
            f'api=ghcr.io/acme/api:1.2.3 or api@sha256:<digest>, got "{image}"'
        )


def test_discovery_helm_defaults_check_each_folders_value_files(tmp_path, source):
    missing = problems(tmp_path, discovery(source, path="charts/*", helm={"valueFiles": ["ci/values.yaml", "values-prod.yaml"]}))
    assert missing == [
        f"gitops:discovery.all.helm.valueFiles: folder charts/{chart}: 'values-prod.yaml' does not exist in {source.url} "
        f"at {source.head()[:12]} (HEAD); set ignoreMissingValueFiles: true if that is expected"
        for chart in ("nginx", "redis")
    ]
    # Kustomize and plain folders do not take the Helm defaults.
    assert resolve(tmp_path, discovery(source, paths=["apps/guestbook", "apps/hub"], helm={"valueFiles": ["values-prod.yaml"]}))
