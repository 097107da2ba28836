"""`ops` reads statuses Argo CD itself wrote: the Application resources of a stack's state as
`pulumi stack export` held them after the refresh that `drift` and `promote` make, recorded from the
live Argo CD suite (tests/e2e/test_live_argocd.py; GITOPS_RECORD_FIXTURES=tests/fixtures/argocd
records them again). Six applications: guestbook (plain manifests), podinfo (Kustomize), hello (a
chart in git), greeting (two sources), private (a git repository behind a token), charted (a Helm
repository behind a token)."""

import json
import re
from pathlib import Path

import pytest
from pulumi.automation import Deployment

from ops.argocd_status import ApplicationStatus, application_statuses
from ops.drift_report import DriftReport
from ops.promotion_plan import describe_status
from ops.report import drift_markdown

FIXTURES = Path(__file__).parent / "fixtures" / "argocd"
APPS = {"guestbook", "podinfo", "hello", "greeting", "private", "charted"}
SHA = re.compile(r"[0-9a-f]{40}")


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def statuses(name: str) -> dict[str, ApplicationStatus]:
    document = recorded(name)
    found = application_statuses(Deployment(version=document["version"], deployment=document["deployment"]))
    return {status.name: status for status in found}


def report(name: str) -> DriftReport:
    return DriftReport("live", applications=list(statuses(name).values()))


def target_revisions(name: str) -> dict[str, str]:
    """What each Application asks for (its spec), to check the revisions read from its status."""
    found = {}
    for resource in recorded(name)["deployment"]["resources"]:
        spec = resource["outputs"]["spec"]
        sources = spec.get("sources") or [spec["source"]]
        found[resource["outputs"]["metadata"]["name"]] = ",".join(source["targetRevision"] for source in sources)
    return found


def test_every_recording_was_written_by_argo_cd_and_holds_no_secret():
    for path in sorted(FIXTURES.glob("*.json")):
        for resource in json.loads(path.read_text())["deployment"]["resources"]:
            managers = {field["manager"] for field in resource["outputs"]["metadata"]["managedFields"]}
            assert "argocd-application-controller" in managers, path.name
        assert "canary" not in path.read_text(), path.name  # every token of the live suite is a canary


def test_synced_and_healthy_applications_are_clean_and_ready_to_promote_from():
    found = statuses("synced-healthy")
    assert set(found) == APPS
    assert all(
        (s.sync, s.health, s.ready, s.drifted, s.message) == ("Synced", "Healthy", True, False, "") for s in found.values()
    )
    assert report("synced-healthy").exit_code == 0
    # The deployed revision: the pinned commit; both commits of a two-source app; a chart's version.
    assert {name: s.revision for name, s in found.items()} == target_revisions("synced-healthy")
    assert SHA.fullmatch(found["guestbook"].revision)
    assert all(SHA.fullmatch(commit) for commit in found["greeting"].revision.split(","))
    assert found["charted"].revision == "0.1.0"
    assert all(describe_status(name, status) == "" for name, status in found.items())


def test_a_workload_that_never_turns_ready_is_degraded_drift_and_not_promoted():
    found = statuses("degraded")
    guestbook = found["guestbook"]
    assert (guestbook.sync, guestbook.health) == ("Synced", "Degraded")
    assert guestbook.revision == target_revisions("degraded")["guestbook"]
    assert guestbook.drifted and not guestbook.ready
    # Argo CD keeps the reason in its cache, not in the Application (resource health is not persisted).
    assert guestbook.message == ""
    assert describe_status("guestbook", guestbook) == "guestbook is Synced/Degraded"
    assert {name for name, s in found.items() if s.drifted} == {"guestbook"}
    assert report("degraded").exit_code == 2


def test_a_sync_the_api_server_rejected_is_out_of_sync_with_argo_cds_error():
    podinfo = statuses("out-of-sync-sync-failed")["podinfo"]
    assert (podinfo.sync, podinfo.health) == ("OutOfSync", "Healthy")
    assert podinfo.revision == target_revisions("out-of-sync-sync-failed")["podinfo"]
    (error,) = podinfo.errors
    assert error.startswith(f"SyncError: Failed last sync attempt to [{podinfo.revision}]: one or more objects failed to apply")
    assert 'Service "podinfo" is invalid: spec.ports[0].port: Invalid value: 98980' in error
    assert podinfo.details == ("Service podinfo/podinfo: OutOfSync",)
    assert describe_status("podinfo", podinfo) == "podinfo is OutOfSync/Healthy"
    assert report("out-of-sync-sync-failed").exit_code == 2


def test_a_change_made_in_the_cluster_is_out_of_sync_on_that_resource_alone():
    found = statuses("out-of-sync-changed-in-cluster")
    podinfo = found["podinfo"]  # without self-heal
    assert (podinfo.sync, podinfo.health, podinfo.errors) == ("OutOfSync", "Healthy", ())
    assert podinfo.message == "Deployment podinfo/podinfo: OutOfSync"
    assert (found["guestbook"].sync, found["guestbook"].health) == ("Synced", "Healthy")  # healed itself
    assert {name for name, s in found.items() if s.drifted} == {"podinfo"}


def test_a_repository_argo_cd_cannot_read_is_drift_although_its_health_stays_healthy():
    charted = statuses("comparison-error")["charted"]
    assert (charted.sync, charted.health, charted.revision) == ("Unknown", "Healthy", "0.2.0")
    (error,) = charted.errors
    assert error.startswith("ComparisonError: Failed to load target state")
    assert "401 Unauthorized" in error
    assert "--username ****** --password ******" in error  # Argo CD masks the credentials itself
    assert charted.drifted and not charted.ready
    assert report("comparison-error").exit_code == 2


@pytest.mark.parametrize("name", ["out-of-sync-sync-failed", "comparison-error"])
def test_the_reports_show_argo_cds_words(name):
    drifted = report(name)
    application = next(a for a in drifted.to_dict()["applications"] if a["drift"] and a["message"])
    row = next(line for line in drift_markdown(drifted).splitlines() if line.startswith(f"| `{application['name']}` |"))
    assert row.count(" | ") == 5 and application["message"][:60] in row
