"""Fixtures of the end-to-end suite: the toolchain, one local control plane and one project copy per
test module (a module's tests run in order against the same stacks).

Without the toolchain the suite skips with the reason, unless GITOPS_E2E=required (scripts/test.sh
sets it wherever Go is installed and the toolchain was built), where a missing toolchain fails.
"""

import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.harness import RUNNING, AppsRepository, ControlPlane, Project, start_control_plane, toolchain_bin


@pytest.fixture(scope="session")
def toolchain() -> Path:
    found = toolchain_bin()
    if found is None:
        reason = (
            "the real-engine toolchain is not built: run scripts/tools.sh (needs Go 1.26+ and the Go module proxy)"
            if shutil.which("go")
            else "Go is not installed, so the real-engine toolchain (scripts/tools.sh) cannot be built here"
        )
        if os.environ.get("GITOPS_E2E") == "required":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="module")
def control_plane(toolchain, tmp_path_factory) -> ControlPlane:
    plane = start_control_plane(tmp_path_factory.mktemp("cluster"), toolchain)
    yield plane
    plane.stop()


@pytest.fixture(scope="module")
def apps_repo(tmp_path_factory) -> AppsRepository:
    return AppsRepository.create(tmp_path_factory.mktemp("apps"))


@pytest.fixture(scope="module")
def project(toolchain, tmp_path_factory) -> Project:
    return Project.create(tmp_path_factory.mktemp("e2e"), toolchain)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failure (a test's or a fixture's) reports the state of every running control plane."""
    report = yield
    if report.failed:
        for plane in RUNNING:
            report.sections.append((f"control plane {plane.dir.name} at the failure", plane.diagnosis()))
    return report
