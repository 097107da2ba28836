"""The whole program, run under mocks for every stack file, and its offline render."""

import functools
import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from gitsource.redaction import REDACTED
from ops.cli import app
from ops.program import PROJECT_DIR, ProgramRun, run_program
from ops.render import kubernetes_objects, render, to_yaml
from ops.validate import validate_object, validate_objects
from settings import SettingsError
from tests.registered import one


@functools.cache
def program_run(stack: str) -> ProgramRun:
    """One run of each example stack, shared by the tests that only read it."""
    return run_program(stack)


STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (PROJECT_DIR / "stacks").glob("Pulumi.*.yaml"))


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_runs_and_every_object_is_valid(stack):
    run = program_run(stack)
    objects = kubernetes_objects(run)
    assert objects
    problems = [str(p) for _, obj in objects for p in validate_object(obj)]
    assert problems == []
    assert run.outputs["chartVersion"] == ("10.1.1", False)


@pytest.mark.parametrize("stack", STACKS)
def test_one_kubernetes_provider_serves_every_kubernetes_resource(stack):
    run = program_run(stack)
    provider = one(run, "pulumi:providers:kubernetes")
    users = {r.provider.rsplit("::", 1)[0] for r in run.registrations if r.type.startswith("kubernetes:")}
    assert users == {provider.urn}
    # A changed argocd-cm or argocd-secret is updated in place: a replacement would be refused on a
    # protected stack, and would drop the keys Argo CD writes into argocd-secret.
    assert (provider.inputs["enableConfigMapMutable"], provider.inputs["enableSecretMutable"]) == ("true", "true")


@pytest.mark.parametrize("stack", STACKS)
def test_pulumi_takes_back_the_fields_it_declares_on_every_object_the_chart_included(stack):
    run = program_run(stack)
    objects = [obj for _, obj in kubernetes_objects(run)] + [child.state for child in run.children.values()]
    assert objects and run.children  # the chart's objects, as the mocked chart makes them
    unowned = [
        obj["metadata"]["name"]
        for obj in objects
        if obj["metadata"].get("annotations", {}).get("pulumi.com/patchForce") != "true"
    ]
    assert unowned == []


def test_eks_stack_looks_up_its_cluster_and_authenticates_with_aws_eks_get_token():
    run = program_run("dev")
    assert [args["name"] for token, args in run.invokes if token == "aws:eks/getCluster:getCluster"] == ["platform-dev"]
    kubeconfig = json.loads(one(run, "pulumi:providers:kubernetes").inputs["kubeconfig"])
    user = kubeconfig["users"][0]["user"]["exec"]
    assert user["command"] == "aws"
    assert user["args"][:4] == ["eks", "get-token", "--cluster-name", "platform-dev"]
    assert "--role-arn" in user["args"] and "token" not in kubeconfig["users"][0]["user"]
    aws = one(run, "pulumi:providers:aws")
    assert aws.inputs["region"] == "eu-west-1"
    # The role the token assumes is the account of the cluster lookup, the certificate and DNS too.
    role = user["args"][user["args"].index("--role-arn") + 1]
    assert json.loads(aws.inputs["assumeRoles"]) == [{"roleArn": role}]


def test_production_protects_every_resource_and_development_none():
    # A refused `pulumi destroy` must not delete the unprotected part on its way to the protected one.
    production = [r for r in program_run("prd").registrations if r.type != "pulumi:providers:kubernetes"]
    unprotected = [r.name for r in production if not r.protect and not r.type.startswith("pulumi:providers:")]
    assert unprotected == []
    assert not [r.name for r in program_run("dev").registrations if r.protect]


def test_gke_stack_uses_the_gke_auth_plugin():
    run = program_run("prd")
    assert [args["name"] for token, args in run.invokes if token == "gcp:container/getCluster:getCluster"] == ["platform-prd"]
    kubeconfig = json.loads(one(run, "pulumi:providers:kubernetes").inputs["kubeconfig"])
    assert kubeconfig["users"][0]["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert kubeconfig["clusters"][0]["cluster"]["server"] == "https://203.0.113.10"


def test_kubeconfig_stack_uses_its_context_and_no_cloud():
    run = program_run("local")
    assert run.invokes == []
    provider = one(run, "pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-gitops"


@pytest.mark.parametrize(
    ("stack", "absent"), [("local", ["pulumi_aws", "pulumi_gcp"]), ("dev", ["pulumi_gcp"]), ("prd", ["pulumi_aws"])]
)
def test_a_stack_imports_only_the_cloud_sdk_its_cluster_needs(stack, absent):
    code = (
        "import sys; from ops.program import run_program; run_program(sys.argv[1]); "
        "print(' '.join(m for m in sys.argv[2:] if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, stack, *absent], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_program_freezes_what_it_made_for_its_exit_and_an_in_process_caller_gets_it_back():
    code = (
        "import gc, sys; from ops.program import run_program; {pause}run_program('local'); "
        "print(gc.isenabled(), gc.get_freeze_count() > 0)"
    )

    def after_run(pause: str) -> str:
        command = [sys.executable, "-c", code.format(pause=pause)]
        return subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, check=True).stdout.strip()

    assert after_run("gc.disable(); ") == "False True"  # as the engine runs it: nothing for the exit to walk
    assert after_run("") == "True False"  # a caller that collects gets its objects back to collect


def test_bad_settings_stop_the_program_before_any_resource(tmp_path):
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text("config:\n  gitops:argocd:\n    ha: 'yes'\n")
    with pytest.raises(SettingsError, match=r'^stacks/Pulumi.dev.yaml: gitops:argocd.ha: expected true or false, got "yes"$'):
        run_program("dev", stack_file=stack_file)


def test_render_writes_objects_charts_and_resources_and_redacts_secrets(tmp_path):
    run = program_run("dev")
    rendered = render(run, tmp_path)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert "dev/charts/argocd-chart.yaml" in files and "dev/resources.json" in files
    assert "dev/namespace-argocd.yaml" in files and "dev/secret-argocd-argocd-redis.yaml" in files
    redis = (tmp_path / "dev/secret-argocd-argocd-redis.yaml").read_text()
    assert f"auth: {REDACTED}" in redis and "rendered-" not in redis
    outputs = json.loads((tmp_path / "dev/outputs.json").read_text())
    assert outputs["adminPassword"] == REDACTED
    # The address the chart's Ingress got from the mocked load balancer controller, as the DNS record names it.
    record = one(run, "aws:route53/record:Record", "dashboard-address-record")
    assert outputs["loadBalancerAddress"] == record.inputs["aliases"][0]["name"]
    assert outputs["loadBalancerAddress"].endswith(".elb.amazonaws.com")
    resources = json.loads((tmp_path / "dev/resources.json").read_text())
    secret = next(r for r in resources if r["name"] == "argocd-redis-secret")
    assert secret["secretInputs"] == ["stringData"] and secret["parent"].endswith("gitops:argocd:ArgoCD::argocd")
    chart_objects = sum(len(rendering.objects) for rendering in rendered.chart_renderings)
    written = [*rendered.directory.glob("*.yaml"), *rendered.directory.glob("chart-*/*.yaml")]
    assert len(written) == len(rendered.objects) + chart_objects
    assert {path: yaml.safe_load(path.read_text()) for path in written} == rendered.every_object()
    assert validate_objects(list(rendered.every_object().values())) == []


def test_rendering_twice_is_byte_identical(tmp_path):
    render(run_program("prd"), tmp_path / "a")
    render(run_program("prd"), tmp_path / "b")
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert first == second


def test_the_render_writes_what_pyyamls_pure_python_dumper_writes():
    """to_yaml uses libyaml's emitter; a render must not change with it, the awkward scalars included."""
    document = {
        "metadata": {"name": "app", "annotations": {"long": "word " * 40, "empty": "", "colon": "a: b", "hash": "#x"}},
        "data": {"multi": "line one\nline two\n", "trailing": "ends with space ", "unicode": "café ✓", "tab": "a\tb"},
        "looks_like": ["yes", "no", "null", "~", "1.0", "0x1F", "2024-01-01", "*star", "&amp", "!tag", "-", "'q'", '"d"'],
        "numbers": [0, -1, 1.5, 1e20, True, None],
        "nested": [{"b": [], "a": {}}, [1, [2, [3]]]],
        "key with spaces": {"ünïcode key": 1},
        "folded": ["a b " * 100 + "\n", "é" * 70 + " " + "é" * 70],  # libyaml folds these two differently
    }
    plain = {"metadata": {"name": "app", "labels": {"a": "b" * 200}}, "spec": {"list": ["x y " * 60, "'", '"', 1.5]}}
    for each in (document, plain):
        assert to_yaml(each) == yaml.safe_dump(each, sort_keys=True, default_flow_style=False, width=120)


def test_validation_reports_every_bad_object_with_its_field():
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}, "spce": {}}
    application = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "Bad_Name"},
        "spec": {"project": "default", "destination": {"namespace": "x"}, "source": {"repoURL": "r", "revison": "main"}},
    }
    text = "\n".join(map(str, validate_objects([namespace, application])))
    assert "'spce' was unexpected" in text
    assert "spec.source: Additional properties are not allowed ('revison' was unexpected)" in text
    assert "metadata.name: 'Bad_Name' is not a valid DNS-1123 name" in text


def test_a_kubernetes_object_gets_every_problem_and_an_unknown_kind_gets_one():
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"replicas": "two", "selector": {}, "template": {}, "paused": "no"},
    }
    problems = [str(p) for p in validate_object(deployment)]
    assert any("spec.replicas: 'two' is not of type 'integer'" in p for p in problems), problems
    assert any("spec.paused: 'no' is not of type 'boolean'" in p for p in problems), problems
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert [str(p) for p in validate_object(unknown)] == [
        "example.com/v1 Widget w: (root): no schema for this kind in Kubernetes 1.33 or Argo CD's CRDs"
    ]


@pytest.mark.parametrize("version", ["1.99", "1.2", "latest"])
def test_cli_render_refuses_a_kubernetes_version_it_has_no_schemas_for(tmp_path, version):
    result = CliRunner().invoke(app, ["render", "--stack", "local", "--out", str(tmp_path), "--kubernetes-version", version])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: no Kubernetes schemas for version '{version}': kubernetes-validate has 1.25.0 to 1.37.0"
    ]
    assert not (tmp_path / "local").exists()


def test_cli_render_exit_codes(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(app, ["render", "--stack", "local", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "local" / "resources.json").exists()
    unknown = runner.invoke(app, ["render", "--stack", "nope", "--out", str(tmp_path)])
    assert unknown.exit_code == 1 and "unknown stack 'nope': no stacks/Pulumi.nope.yaml" in unknown.output
