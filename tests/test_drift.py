"""Drift interpretation, fed with the Automation API's own event and state types."""

import pytest
from pulumi.automation import (
    CommandError,
    CommandResult,
    ConcurrentUpdateError,
    Deployment,
    DiagnosticEvent,
    DiffKind,
    EngineEvent,
    OpType,
    PropertyDiff,
    ResOpFailedEvent,
    ResourcePreEvent,
    ResOutputsEvent,
    StepEventMetadata,
    StepEventStateMetadata,
    SummaryEvent,
)
from pulumi.automation.errors import create_command_error

from gitsource.redaction import REDACTED
from ops.argocd_status import APPLICATION_TYPE, application_statuses
from ops.drift import detect_drift
from ops.drift_report import DriftReport, ResourceDrift
from ops.engine_events import drift_from_events, is_noise, preview_outcome, resource_drift, split_path
from ops.errors import OpsError
from ops.reconcile import ReconcileAction, decide_reconcile
from ops.report import drift_markdown
from tests.fake_stack import FakeStack, argocd_application

DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def urn(name, type_=DEPLOYMENT_TYPE, stack="dev"):
    return f"urn:pulumi:{stack}::gitops::{type_}::{name}"


def step(name, op, detailed=None, diffs=None, type_=DEPLOYMENT_TYPE, keys=None):
    state = StepEventStateMetadata(type=type_, urn=urn(name, type_), id=name, parent="", provider="")
    return StepEventMetadata(
        op=op,
        urn=urn(name, type_),
        type=type_,
        provider="urn:pulumi:dev::gitops::pulumi:providers:kubernetes::k8s::id",
        old=state,
        new=state,
        diffs=diffs,
        keys=keys,
        detailed_diff={path: PropertyDiff(kind, input_diff=False) for path, kind in (detailed or {}).items()},
    )


def pre(metadata, sequence=1):
    return EngineEvent(sequence=sequence, timestamp=0, resource_pre_event=ResourcePreEvent(metadata, planning=True))


def outputs(metadata, sequence=2):
    return EngineEvent(sequence=sequence, timestamp=0, res_outputs_event=ResOutputsEvent(metadata, planning=True))


def summary(**changes):
    event = SummaryEvent(maybe_corrupt=False, duration_seconds=1, resource_changes=changes, policy_packs={})
    return EngineEvent(sequence=99, timestamp=0, summary_event=event)


def diagnostic(message, severity="error"):
    event = DiagnosticEvent(message=message, color="never", severity=severity)
    return EngineEvent(sequence=50, timestamp=0, diagnostic_event=event)


def command_error(stderr, code=255, kind=CommandError):
    return kind(CommandResult(stdout="", stderr=stderr, code=code))


EXPECTED_CHANGES = "error: no changes were expected but changes were proposed"


# --- property paths ---------------------------------------------------------------------------


def test_split_path_reads_dots_indexes_and_quoted_keys():
    assert split_path('metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]') == (
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    )
    assert split_path("spec.template.spec.containers[0].image") == ("spec", "template", "spec", "containers", 0, "image")
    assert split_path('data["a\\"b"]') == ("data", 'a"b')


@pytest.mark.parametrize(
    "path",
    [
        "status",
        "status.sync.status",
        "metadata.resourceVersion",
        "metadata.managedFields[0].time",
        "metadata.generation",
        "metadata.uid",
        "metadata.creationTimestamp",
        'metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]',
        "__inputs",
        "__fieldsets[0]",
        "spec.__defaults",
    ],
)
def test_noise_paths(path):
    assert is_noise(path)


@pytest.mark.parametrize(
    "path",
    [
        "spec.replicas",
        "metadata.labels.app",
        'metadata.annotations["team"]',
        "metadata",
        "data.password",
        "spec.source.targetRevision",
        "statusMessage",
    ],
)
def test_real_paths_are_not_noise(path):
    assert not is_noise(path)


# --- events -----------------------------------------------------------------------------------


def test_update_with_only_noise_is_not_drift():
    metadata = step(
        "web",
        OpType.UPDATE,
        detailed={"status.readyReplicas": DiffKind.UPDATE, "metadata.resourceVersion": DiffKind.UPDATE},
    )
    assert resource_drift([metadata]) is None


def test_update_keeps_real_changes_and_lists_the_ignored_noise():
    metadata = step(
        "web",
        OpType.UPDATE,
        detailed={"spec.replicas": DiffKind.UPDATE, "metadata.managedFields": DiffKind.UPDATE, "data.x": DiffKind.DELETE},
    )
    drift = resource_drift([metadata])
    assert drift is not None
    assert drift.operation == "update"
    assert drift.name == "web"
    assert [(c.path, c.kind) for c in drift.changes] == [("data.x", "delete"), ("spec.replicas", "update")]
    assert drift.ignored == ("metadata.managedFields",)


def test_top_level_diffs_are_used_when_no_detailed_diff():
    drift = resource_drift([step("web", OpType.UPDATE, diffs=["spec", "status"])])
    assert drift is not None
    assert [c.path for c in drift.changes] == ["spec"]
    assert drift.ignored == ("status",)
    assert resource_drift([step("web", OpType.UPDATE, diffs=["status"])]) is None


def test_same_read_and_refresh_steps_are_not_drift():
    for op in (OpType.SAME, OpType.READ, OpType.REFRESH):
        assert resource_drift([step("web", op, detailed={"spec.replicas": DiffKind.UPDATE})]) is None


def test_created_deleted_and_replaced_resources_are_drift_even_without_paths():
    assert resource_drift([step("gone", OpType.CREATE)]).operation == "create"
    assert resource_drift([step("extra", OpType.DELETE)]).operation == "delete"
    replacement = [
        step("cm", OpType.CREATE_REPLACEMENT, keys=["metadata"]),
        step("cm", OpType.REPLACE, keys=["metadata"]),
        step("cm", OpType.DELETE_REPLACED),
    ]
    drift = resource_drift(replacement)
    assert drift.operation == "replace"
    assert [c.path for c in drift.changes] == ["metadata"]


def test_the_stack_resource_is_never_drift():
    assert resource_drift([step("gitops-dev", OpType.UPDATE, diffs=["outputs"], type_="pulumi:pulumi:Stack")]) is None


def test_drift_from_events_merges_pre_and_outputs_events_per_resource():
    web = step("web", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE})
    noisy = step("api", OpType.UPDATE, detailed={"status.conditions": DiffKind.UPDATE})
    same = step("db", OpType.SAME)
    events = [pre(web, 1), pre(noisy, 2), pre(same, 3), outputs(web, 4), outputs(noisy, 5), summary(update=2, same=1)]
    drifted = drift_from_events(events)
    assert [d.name for d in drifted] == ["web"]
    assert [c.path for c in drifted[0].changes] == ["spec.replicas"]


# --- telling drift from failure ---------------------------------------------------------------


def test_a_clean_preview_has_no_drift():
    assert preview_outcome([pre(step("web", OpType.SAME)), summary(same=1)], None, "dev") == []


def test_the_expected_changes_failure_with_a_summary_is_drift():
    events = [pre(step("web", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE})), summary(update=1)]
    drift = preview_outcome(events, command_error(EXPECTED_CHANGES, code=7), "dev")
    assert [d.name for d in drift] == ["web"]


def test_noise_only_changes_that_fail_expect_no_changes_are_clean():
    events = [pre(step("web", OpType.UPDATE, detailed={"status.phase": DiffKind.UPDATE})), summary(update=1)]
    assert preview_outcome(events, command_error(EXPECTED_CHANGES), "dev") == []


def test_a_failure_without_a_summary_is_an_error_not_drift():
    with pytest.raises(OpsError, match="cluster unreachable"):
        preview_outcome([], command_error("error: configured Kubernetes cluster is unreachable: dial tcp"), "dev")


def test_an_aborted_preview_is_an_error_even_with_the_expected_changes_message():
    # The engine stopped before its summary: the changes seen so far are not all there is.
    events = [pre(step("web", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE}))]
    with pytest.raises(OpsError, match=r"^preview of stack 'dev' failed: no changes were expected"):
        preview_outcome(events, command_error(EXPECTED_CHANGES, code=7), "dev")


def test_an_engine_error_is_an_error_even_with_the_expected_changes_message():
    events = [
        pre(step("web", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE})),
        diagnostic("\x1b[31mSettingsError: stacks/Pulumi.dev.yaml: gitops:drift.reconcile: expected one of\x1b[0m\nmore"),
        summary(update=1),
    ]
    with pytest.raises(OpsError) as raised:
        preview_outcome(events, command_error(EXPECTED_CHANGES), "dev")
    assert str(raised.value) == (
        "preview of stack 'dev' failed: SettingsError: stacks/Pulumi.dev.yaml: gitops:drift.reconcile: expected one of"
    )


def test_a_failed_resource_operation_is_an_error():
    failed = EngineEvent(
        sequence=3, timestamp=0, res_op_failed_event=ResOpFailedEvent(step("web", OpType.UPDATE), status=1, steps=1)
    )
    with pytest.raises(OpsError, match="update of web failed"):
        preview_outcome([failed, summary(update=1)], command_error(EXPECTED_CHANGES), "dev")


def test_warnings_do_not_turn_drift_into_an_error():
    events = [diagnostic("deprecated", severity="warning"), pre(step("web", OpType.DELETE)), summary(delete=1)]
    assert [d.operation for d in preview_outcome(events, command_error(EXPECTED_CHANGES), "dev")] == ["delete"]


# --- state ------------------------------------------------------------------------------------


def test_application_statuses_read_sync_health_and_revision():
    deployment = Deployment(
        version=3,
        deployment={
            "resources": [
                {"urn": urn("web"), "type": DEPLOYMENT_TYPE, "outputs": {"status": {"replicas": 1}}},
                argocd_application("guestbook", "OutOfSync", "Degraded", "a" * 40),
                argocd_application("api", "Synced", "Healthy", "b" * 40),
                {"urn": urn("fresh", APPLICATION_TYPE), "type": APPLICATION_TYPE, "outputs": {"metadata": {"name": "fresh"}}},
            ]
        },
    )
    statuses = {s.name: s for s in application_statuses(deployment)}
    assert set(statuses) == {"guestbook", "api", "fresh"}
    assert (statuses["guestbook"].sync, statuses["guestbook"].health, statuses["guestbook"].revision) == (
        "OutOfSync",
        "Degraded",
        "a" * 40,
    )
    assert statuses["api"].ready and not statuses["guestbook"].ready
    assert (statuses["fresh"].sync, statuses["fresh"].health, statuses["fresh"].revision) == ("Unknown", "Unknown", "")


def test_secret_state_values_stay_masked():
    app = argocd_application("guestbook", "Synced", "Healthy", "x")
    app["outputs"]["status"]["sync"]["revision"] = {SECRET_SIG: "1b47061264138c4ac30d75fd1eb44270", "plaintext": '"hunter2"'}
    (status,) = application_statuses(Deployment(version=3, deployment={"resources": [app]}))
    assert status.revision == REDACTED
    assert "hunter2" not in str(DriftReport("dev", applications=[status]).to_dict())


# --- the report and its exit codes ------------------------------------------------------------


def test_exit_codes():
    drifted = ResourceDrift(urn("web"), DEPLOYMENT_TYPE, "web", "update")
    assert DriftReport("dev").exit_code == 0
    assert DriftReport("dev", resources=[drifted]).exit_code == 2
    assert DriftReport("dev", error="stack locked").exit_code == 1
    assert DriftReport("dev", resources=[drifted], error="half way").exit_code == 1


def test_an_out_of_sync_or_degraded_application_is_drift_and_a_progressing_or_unseen_one_is_not():
    def exit_code(sync, health):
        (status,) = application_statuses(Deployment(3, {"resources": [argocd_application("a", sync, health, "x")]}))
        return DriftReport("dev", applications=[status]).exit_code

    assert exit_code("OutOfSync", "Healthy") == 2
    assert exit_code("Synced", "Degraded") == 2  # a workload that does not run is not what git declares
    assert exit_code("Synced", "Missing") == 2
    assert exit_code("Synced", "Progressing") == 0
    assert exit_code("Synced", "Healthy") == 0
    fresh = {"urn": urn("fresh", APPLICATION_TYPE), "type": APPLICATION_TYPE, "outputs": {"metadata": {"name": "fresh"}}}
    (unseen,) = application_statuses(Deployment(3, {"resources": [fresh]}))
    assert DriftReport("dev", applications=[unseen]).exit_code == 0  # no Argo CD has looked at it yet


def test_markdown_report_escapes_cells_and_names_the_stack():
    drifted = resource_drift([step("web|1", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE})])
    text = drift_markdown(DriftReport("stg", resources=[drifted]))
    assert "Drift detected in stack stg" in text
    assert "| `web\\|1` | `kubernetes:apps/v1:Deployment` | update | spec.replicas (update) |" in text
    assert "Drift check failed for stack stg: locked" in drift_markdown(DriftReport("stg", error="locked"))
    assert "No drift in stack stg" in drift_markdown(DriftReport("stg"))


@pytest.mark.parametrize(
    ("policy", "has_drift", "yes", "action"),
    [
        ("auto", False, False, ReconcileAction.NOTHING),
        ("report", False, True, ReconcileAction.NOTHING),
        ("auto", True, False, ReconcileAction.APPLY),
        ("confirm", True, False, ReconcileAction.NEEDS_CONFIRMATION),
        ("confirm", True, True, ReconcileAction.APPLY),
        ("report", True, False, ReconcileAction.REPORT_ONLY),
        ("report", True, True, ReconcileAction.REPORT_ONLY),
    ],
)
def test_reconcile_policy(policy, has_drift, yes, action):
    assert decide_reconcile(policy, has_drift, yes) is action


def test_reconcile_does_not_apply_when_only_argo_cd_applications_drifted():
    assert decide_reconcile("auto", True, False, resources_drifted=False) is ReconcileAction.ARGO_ONLY
    assert decide_reconcile("confirm", True, False, resources_drifted=False) is ReconcileAction.NEEDS_CONFIRMATION


# --- detect_drift against a fake stack --------------------------------------------------------


def test_detect_drift_refreshes_then_previews_expecting_no_changes():
    events = [pre(step("web", OpType.UPDATE, detailed={"spec.replicas": DiffKind.UPDATE})), summary(update=1)]
    stack = FakeStack(events, command_error(EXPECTED_CHANGES), resources=[argocd_application("guestbook")])
    report = detect_drift(stack, "dev")
    assert stack.calls == ["refresh", "preview", "export"]
    assert stack.previews[0]["expect_no_changes"] is True
    assert report.status == "drift"
    assert [a.name for a in report.applications] == ["guestbook"]


def test_detect_drift_reports_a_preview_that_never_sent_its_summary_as_an_error():
    # What the SDK raises when the CLI's event log ends without a summary event.
    stack = FakeStack([pre(step("web", OpType.UPDATE))], RuntimeError("summary event never found"))
    with pytest.raises(OpsError, match=r"^preview of stack 'dev' failed: summary event never found$"):
        detect_drift(stack, "dev")
    assert "export" not in stack.calls


def test_detect_drift_reports_a_locked_stack_as_an_error():
    # The SDK's own classification turns the CLI's lock message into ConcurrentUpdateError.
    locked = create_command_error(CommandResult(stdout="", stderr="error: the stack is currently locked by 1 lock(s)", code=255))
    assert isinstance(locked, ConcurrentUpdateError)
    stack = FakeStack([], refresh_error=locked)
    with pytest.raises(OpsError, match="locked by another update"):
        detect_drift(stack, "dev")
