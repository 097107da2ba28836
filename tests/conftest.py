import pulumi
import pytest

from ops.mocks import RecordingMocks, install


@pytest.fixture
def mocks() -> RecordingMocks:
    """Fresh recording mocks for a `dev` stack with empty config; inspect them after awaiting outputs."""
    recording = install("gitops", "dev", {}, set())
    yield recording
    pulumi.runtime.reset_options()
