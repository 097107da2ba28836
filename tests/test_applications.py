"""Applications settings, source resolution against real git repositories, and the pure builders."""

import pytest
from pydantic import SecretStr

from components.app_objects import app_project, application, repository_secret
from components.app_sources import repository_credentials, resolve_sources
from gitsource import AppType, RepositoryCache
from settings import SettingsError, parse_settings
from settings.applications import ProjectSettings, RepositorySettings
from tests.gitrepos import standard_app_repository

STACK_FILE = "stacks/Pulumi.dev.yaml"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("apps"))


class CountingCache(RepositoryCache):
    def __init__(self, root):
        super().__init__(root)
        self.opened: list[str] = []

    def open(self, url, credentials=None):
        self.opened.append(url)
        return super().open(url, credentials)


def settings(raw, stack="dev", secret_keys=frozenset()):
    return parse_settings(raw, stack, set(secret_keys))


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        ({"username": "robot"}, "password: required key is missing: username goes with a password or token"),
        ({"password": "x", "sshPrivateKey": "y"}, "sshPrivateKey: give one kind of credentials: password and sshPrivateKey"),
        ({"githubAppId": 1, "githubAppPrivateKey": "k"}, "githubAppInstallationId: required key is missing: a GitHub App"),
    ],
)
def test_credentials_are_one_kind(credentials, expected):
    raw = {"repositories": {"apps": {"url": "https://git.example.com/apps.git", "credentials": credentials}}}
    with pytest.raises(SettingsError) as raised:
        settings(raw, secret_keys={"repositories"})
    assert str(raised.value).startswith(f"{STACK_FILE}: gitops:repositories.apps.credentials.{expected}")


def test_a_password_in_plain_text_is_refused():
    raw = {"repositories": {"apps": {"url": "https://git.example.com/apps.git", "credentials": {"password": "hunter2"}}}}
    with pytest.raises(SettingsError) as raised:
        settings(raw)
    assert str(raised.value) == (
        f"{STACK_FILE}: gitops:repositories.apps.credentials.password: holds a password, token or key in plain text: "
        "make it a secure value with `pulumi config set --secret --path 'gitops:repositories.apps.credentials.password' VALUE`"
    )


@pytest.mark.parametrize(
    ("app", "key", "expected"),
    [
        ({"repository": "apps", "destination": {"namespace": "x"}}, "web.path", "set path (git) or chart"),
        (
            {"repository": "apps", "path": "a", "destination": {"namespace": "X"}},
            "web.destination.namespace",
            "a Kubernetes name",
        ),
        ({"repository": "apps", "chart": "redis", "destination": {"namespace": "x"}}, "web.revision", "a chart needs the chart"),
        (
            {"repository": "apps", "path": "a", "destination": {"namespace": "x"}, "followBranch": "yes"},
            "web.followBranch",
            "true or false",
        ),
        (
            {"repository": "apps", "path": "a", "destination": {"namespace": "x"}, "syncPolicy": {"retry": {"limit": "3"}}},
            "web.syncPolicy.retry.limit",
            "expected a whole number",
        ),
        (
            {"repository": "apps", "path": "a", "destination": {"namespace": "x"}, "helm": {"valuesObject": {}}},
            "web.helm.valuesObject",
            "unknown key",
        ),
    ],
)
def test_application_settings_errors_name_the_key(app, key, expected):
    with pytest.raises(SettingsError) as raised:
        settings({"applications": {"web": app}})
    assert str(raised.value).startswith(f"{STACK_FILE}: gitops:applications.{key}: ")
    assert expected in str(raised.value)


def test_one_open_per_repository_and_types_detected_at_the_commit(tmp_path, source):
    stack = settings(
        {
            "repositories": {"apps": {"url": source.url}},
            "applications": {
                "guestbook": {
                    "repository": "apps",
                    "path": "apps/guestbook",
                    "revision": "v1.0.0",
                    "destination": {"namespace": "g"},
                },
                "plain": {"repository": "apps", "path": "apps/plain/", "destination": {"namespace": "p"}},
            },
            "discovery": {"all": {"repository": "apps", "path": "apps/*", "name": "all-{name}"}},
        }
    )
    cache = CountingCache(tmp_path / "cache")
    resolved = {app.name: app for app in resolve_sources(stack, STACK_FILE, cache).applications}
    assert cache.opened == [source.url]
    (guestbook,) = resolved["guestbook"].sources
    assert guestbook.app_type is AppType.HELM
    assert resolved["all-both"].sources[0].app_type is AppType.KUSTOMIZE  # Argo CD: the lexically last marker wins
    assert resolved["all-monitoring"].sources[0].app_type is AppType.JSONNET
    assert resolved["all-plain"].sources[0].commit == source.head() == resolved["plain"].sources[0].commit
    assert resolved["all-plain"].settings.destination.namespace == "plain"
    assert len(resolved) == 2 + 8


def test_a_credential_template_is_not_a_source_and_helm_repositories_need_a_chart(tmp_path, source):
    stack = settings(
        {
            "repositories": {
                "github": {"url": "https://github.com/acme", "credentialTemplate": True, "credentials": {"password": "t"}},
                "charts": {"url": "https://charts.example.com", "type": "helm"},
            },
            "applications": {
                "one": {"repository": "github", "path": "a", "destination": {"namespace": "a"}},
                "two": {"repository": "charts", "path": "a", "destination": {"namespace": "a"}},
            },
        },
        secret_keys={"repositories"},
    )
    cache = CountingCache(tmp_path / "cache")
    with pytest.raises(SettingsError) as raised:
        resolve_sources(stack, STACK_FILE, cache)
    assert str(raised.value).splitlines() == [
        f'{STACK_FILE}: gitops:applications.one.repository: "github" is a credential template, not a repository: '
        "add the repository itself",
        f'{STACK_FILE}: gitops:applications.two.path: repository "charts" is a Helm repository: set chart, not path',
    ]
    assert cache.opened == []


def test_discovered_names_must_be_kubernetes_names(tmp_path, source):
    discovery = {"repository": "apps", "path": "apps/*", "name": "Team-{name}"}
    stack = settings({"repositories": {"apps": {"url": source.url}}, "discovery": {"all": discovery}})
    with pytest.raises(SettingsError) as raised:
        resolve_sources(stack, STACK_FILE, RepositoryCache(tmp_path / "cache"))
    lines = str(raised.value).splitlines()
    assert len(lines) == 8
    assert lines[0] == f'{STACK_FILE}: gitops:discovery.all.name: folder apps/both gives "Team-both", not a valid Kubernetes name'


def test_repository_secret_holds_credentials_as_secrets_and_nothing_empty():
    repository = RepositorySettings.model_validate(
        {"url": "ssh://git@github.com/acme", "credentialTemplate": True, "credentials": {"sshPrivateKey": "KEY"}}
    )
    secret = repository_secret("github", repository, "argocd")
    assert secret["metadata"] == {
        "name": "creds-github",
        "namespace": "argocd",
        "labels": {"argocd.argoproj.io/secret-type": "repo-creds", "app.kubernetes.io/part-of": "argocd"},
        "annotations": {"pulumi.com/patchForce": "true"},
    }
    assert set(secret["stringData"]) == {"url", "type", "sshPrivateKey"}
    assert isinstance(secret["stringData"]["sshPrivateKey"], SecretStr)


def test_app_project_keeps_the_core_group_and_translates_repository_names():
    repositories = {"apps": RepositorySettings.model_validate({"url": "https://git.example.com/apps.git"})}
    project = ProjectSettings.model_validate(
        {
            "sourceRepos": ["apps", "https://github.com/acme/*"],
            "destinations": [{"name": "in-cluster", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "roles": [{"name": "ci"}],
        }
    )
    assert app_project("team", project, repositories, "argocd")["spec"] == {
        "sourceRepos": ["https://git.example.com/apps.git", "https://github.com/acme/*"],
        "destinations": [{"name": "in-cluster", "namespace": "*"}],
        "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
        "roles": [{"name": "ci"}],
    }


def test_application_pins_the_commit_and_emits_only_what_is_set(tmp_path, source):
    stack = settings(
        {
            "repositories": {"apps": {"url": source.url}},
            "applications": {
                "web": {
                    "repository": "apps",
                    "path": "apps/plain",
                    "revision": "main",
                    "destination": {"namespace": "web"},
                    "directory": {"recurse": False},
                    "syncPolicy": {"syncOptions": [], "retry": {"limit": 0}},
                    "helm": None,
                }
            },
        },
        stack="prd",
    )
    (app,) = resolve_sources(stack, "stacks/Pulumi.prd.yaml", RepositoryCache(tmp_path / "cache")).applications
    assert application(app, "argocd") == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "argocd", "annotations": {"pulumi.com/patchForce": "true"}},
        "spec": {
            "project": "default",
            "source": {"repoURL": source.url, "targetRevision": source.head(), "path": "apps/plain"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        },
    }


def test_credentials_for_a_url_are_chosen_once_as_argo_cd_chooses_them():
    repositories = {
        name: RepositorySettings.model_validate(raw)
        for name, raw in {
            "acme": {"url": "https://GitHub.com/Acme", "credentialTemplate": True, "credentials": {"password": "org"}},
            "team": {"url": "https://github.com/acme/team", "credentialTemplate": True, "credentials": {"password": "team"}},
            "own": {"url": "https://github.com/acme/team/api.git", "credentials": {"password": "own"}},
        }.items()
    }

    def password(url):
        credentials = repository_credentials(url, repositories)
        return None if credentials is None else credentials.password.get_secret_value()

    assert password("https://github.com/acme/team/API") == "own"  # its own, compared normalised
    assert password("https://github.com/acme/team/web.git") == "team"  # the longest template prefix
    assert password("https://github.com/acme/other") == "org"
    assert password("https://gitlab.com/acme/x") is None
