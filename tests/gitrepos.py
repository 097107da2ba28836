"""Real git repositories for tests and benchmarks: `git` itself with a fixed identity, a working
copy with history pushed to a bare `file://` remote, a project checkout that commands commit in,
and a loopback smart-HTTP server in front of bare repositories."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

# Fixed identity and dates make commit ids reproducible and keep the user's config out of the way.
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
_NEUTRAL_CONFIG = ["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", "-c", "init.defaultBranch=main"]

# The layout every discovery and type-detection test relies on.
STANDARD_APPS: dict[str, str] = {
    "README.md": "# apps\n",
    "apps/guestbook/Chart.yaml": "apiVersion: v2\nname: guestbook\nversion: 0.1.0\n",
    "apps/guestbook/values.yaml": "replicas: 1\n",
    "apps/guestbook/templates/deployment.yaml": "kind: Deployment\n",
    "apps/podinfo/kustomization.yaml": "resources: [deployment.yaml]\n",
    "apps/podinfo/deployment.yaml": "kind: Deployment\n",
    "apps/legacy/kustomization.yml": "resources: []\n",
    "apps/capital/Kustomization": "resources: []\n",
    "apps/plain/deployment.yaml": "kind: Deployment\n",
    "apps/plain/service.yaml": "kind: Service\n",
    "apps/monitoring/main.jsonnet": "{}\n",
    "apps/libs-only/util.libsonnet": "{}\n",
    "apps/both/Chart.yaml": "apiVersion: v2\nname: both\nversion: 0.1.0\n",
    "apps/both/kustomization.yaml": "helmCharts: []\n",
    "envs/dev/apps/api/kustomization.yaml": "resources: []\n",
    "envs/prod/apps/api/kustomization.yaml": "resources: []\n",
    "envs/prod/apps/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "envs/prod/notes.txt": "not an app\n",
}


def git(*arguments: str, cwd: Path, environment: Mapping[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", *_NEUTRAL_CONFIG, *arguments],
        cwd=cwd,
        env={**os.environ, **_GIT_IDENTITY, **(environment or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"git {' '.join(arguments)} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def commit_checkout(root: Path, message: str = "initial") -> str:
    """Commit every file under `root`, making it a checkout on `main` first if it is none; the
    checkout's own config holds an identity, as a user's does, so commands that commit in it
    (`ops promote`) can. Returns the commit id."""
    if not (root / ".git").exists():
        git("init", "--quiet", cwd=root)
        for key, value in (("user.name", "Promoter"), ("user.email", "promoter@example.invalid"), ("commit.gpgsign", "false")):
            git("config", key, value, cwd=root)
    git("add", "--all", cwd=root)
    git("commit", "--quiet", "--allow-empty", "-m", message, cwd=root)
    return git("rev-parse", "HEAD", cwd=root)


class SourceRepository:
    """A working repository under `root/work` whose pushes go to the bare `root/remote.git`."""

    def __init__(self, root: Path) -> None:
        self.work = root / "work"
        self.remote = root / "remote.git"
        self.work.mkdir(parents=True)
        git("init", "--quiet", str(self.work), cwd=root)
        git("init", "--quiet", "--bare", str(self.remote), cwd=root)
        # Like GitHub and GitLab: clients may ask for a partial (blobless) clone.
        git("config", "uploadpack.allowFilter", "true", cwd=self.remote)
        git("remote", "add", "origin", str(self.remote), cwd=self.work)
        self._commits = 0

    @property
    def url(self) -> str:
        return self.remote.as_uri()

    def commit(self, files: Mapping[str, str] | None = None, message: str | None = None) -> str:
        """Write `files` (path -> content), commit everything, and return the commit id."""
        for relative_path, content in (files or {}).items():
            target = self.work / relative_path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        self._commits += 1
        git("add", "--all", cwd=self.work)
        # Distinct dates keep ids distinct even for identical trees.
        date = f"2024-01-01T00:{self._commits // 60:02d}:{self._commits % 60:02d}Z"
        git(
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            message or f"commit {self._commits}",
            cwd=self.work,
            environment={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
        )
        return self.head()

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.work)

    def branch(self, name: str, start: str = "HEAD") -> None:
        git("branch", "--force", name, start, cwd=self.work)

    def switch(self, name: str) -> None:
        git("switch", "--quiet", name, cwd=self.work)

    def switch_orphan(self, name: str) -> None:
        """Start a branch with no history and no files, like a `gh-pages` branch."""
        git("switch", "--quiet", "--orphan", name, cwd=self.work)

    def set_default_branch(self, name: str) -> None:
        """What a host's "change default branch" does: point the remote's HEAD at another branch."""
        git("symbolic-ref", "HEAD", f"refs/heads/{name}", cwd=self.remote)

    def tag(self, name: str, target: str = "HEAD") -> None:
        git("tag", "--force", name, target, cwd=self.work)

    def annotated_tag(self, name: str, target: str = "HEAD") -> str:
        """Create an annotated tag and return the id of the tag object (not of the commit)."""
        git("tag", "--force", "--annotate", "-m", f"release {name}", name, target, cwd=self.work)
        return git("rev-parse", f"refs/tags/{name}", cwd=self.work)

    def push(self) -> None:
        git(
            "push",
            "--quiet",
            "--force",
            "--prune",
            "origin",
            "refs/heads/*:refs/heads/*",
            "refs/tags/*:refs/tags/*",
            cwd=self.work,
        )


def standard_app_repository(root: Path) -> SourceRepository:
    """The STANDARD_APPS tree on main, plus a release branch, a lightweight and an annotated tag."""
    repository = SourceRepository(root)
    repository.commit({"README.md": "# apps\n"}, "initial")
    repository.tag("v0.9.0")
    repository.commit(STANDARD_APPS, "add applications")
    repository.annotated_tag("v1.0.0")
    repository.branch("release-1.0")
    repository.commit({"apps/plain/configmap.yaml": "kind: ConfigMap\n"}, "plain grows")
    repository.push()
    return repository


def repository_with_many_commits(root: Path, count: int) -> SourceRepository:
    """A repository with `count` commits on main, built in one `git fast-import` run."""
    repository = SourceRepository(root)
    stream = []
    for number in range(1, count + 1):
        content = f"{number}\n".encode()
        stream.append(
            f"commit refs/heads/main\n"
            f"committer Test Committer <committer@example.invalid> {1704067200 + number} +0000\n"
            f"data {len(f'commit {number}')}\ncommit {number}\n"
            f"M 100644 inline counter.txt\ndata {len(content)}\n{content.decode()}\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repository.work, input="".join(stream).encode(), check=True)
    git("reset", "--quiet", "--hard", "main", cwd=repository.work)
    repository.push()
    return repository


def mirror_config(mirror_path: Path) -> str:
    """Everything `git config --list` shows for a mirror, with the origin of each value."""
    return git("config", "--list", "--show-origin", cwd=mirror_path, environment={"GIT_DIR": str(mirror_path)})


class GitHttpServer:
    """Bare repositories under `project_root`, served by `git http-backend` on 127.0.0.1 only.

    Requests must carry HTTP Basic credentials equal to `username`/`password`. While serving, it
    also looks at every process's command line on this machine for the password, raw or
    base64-encoded as in the header, so a test can prove git never received it in argv.
    """

    def __init__(self, project_root: Path, username: str, password: str) -> None:
        self.project_root = project_root
        encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.expected_authorization = f"Basic {encoded}"
        self.watched_secrets = (password, encoded)
        self.authorizations: list[str | None] = []
        self.secret_in_process_arguments = False
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, repository_name: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/{repository_name}"

    def __enter__(self) -> GitHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def record(self, authorization: str | None) -> None:
        self.authorizations.append(authorization)
        if any(secret_in_any_command_line(secret) for secret in self.watched_secrets):
            self.secret_in_process_arguments = True


def secret_in_any_command_line(secret: str) -> bool:
    needle = secret.encode()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if needle in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


def _make_handler(server: GitHttpServer) -> type[BaseHTTPRequestHandler]:
    class SmartHttpHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _serve(self) -> None:
            authorization = self.headers.get("Authorization")
            server.record(authorization)
            if authorization != server.expected_authorization:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            body = self._read_body()
            environment = {
                "PATH": os.environ.get("PATH", ""),
                "GIT_PROJECT_ROOT": str(server.project_root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "REQUEST_METHOD": self.command,
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_USER": "git",
                "REMOTE_ADDR": "127.0.0.1",
            }
            completed = subprocess.run(["git", "http-backend"], input=body, env=environment, capture_output=True, check=False)
            head, _, payload = completed.stdout.partition(b"\r\n\r\n")
            if not _:
                head, _, payload = completed.stdout.partition(b"\n\n")
            status = 200
            headers = []
            for line in head.decode("latin-1").splitlines():
                name, _, value = line.partition(":")
                if name.lower() == "status":
                    status = int(value.split()[0])
                elif name:
                    headers.append((name, value.strip()))
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    return SmartHttpHandler
