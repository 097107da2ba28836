"""Break one important behaviour at a time in a scratch copy of the project and see whether the unit
tests notice. Every mutant must be caught: one that survives is a behaviour no test guards.

Run: .venv/bin/python scripts/mutants.py [--only TEXT] [--keep]

The scratch copy is a clone of this checkout (the example stacks read their apps from its history,
with a local `main`) with the working tree copied over it, uncommitted changes included. Each
mutant replaces one exact piece of text (found exactly once); the tests it names run first, and
only when they pass does the whole unit suite run. Exit status: 0 when every mutant was caught.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Mutant:
    behaviour: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    """The test files most likely to catch it, run before the whole suite."""


MUTANTS = [
    Mutant(
        "render: a secret value is shown instead of REDACTED",
        "ops/render.py",
        "        return [_redact_all(v) for v in value]\n    return REDACTED",
        "        return [_redact_all(v) for v in value]\n    return value",
        ("tests/test_program.py", "tests/test_applications_program.py"),
    ),
    Mutant(
        "render: a secret stack output is written in plain text",
        "ops/render.py",
        "REDACTED if secret else value for name",
        "value for name",
        ("tests/test_program.py",),
    ),
    Mutant(
        "messages: a credential in git's output is left in",
        "gitsource/redaction.py",
        "        text = text.replace(variant, REDACTED)",
        "        text = text.replace(variant, variant)",
        ("tests/test_gitsource_redaction.py",),
    ),
    Mutant(
        "reports: a secret in the refreshed state is read in plain text",
        "ops/argocd_status.py",
        "    if isinstance(value, Mapping) and _SECRET_SIGNATURE in value:\n        return REDACTED",
        "    if isinstance(value, Mapping) and _SECRET_SIGNATURE in value:\n        return str(value)",
        ("tests/test_drift.py",),
    ),
    Mutant(
        "secrets: a secret setting reaches the SDK as a plain value",
        "components/argocd.py",
        "        return pulumi.Output.secret(value.get_secret_value())",
        "        return pulumi.Output.from_input(value.get_secret_value())",
        ("tests/test_argocd_component.py",),
    ),
    Mutant(
        "TLS: argocd-server stays insecure behind a TLS passthrough",
        "components/dashboard_values.py",
        'server_insecure = tls_ends_at != "argocd-server"',
        "server_insecure = True",
        ("tests/test_dashboard_values.py",),
    ),
    Mutant(
        "TLS: the proxy speaks HTTP to a TLS-serving argocd-server",
        "components/dashboard_values.py",
        'backend_protocol="HTTP" if server_insecure else "HTTPS"',
        'backend_protocol="HTTP"',
        ("tests/test_dashboard_values.py",),
    ),
    Mutant(
        "pinning: an Application follows the requested revision instead of its commit",
        "components/app_sources.py",
        "return self.commit if self.pinned else self.settings.revision",
        "return self.settings.revision",
        ("tests/test_applications.py", "tests/test_applications_program.py"),
    ),
    Mutant(
        "pinning: the applications output names no commit",
        "components/app_sources.py",
        '"commit": self.commit if self.pinned else None,',
        '"commit": None,',
        ("tests/test_applications_program.py",),
    ),
    Mutant(
        "drift: an error exits 2, as drift does",
        "ops/drift_report.py",
        '{"clean": 0, "error": 1, "drift": 2}',
        '{"clean": 0, "error": 2, "drift": 2}',
        ("tests/test_drift.py", "tests/test_ops_cli_drift.py"),
    ),
    Mutant(
        "drift: drift exits 0, as clean does",
        "ops/drift_report.py",
        '{"clean": 0, "error": 1, "drift": 2}',
        '{"clean": 0, "error": 1, "drift": 0}',
        ("tests/test_drift.py", "tests/test_ops_cli_drift.py"),
    ),
    Mutant(
        "drift: an application Argo CD found Degraded is not drift",
        "ops/argocd_status.py",
        "return self.out_of_sync or self.health in UNHEALTHY or bool(self.errors)",
        "return self.out_of_sync or bool(self.errors)",
        ("tests/test_drift.py", "tests/test_argocd_statuses.py"),
    ),
    Mutant(
        "drift: an application whose source Argo CD cannot read is not drift",
        "ops/argocd_status.py",
        "return self.out_of_sync or self.health in UNHEALTHY or bool(self.errors)",
        "return self.out_of_sync or self.health in UNHEALTHY",
        ("tests/test_argocd_statuses.py",),
    ),
    Mutant(
        "drift: a preview that never sent its summary counts as drift",
        "ops/engine_events.py",
        "if not problems and finished and _EXPECTED_CHANGES",
        "if not problems and _EXPECTED_CHANGES",
        ("tests/test_drift.py",),
    ),
    Mutant(
        "drift: a usage error exits 2, which CI reads as drift",
        "ops/cli.py",
        "                error.exit_code = 1  # type: ignore[attr-defined]",
        "                error.exit_code = 2  # type: ignore[attr-defined]",
        ("tests/test_ops_cli_drift.py",),
    ),
    Mutant(
        "promotion: skipping a stage is accepted",
        "ops/promotion_plan.py",
        "    if accepted != source:",
        "    if False:",
        ("tests/test_promote.py", "tests/test_ops_cli_promote.py"),
    ),
    Mutant(
        "promotion: a source that is not Synced and Healthy is promoted",
        "ops/promotion_plan.py",
        "    if not_ready and not force:",
        "    if False:",
        ("tests/test_promote.py", "tests/test_ops_cli_promote.py"),
    ),
    Mutant(
        "promotion: uncommitted changes are committed along",
        "ops/promotion_branch.py",
        "    if repo.head.is_valid() and repo.is_dirty(index=True, working_tree=True, untracked_files=False):",
        "    if False:",
        ("tests/test_promote.py", "tests/test_ops_cli_promote.py"),
    ),
    Mutant(
        "promotion: a commit the repository lacks is promoted",
        "ops/commits.py",
        "        if not has_commit(change.repository, change.new):",
        "        if False:",
        ("tests/test_promote.py", "tests/test_ops_cli_promote.py"),
    ),
    Mutant(
        "settings: an error line leaves out the key to change",
        "settings/errors.py",
        'self.lines.append(redact(f"{self.stack_file}: {key}: {message}", scrubbed))',
        'self.lines.append(redact(f"{self.stack_file}: {message}", scrubbed))',
        ("tests/test_settings.py", "tests/test_bad_input.py"),
    ),
    Mutant(
        "settings: a nested key is named without its parents",
        "settings/errors.py",
        "                self.add(full_key(path), message)",
        "                self.add(full_key(path[-1:]), message)",
        ("tests/test_settings.py", "tests/test_bad_input.py"),
    ),
    Mutant(
        "DNS: the ACM validation record takes the value as its name",
        "components/dashboard.py",
        "name=option.apply(lambda o: o.resource_record_name if o else None),",
        "name=option.apply(lambda o: o.resource_record_value if o else None),",
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "DNS: the certificate is validated without waiting for its record",
        "components/dashboard.py",
        "validation_record_fqdns=[record.fqdn],",
        "validation_record_fqdns=[],",
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "DNS: the host's alias record names the host instead of the load balancer",
        "components/dashboard.py",
        'aliases=[{"name": self.load_balancer_address, ',
        'aliases=[{"name": settings.host, ',
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "DNS: the Cloud DNS record names the address's name, not its IP",
        "components/dashboard.py",
        "rrdatas=[address.address],",
        "rrdatas=[address.name],",
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "address: loadBalancerAddress is read from the gRPC Ingress",
        "components/dashboard.py",
        'if _field(metadata, "name") == SERVER_SERVICE',
        'if _field(metadata, "name") != SERVER_SERVICE',
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "address: GKE's address is read back from its Ingress instead of the static IP",
        "components/dashboard_values.py",
        'address_source="static-ip" if settings.ingress == "gke" else "ingress-status",',
        'address_source="ingress-status",',
        ("tests/test_dashboard_component.py", "tests/test_dashboard_values.py"),
    ),
    Mutant(
        "address: an ALB's hostname is skipped for an IP it does not have",
        "components/dashboard.py",
        'found = _field(entry, "hostname") or _field(entry, "ip")',
        'found = _field(entry, "ip")',
        ("tests/test_dashboard_component.py",),
    ),
    Mutant(
        "state: generated passwords are stashed anew on every run",
        "components/argocd.py",
        'ignore_changes=["input"]',
        "ignore_changes=[]",
        ("tests/test_argocd_component.py",),
    ),
    Mutant(
        "ownership: objects the program makes do not take their fields back",
        "components/ownership.py",
        'PATCH_FORCE = {"pulumi.com/patchForce": "true"}',
        'PATCH_FORCE = {"pulumi.com/patchForce": "false"}',
        ("tests/test_program.py", "tests/test_applications_fields.py"),
    ),
    Mutant(
        "ownership: the chart's objects do not take their fields back",
        "components/argocd.py",
        "transforms=[take_ownership],",
        "transforms=[],",
        ("tests/test_program.py",),
    ),
    Mutant(
        "protection: production leaves Argo CD's applications unprotected",
        "__main__.py",
        '    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, protect=protect),\n)\n\npulumi.export',
        '    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),\n)\n\npulumi.export',
        ("tests/test_program.py",),
    ),
    Mutant(
        "protection: production leaves the dashboard's cloud resources unprotected",
        "__main__.py",
        "    opts=pulumi.ResourceOptions(providers=[cloud] if cloud else None, protect=protect),",
        "    opts=pulumi.ResourceOptions(providers=[cloud] if cloud else None),",
        ("tests/test_program.py",),
    ),
    Mutant(
        "provider: a changed argocd-cm is replaced, not updated in place",
        "components/cluster.py",
        '"enable_config_map_mutable": True,',
        '"enable_config_map_mutable": False,',
        ("tests/test_program.py",),
    ),
]


def scratch_copy(directory: Path) -> Path:
    """A clone of this checkout (history and a local `main`) holding the working tree as it is now."""
    project = directory / "project"
    run(["git", "clone", "--quiet", "--shared", str(ROOT), str(project)])
    if run(["git", "rev-parse", "--verify", "--quiet", "refs/heads/main"], cwd=project, check=False).returncode:
        run(["git", "branch", "main", "origin/main"], cwd=project)
    listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    for relative in filter(None, listed.split("\0")):
        source, target = ROOT / relative, project / relative
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()  # deleted in the working tree, not yet committed
    return project


def run(command: list[str], cwd: Path = ROOT, check: bool = True, env: dict[str, str] | None = None):
    return subprocess.run(command, cwd=cwd, check=check, capture_output=True, text=True, env=env)


def pytest(project: Path, env: dict[str, str], paths: list[str]) -> subprocess.CompletedProcess:
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:warnings", "--ignore=tests/e2e"]
    return run([*command, *paths], cwd=project, check=False, env=env)


def first_failure(output: str) -> str:
    found = re.search(r"^FAILED (\S+)", output, re.MULTILINE) or re.search(r"^ERROR (\S+)", output, re.MULTILINE)
    return found.group(1) if found else output.strip().splitlines()[-1] if output.strip() else "?"


def try_mutant(project: Path, env: dict[str, str], mutant: Mutant) -> tuple[str, str]:
    """("caught", the first failing test) or ("SURVIVED", "") or ("invalid", why)."""
    path = project / mutant.path
    original = path.read_text()
    if original.count(mutant.old) != 1:
        return "invalid", f"the text to replace is in {mutant.path} {original.count(mutant.old)} times, not once"
    mutated = original.replace(mutant.old, mutant.new)
    try:
        compile(mutated, mutant.path, "exec")
    except SyntaxError as error:
        return "invalid", f"not Python: {error}"
    path.write_text(mutated)
    try:
        for paths in (list(mutant.tests), ["tests"]):
            result = pytest(project, env, paths)
            if result.returncode == 1:
                return "caught", first_failure(result.stdout)
            if result.returncode != 0:
                return "invalid", f"pytest exit {result.returncode}: {first_failure(result.stdout + result.stderr)}"
        return "SURVIVED", ""
    finally:
        path.write_text(original)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only mutants whose behaviour contains this text")
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy and print where it is")
    options = parser.parse_args()
    mutants = [m for m in MUTANTS if not options.only or options.only.lower() in m.behaviour.lower()]

    directory = Path(tempfile.mkdtemp(prefix="gitops-mutants-"))
    try:
        project = scratch_copy(directory)
        env = {**os.environ, "GITOPS_GIT_CACHE": str(directory / "git-cache"), "PYTHONDONTWRITEBYTECODE": "1"}
        started = time.perf_counter()
        baseline = pytest(project, env, ["tests"])
        if baseline.returncode != 0:
            print(f"the unmutated suite fails ({first_failure(baseline.stdout)}): fix that first", file=sys.stderr)
            return 2
        print(f"unmutated unit suite passes in the scratch copy ({time.perf_counter() - started:.0f} s)")
        outcomes = []
        for mutant in mutants:
            started = time.perf_counter()
            outcome, detail = try_mutant(project, env, mutant)
            outcomes.append(outcome)
            shown = f"  [{detail}]" if detail else ""
            print(f"{outcome:8}  {time.perf_counter() - started:5.1f} s  {mutant.behaviour}{shown}")
            sys.stdout.flush()
        caught = outcomes.count("caught")
        print(f"{caught} of {len(mutants)} mutants caught")
        return 0 if caught == len(mutants) else 1
    finally:
        if options.keep:
            print(f"scratch copy kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
