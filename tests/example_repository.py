"""The example stacks read their apps from this repository's public URL. Git's own
`url.<base>.insteadOf` sends that URL to the local checkout, so tests and benchmarks need no
network (scripts/render.sh sets the same variables)."""

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
EXAMPLE_REPOSITORY = "https://github.com/acme/platform-gitops.git"


def example_repository_env(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    return {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": f"url.file://{project_dir}.insteadOf",
        "GIT_CONFIG_VALUE_0": EXAMPLE_REPOSITORY,
    }
