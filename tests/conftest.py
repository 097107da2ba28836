import os
from pathlib import Path

import pulumi
import pytest

from ops.mocks import RecordingMocks, install

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_REPOSITORY = "https://github.com/acme/platform-gitops.git"


@pytest.fixture(scope="session", autouse=True)
def example_repository_is_this_checkout():
    """The example stacks read their apps from this repository's public URL; git's own
    `url.<base>.insteadOf` sends that URL to the local checkout, so tests need no network."""
    rewrite = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{PROJECT_DIR}.insteadOf",
        "GIT_CONFIG_VALUE_0": EXAMPLE_REPOSITORY,
    }
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
