import bcrypt
import pulumi
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from components.argocd import ArgoCD, ArgoCDArgs, secret_leaves
from settings import parse_settings
from tests.registered import find, one

BCRYPT = "$2a$10$" + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0"


def build(argocd: dict, stack: str = "dev") -> ArgoCD:
    settings = parse_settings({"argocd": argocd}, stack, secret_keys={"argocd"})
    provider = k8s.Provider("kubernetes", kubeconfig="/dev/null")
    return ArgoCD("argocd", ArgoCDArgs(settings=settings.argocd), pulumi.ResourceOptions(providers={"kubernetes": provider}))


@pulumi.runtime.test
def test_component_tree_types_parents_and_one_provider(mocks):
    argocd = build({})

    def check(_):
        component = one(mocks, "gitops:argocd:ArgoCD", "argocd")
        assert {r.type for r in find(mocks, parent=component.urn)} == {
            "kubernetes:core/v1:Namespace",
            "kubernetes:core/v1:Secret",
            "pulumi:index:Stash",
            "kubernetes:helm.sh/v4:Chart",
        }
        kubernetes_children = [r for r in mocks.registrations if r.type.startswith("kubernetes:")]
        assert len(kubernetes_children) == 4
        assert {r.provider.rsplit("::", 1)[0] for r in kubernetes_children} == {one(mocks, "pulumi:providers:kubernetes").urn}

    return argocd.chart.urn.apply(check)


@pulumi.runtime.test
def test_the_chart_waits_for_its_namespace_and_the_secrets_its_hooks_would_make(mocks):
    argocd = build({})

    def check(_):
        chart = one(mocks, name="argocd-chart")
        needed = {one(mocks, name=name).urn for name in ["argocd-namespace", "argocd-redis-secret", "argocd-argocd-secret"]}
        assert needed <= set(chart.dependencies)
        assert chart.inputs["chart"] == "argo-cd" and chart.inputs["version"] == "10.1.1"
        assert chart.inputs["repositoryOpts"] == {"repo": "https://argoproj.github.io/argo-helm"}
        assert chart.inputs["name"] == "argocd" and chart.inputs["namespace"] == "argocd"

    return argocd.chart.urn.apply(check)


@pulumi.runtime.test
def test_passwords_are_secrets_and_redis_secret_has_the_key_the_chart_reads(mocks):
    argocd = build({})

    def check(args):
        _, password_is_secret = args
        assert password_is_secret
        redis = one(mocks, name="argocd-redis-secret")
        assert redis.inputs["metadata"]["name"] == "argocd-redis" and set(redis.inputs["stringData"]) == {"auth"}
        assert redis.secret_paths == ["stringData"]
        argocd_secret = one(mocks, name="argocd-argocd-secret")
        assert argocd_secret.secret_paths == ["stringData"]
        assert argocd_secret.inputs["stringData"]["admin.passwordMtime"] == "2025-01-01T00:00:00Z"
        assert argocd_secret.inputs["metadata"]["labels"]["app.kubernetes.io/part-of"] == "argocd"
        assert not one(mocks, name="argocd-chart").secret_paths

    return pulumi.Output.all(argocd.chart.urn, pulumi.Output.from_input(argocd.admin_password).is_secret()).apply(check)


@pulumi.runtime.test
def test_generated_passwords_are_stashed_once_as_secrets_with_a_hash_argo_cd_accepts(mocks):
    argocd = build({})

    def check(args):
        password, _ = args
        stashes = {r.name: r for r in find(mocks, "pulumi:index:Stash")}
        assert set(stashes) == {"argocd-redis-password", "argocd-admin-password"}
        for stash in stashes.values():
            # Without ignoring later inputs the stash would take each run's new value: a diff per run.
            assert stash.ignore_changes == ["input"] and stash.secret_paths == ["input"]
        assert len(password) == 24 and password.isalnum()
        stored_hash = one(mocks, name="argocd-argocd-secret").inputs["stringData"]["admin.password"]
        assert bcrypt.checkpw(password.encode(), stored_hash.encode())
        assert len(stashes["argocd-redis-password"].inputs["input"]["password"]) == 32

    return pulumi.Output.all(argocd.admin_password, argocd.chart.urn).apply(check)


@pulumi.runtime.test
def test_a_supplied_hash_replaces_the_generated_password(mocks):
    argocd = build({"admin": {"passwordHash": BCRYPT}})

    def check(_):
        assert argocd.admin_password is None
        assert [r.name for r in find(mocks, "pulumi:index:Stash")] == ["argocd-redis-password"]
        assert one(mocks, name="argocd-argocd-secret").inputs["stringData"]["admin.password"] == BCRYPT

    return argocd.chart.urn.apply(check)


@pulumi.runtime.test
def test_an_air_gapped_chart_path_or_oci_registry(mocks):
    local = build({"chart": {"path": "./charts/argo-cd-10.1.1.tgz"}})

    def check(_):
        chart = one(mocks, name="argocd-chart").inputs
        assert chart["chart"] == "./charts/argo-cd-10.1.1.tgz" and "repositoryOpts" not in chart and "version" not in chart

    return local.chart.urn.apply(check)


@pulumi.runtime.test
def test_a_private_chart_repository_gets_its_credentials_and_the_password_stays_secret(mocks):
    private = build({"chart": {"repository": "https://charts.internal.example.com", "username": "robot", "password": "s3cr3t"}})

    def check(_):
        chart = one(mocks, name="argocd-chart")
        assert chart.inputs["repositoryOpts"] == {
            "repo": "https://charts.internal.example.com",
            "username": "robot",
            "password": "s3cr3t",
        }
        # The SDK marks the whole block secret when one of its fields is.
        assert chart.secret_paths == ["repositoryOpts"]

    return private.chart.urn.apply(check)


@pulumi.runtime.test
def test_an_oci_registry_chart(mocks):
    oci = build({"chart": {"repository": "oci://registry.example.com/mirror", "version": "10.1.0"}})

    def check(_):
        chart = one(mocks, name="argocd-chart").inputs
        assert chart["chart"] == "oci://registry.example.com/mirror/argo-cd" and chart["version"] == "10.1.0"
        assert oci.app_version is None

    return oci.chart.urn.apply(check)


@pulumi.runtime.test
def test_secret_settings_become_pulumi_secrets_before_the_sdk_sees_them():
    # The SDK wraps a Secret's whole stringData itself; this is the wrapping of each value the
    # component does, which also covers inputs the SDK would not wrap.
    data = secret_leaves({"admin.password": SecretStr("hash"), "admin.passwordMtime": "2025", "list": [SecretStr("key")]})
    assert data["admin.passwordMtime"] == "2025"
    secrets = [data["admin.password"], data["list"][0]]
    assert all(isinstance(value, pulumi.Output) for value in secrets)

    def check(args):
        assert args == [True, True, "hash", "key"]

    return pulumi.Output.all(*[value.is_secret() for value in secrets], *secrets).apply(check)
