"""Argo CD for real, as local processes: the application-controller and the repo-server of the
toolchain's `argocd` binary, and the Redis they share, against a local control plane where the
chart is installed. This is how Argo CD's own end-to-end setup runs them (its Procfile):
ARGOCD_FAKE_IN_CLUSTER=true makes "in cluster" mean the kubeconfig's cluster, `--redis` and
`--repo-server` point at loopback ports.

Each process gets the environment the chart gives its pod: the env of the chart's StatefulSet or
Deployment with every `valueFrom` read from the cluster (argocd-cmd-params-cm, the Redis password
in argocd-redis), so a chart setting reaches these processes as it would reach the pods. Only
addresses and paths inside the container image are replaced by loopback ports and directories of
DIR. The controller reads argocd-cm, argocd-rbac-cm, argocd-secret and the repository Secrets
through the API itself, as in a cluster.

Every process is started with the parent-death signal set (it dies with the test run) and stopped
by its process id (`ArgoCD.stop`); DIR/pids lists them, DIR/logs/ has their output.
"""

from __future__ import annotations

import base64
import ctypes
import os
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import kubernetes

from tests.e2e.harness import ControlPlane

NAMESPACE = "argocd"
CONTROLLER = "argocd-application-controller"
REPO_SERVER = "argocd-repo-server"
# Paths the chart's pods use inside the image; a local process gets a directory of its own.
IMAGE_PATHS = {
    "HELM_CACHE_HOME": "helm/cache",
    "HELM_CONFIG_HOME": "helm/config",
    "HELM_DATA_HOME": "helm/data",
    "KUBECACHEDIR": "kube-cache",
}
_PR_SET_PDEATHSIG = 1


@dataclass
class ArgoCD:
    dir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        path = self.dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def alive(self) -> list[str]:
        return [name for name, process in self.processes.items() if process.poll() is None]

    def stop(self) -> None:
        """Stop every process by its id, last started first; SIGKILL what is left after 10 s."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def chart_environment(plane: ControlPlane, kind: str, name: str, namespace: str = NAMESPACE) -> dict[str, str]:
    """The env of the first container of the chart's workload `name`, with each configMapKeyRef and
    secretKeyRef read from the cluster (a missing optional key is left out, as the kubelet does)."""
    apps, core = plane.apps(), plane.core()
    workload = (
        apps.read_namespaced_stateful_set(name, namespace)
        if kind == "StatefulSet"
        else apps.read_namespaced_deployment(name, namespace)
    )
    environment: dict[str, str] = {}
    for variable in workload.spec.template.spec.containers[0].env or []:
        if variable.value_from is None:
            environment[variable.name] = variable.value or ""
            continue
        source = variable.value_from
        if source.config_map_key_ref is not None:
            ref = source.config_map_key_ref
            data = _read_or_none(core.read_namespaced_config_map, ref.name, namespace)
        elif source.secret_key_ref is not None:
            ref = source.secret_key_ref
            encoded = _read_or_none(core.read_namespaced_secret, ref.name, namespace)
            data = None if encoded is None else {key: base64.b64decode(value).decode() for key, value in encoded.items()}
        else:
            continue  # fieldRef / resourceFieldRef: facts about a pod these processes are not
        if data is not None and ref.key in data:
            environment[variable.name] = data[ref.key]
        elif not ref.optional:
            raise RuntimeError(f"{name}: {variable.name} refers to {ref.name}/{ref.key}, which the cluster does not hold")
    return environment


def _read_or_none(read, name: str, namespace: str) -> dict[str, str] | None:
    """The data of a ConfigMap or Secret, None when there is no such object."""
    try:
        return read(name, namespace).data or {}
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise


def _die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_argocd(directory: Path, bin_dir: Path, plane: ControlPlane, namespace: str = NAMESPACE) -> ArgoCD:
    """Start Redis, the repo-server and the application-controller; return once each answers.
    On any failure everything started is stopped and the error carries the end of the logs."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "logs").mkdir(exist_ok=True)
    argocd = ArgoCD(directory)
    redis_port, repo_port, repo_metrics_port, controller_metrics_port = free_ports(4)
    try:
        controller_env = chart_environment(plane, "StatefulSet", CONTROLLER, namespace)
        repo_env = chart_environment(plane, "Deployment", REPO_SERVER, namespace)
        _start(argocd, "redis", _redis_command(directory, redis_port, controller_env.get("REDIS_PASSWORD", "")), os.environ)
        _wait_for(argocd, "redis", lambda: _redis_answers(redis_port, controller_env.get("REDIS_PASSWORD", "")))

        redis = f"127.0.0.1:{redis_port}"
        common = _common_environment(directory, bin_dir, plane)
        repo = {**repo_env, **common, "REDIS_SERVER": redis, "ARGOCD_ASK_PASS_SOCK": str(directory / "askpass.sock")}
        repo.update({key: str(directory / path) for key, path in IMAGE_PATHS.items() if key in repo})
        _start(
            argocd,
            REPO_SERVER,
            [
                *(str(bin_dir / REPO_SERVER), "--address", "127.0.0.1", "--port", str(repo_port)),
                *("--metrics-address", "127.0.0.1", "--metrics-port", str(repo_metrics_port), "--redis", redis),
            ],
            repo,
        )
        _wait_for(argocd, REPO_SERVER, lambda: _healthy(repo_metrics_port))

        controller = {**controller_env, **common, "REDIS_SERVER": redis}
        controller.update({key: str(directory / path) for key, path in IMAGE_PATHS.items() if key in controller})
        _start(
            argocd,
            CONTROLLER,
            # Its metrics server binds every address (Argo CD has no flag for it): a free port.
            [
                *(str(bin_dir / CONTROLLER), "--namespace", namespace, "--redis", redis),
                *("--repo-server", f"127.0.0.1:{repo_port}", "--metrics-port", str(controller_metrics_port)),
            ],
            controller,
        )
        _wait_for(argocd, CONTROLLER, lambda: _healthy(controller_metrics_port))
    except BaseException:
        argocd.stop()
        raise
    return argocd


def _common_environment(directory: Path, bin_dir: Path, plane: ControlPlane) -> dict[str, str]:
    home = directory / "home"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    return {
        # The repo-server runs git, helm and kustomize (and itself, as git's askpass) from PATH.
        "PATH": os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "KUBECONFIG": str(plane.kubeconfig),
        "ARGOCD_FAKE_IN_CLUSTER": "true",
        "ARGOCD_GPG_ENABLED": "false",
        "ARGOCD_TLS_DATA_PATH": str(directory / "tls"),
        "ARGOCD_SSH_DATA_PATH": str(directory / "ssh"),
        "ARGOCD_GNUPGHOME": str(directory / "gnupg"),
        "ARGOCD_PLUGINSOCKFILEPATH": str(directory / "plugins"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }


def _redis_command(directory: Path, port: int, password: str) -> list[str]:
    """redis-server with its settings in a file only this user reads: the password the chart
    generated stays out of the process list."""
    (directory / "redis").mkdir(exist_ok=True)
    config = directory / "redis" / "redis.conf"
    config.touch(mode=0o600)
    lines = ["bind 127.0.0.1", f"port {port}", f'dir "{directory / "redis"}"', 'save ""', "appendonly no"]
    if password:
        lines.append(f'requirepass "{password}"')
    config.write_text("\n".join(lines) + "\n")
    return ["redis-server", str(config)]


def _start(argocd: ArgoCD, name: str, command: list[str], environment) -> None:
    log = (argocd.dir / "logs" / f"{name}.log").open("wb")
    process = subprocess.Popen(
        command,
        cwd=argocd.dir,
        env=dict(environment),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent,
    )
    log.close()
    argocd.processes[name] = process
    with (argocd.dir / "pids").open("a") as pids:
        pids.write(f"{process.pid} {name}\n")


def _wait_for(argocd: ArgoCD, name: str, ready, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if argocd.processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited {argocd.processes[name].returncode}:\n{argocd.log(name)[-4000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{argocd.log(name)[-4000:]}")
        time.sleep(0.2)


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _redis_answers(port: int, password: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            if password:
                connection.sendall(f"AUTH {password}\r\n".encode())
                if not connection.recv(64).startswith(b"+OK"):
                    return False
            connection.sendall(b"PING\r\n")
            return connection.recv(64).startswith(b"+PONG")
    except OSError:
        return False
