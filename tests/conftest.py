import os

import pulumi
import pytest

from ops.mocks import RecordingMocks, install
from tests.example_repository import example_repository_env


@pytest.fixture(scope="session", autouse=True)
def example_repository_is_this_checkout():
    """See tests/example_repository.py."""
    rewrite = example_repository_env()
    saved = {key: os.environ.get(key) for key in rewrite}
    os.environ.update(rewrite)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def mocks() -> RecordingMocks:
    """Fresh recording mocks for a `dev` stack with empty config; inspect them after awaiting outputs."""
    recording = install("gitops", "dev", {}, set())
    yield recording
    pulumi.runtime.reset_options()
