"""The real engine, end to end: the toolchain of scripts/tools.sh, a local control plane from
scripts/cluster.sh, and a copy of the project with its own git history, file backend and stacks.

Every command runs as a user would run it (`pulumi ...`, `python -m ops ...`) in the copy, and
everything each prints is kept (`Project.transcript`) so a test can check that no secret leaked.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes
import yaml

from tests.gitrepos import git

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / "scripts" / "tools.sh"
CLUSTER = REPO / "scripts" / "cluster.sh"
CHART = REPO / "charts" / "argo-cd-10.1.1.tgz"
PASSPHRASE = "e2e-passphrase"
# What a project copy needs; everything else of the checkout stays out of it.
PROJECT_FILES = ["Pulumi.yaml", "__main__.py", "components", "settings", "gitsource", "ops", "schemas", "pyproject.toml"]


def toolchain_bin() -> Path | None:
    """The toolchain's bin directory: $GITOPS_TOOLS_BIN, else the cache tools.sh built (None if neither)."""
    if os.environ.get("GITOPS_TOOLS_BIN"):
        return Path(os.environ["GITOPS_TOOLS_BIN"])
    found = subprocess.run(["bash", str(TOOLS), "--check"], capture_output=True, text=True)
    return Path(found.stdout.strip()) if found.returncode == 0 else None


def pulumi_home(bin_dir: Path) -> Path:
    """Where tools.sh installed the provider plugins (PULUMI_HOME)."""
    return bin_dir.parent / "pulumi-home"


@dataclass
class ControlPlane:
    dir: Path
    kubeconfig: Path

    def client(self) -> kubernetes.client.ApiClient:
        return kubernetes.config.new_client_from_config(config_file=str(self.kubeconfig))

    def core(self) -> kubernetes.client.CoreV1Api:
        return kubernetes.client.CoreV1Api(self.client())

    def apps(self) -> kubernetes.client.AppsV1Api:
        return kubernetes.client.AppsV1Api(self.client())

    def custom(self) -> kubernetes.client.CustomObjectsApi:
        return kubernetes.client.CustomObjectsApi(self.client())

    def dynamic(self) -> kubernetes.dynamic.DynamicClient:
        return kubernetes.dynamic.DynamicClient(self.client())

    def audit_events(self) -> int:
        """How many requests the API server has logged so far (one audit line per request stage)."""
        path = self.dir / "audit.log"
        if not path.exists():
            return 0
        with path.open("rb") as log:
            return sum(1 for line in log if b'"stage":"ResponseComplete"' in line)

    def stop(self) -> None:
        subprocess.run(["bash", str(CLUSTER), "down", str(self.dir)], check=False)
        RUNNING.remove(self)

    def diagnosis(self) -> str:
        """What a failed test needs to know of this control plane: a process that has exited (with
        its log's last lines), each Node's readiness and taints, and every Pod that is not Ready."""
        lines = []
        for entry in (self.dir / "pids").read_text().splitlines():
            pid, name = entry.split(" ", 1)
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                tail = (self.dir / "logs" / f"{name}.log").read_text(errors="replace").splitlines()[-5:]
                lines += [f"{name} (pid {pid}) has exited; its log ends:", *(f"  {line}" for line in tail)]
        try:
            core = self.core()
            for node in core.list_node().items:
                ready = next((c.status for c in node.status.conditions or [] if c.type == "Ready"), "unknown")
                taints = ", ".join(f"{t.key}:{t.effect}" for t in node.spec.taints or []) or "none"
                lines.append(f"Node {node.metadata.name}: Ready={ready}, taints: {taints}")
            for pod in core.list_pod_for_all_namespaces().items:
                unmet = [c for c in pod.status.conditions or [] if c.status != "True"]
                if unmet or pod.status.phase != "Running":
                    why = "; ".join(f"{c.type}: {c.reason or ''} {c.message or ''}".strip() for c in unmet)
                    lines.append(
                        f"Pod {pod.metadata.namespace}/{pod.metadata.name} {pod.status.phase} on {pod.spec.node_name}: {why}"
                    )
        except Exception as error:  # the diagnosis of a failure must not fail itself
            lines.append(f"the API server did not answer: {error}")
        return "\n".join(lines)


RUNNING: list[ControlPlane] = []
"""The control planes started and not yet stopped, for the diagnosis of a failed test."""


def start_control_plane(directory: Path, bin_dir: Path) -> ControlPlane:
    started = subprocess.run(
        ["bash", str(CLUSTER), "up", str(directory)],
        capture_output=True,
        text=True,
        env={**os.environ, "GITOPS_TOOLS_BIN": str(bin_dir)},
    )
    if started.returncode != 0:
        raise RuntimeError(f"the local control plane did not start:\n{started.stderr}")
    plane = ControlPlane(directory, Path(started.stdout.strip()))
    RUNNING.append(plane)
    return plane


@dataclass
class Result:
    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class AppsRepository:
    """A git repository of example apps, served to the program and to Argo CD as a file:// remote."""

    work: Path
    bare: Path

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    @classmethod
    def create(cls, directory: Path) -> AppsRepository:
        work, bare = directory / "apps-work", directory / "apps.git"
        shutil.copytree(REPO / "examples" / "apps", work / "apps")
        git("init", "--quiet", "--initial-branch=main", cwd=work)
        git("add", ".", cwd=work)
        git("commit", "--quiet", "-m", "apps", cwd=work)
        git("clone", "--quiet", "--bare", str(work), str(bare), cwd=directory)
        git("remote", "add", "origin", str(bare), cwd=work)
        return cls(work, bare)

    def commit(self, message: str, change: Callable[[Path], None]) -> str:
        change(self.work)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", "main", cwd=self.work)
        return self.head()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)


@dataclass
class Project:
    """A copy of the project: its program, a git history of its own, stacks written by the test."""

    root: Path
    env: dict[str, str]
    transcript: list[Result] = field(default_factory=list)

    @classmethod
    def create(cls, directory: Path, bin_dir: Path) -> Project:
        root = directory / "project"
        root.mkdir(parents=True)
        project = cls(root, cls.environment(directory, bin_dir))
        for name in PROJECT_FILES:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, root / name)
        (root / "stacks").mkdir()
        settings = yaml.safe_load((root / "Pulumi.yaml").read_text())
        settings["runtime"]["options"]["virtualenv"] = sys.prefix  # this test run's virtualenv
        (root / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
        (root / ".gitignore").write_text("__pycache__/\n")
        (directory / "state").mkdir()
        git("init", "--quiet", "--initial-branch=main", cwd=root)
        return project

    @staticmethod
    def environment(directory: Path, bin_dir: Path) -> dict[str, str]:
        """What every command of a project copy in `directory` runs with."""
        env = {
            **os.environ,
            # The language host runs the first python3 on PATH: this test run's virtualenv.
            "PATH": os.pathsep.join([str(Path(sys.prefix) / "bin"), str(bin_dir), os.environ.get("PATH", "")]),
            "PULUMI_HOME": str(pulumi_home(bin_dir)),
            "PULUMI_BACKEND_URL": (directory / "state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "GITOPS_GIT_CACHE": str(directory / "git-cache"),
            "NO_COLOR": "1",
        }
        for key in ("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "KUBECONFIG"):
            env.pop(key, None)
        return env

    def stack_file(self, stack: str) -> Path:
        return self.root / "stacks" / f"Pulumi.{stack}.yaml"

    def write_stack(self, stack: str, config: dict[str, Any], secrets: dict[str, str] | None = None) -> None:
        """The stack file with `config` (keys without the `gitops:` namespace), then each of `secrets`
        (`path.to.key: value`) set with `pulumi config set --secret --path`, as a user would."""
        document = {"config": {f"gitops:{key}": value for key, value in config.items()}}
        path = self.stack_file(stack)
        salt = self._encryption_salt(path)
        if salt:
            document["encryptionsalt"] = salt
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        if not self.run(["pulumi", "stack", "ls", "--json"]).stdout.count(f'"name": "{stack}"'):
            self.pulumi("stack", "init", stack, "--secrets-provider", "passphrase")
        for key, value in (secrets or {}).items():
            self.pulumi("config", "set", "--secret", "--path", f"gitops:{key}", value, stack=stack)

    @staticmethod
    def _encryption_salt(path: Path) -> str | None:
        if not path.exists():
            return None
        return (yaml.safe_load(path.read_text()) or {}).get("encryptionsalt")

    def commit(self, message: str) -> None:
        git("add", "--all", cwd=self.root)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.root)

    def run(self, args: list[str], *, check: bool = False, timeout: float = 900) -> Result:
        done = subprocess.run(args, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=timeout)
        result = Result(args, done.returncode, done.stdout, done.stderr)
        self.transcript.append(result)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {done.returncode}:\n{result.output[-6000:]}")
        return result

    def pulumi(self, *args: str, stack: str | None = None, check: bool = True, timeout: float = 900) -> Result:
        command = ["pulumi", *args, "--non-interactive"]
        if stack:
            command += ["--stack", stack]
        return self.run(command, check=check, timeout=timeout)

    def up(self, stack: str, *extra: str) -> Result:
        return self.pulumi("up", "--yes", "--skip-preview", *extra, stack=stack)

    def preview(self, stack: str, *extra: str, check: bool = True) -> Result:
        return self.pulumi("preview", "--diff", *extra, stack=stack, check=check)

    def ops(self, *args: str, check: bool = False) -> Result:
        return self.run([sys.executable, "-m", "ops", *args], check=check)

    def outputs(self, stack: str, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if show_secrets else [])
        result = self.pulumi(*args, stack=stack)
        if show_secrets:
            self.transcript.pop()  # the test asked for the secrets; that output is not a leak
        return json.loads(result.stdout)

    def state(self, stack: str) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "export", stack=stack).stdout)


def wait_until(what: str, condition: Callable[[], Any], timeout: float = 60, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def decoded(secret: kubernetes.client.V1Secret) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in (secret.data or {}).items()}


def kubeconfig_stack(plane: ControlPlane | None, apps: AppsRepository, revision: str, **overrides: Any) -> dict[str, Any]:
    """A stack on the local control plane (None: a kubeconfig that does not exist, for a stack that
    needs no cluster): the packaged chart, the nginx dashboard without TLS, one repository (its
    token set as a secret by the caller), a project and three applications (plain manifests,
    Kustomize, Helm) pinned to `revision`. `overrides` replace top-level keys."""
    kubeconfig = str(plane.kubeconfig) if plane else "/nonexistent/kubeconfig"
    config: dict[str, Any] = {
        "environment": {"tier": "local"},
        "cluster": {"kind": "kubeconfig", "path": kubeconfig, "context": "local"},
        "argocd": {"chart": {"path": str(CHART)}},
        "dashboard": {"host": "argocd.localtest.me", "ingress": "nginx", "ingressClassName": "nginx", "tls": {"mode": "none"}},
        "repositories": {"apps": {"url": apps.url, "credentials": {"username": "git"}}},
        "projects": {
            "examples": {
                "sourceRepos": ["apps"],
                "destinations": [{"server": "https://kubernetes.default.svc", "namespace": name} for name in APPS],
            }
        },
        "applications": {
            name: {
                "repository": "apps",
                "path": f"apps/{name}",
                "revision": revision,
                "project": "examples",
                "destination": {"namespace": name},
            }
            for name in APPS
        },
    }
    config.update(overrides)
    return config


APPS = ("guestbook", "podinfo", "hello")
"""The example apps: plain manifests, Kustomize and a Helm chart (examples/apps)."""
REPOSITORY_TOKEN = "canary-repository-token-9f3c1e"
"""A canary: set as the repository's password (a secret), it must never appear in plain text."""
