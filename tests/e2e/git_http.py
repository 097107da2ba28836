"""Repositories that need a token, on loopback: git over smart HTTP (`git http-backend` run as a CGI
program per request) and a Helm chart repository (static files), both behind HTTP basic auth.

The server runs in a thread of the test process; `token` can be changed while it runs (a revoked
token is refused from then on). `requests` records who asked for what, for assertions.
"""

from __future__ import annotations

import base64
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


@dataclass
class Request:
    method: str
    path: str
    user: str | None
    authorized: bool
    user_agent: str


@dataclass
class TokenServer:
    root: Path
    username: str
    token: str
    tls: tuple[Path, Path] | None = None
    """A certificate and its key: serve https instead of http."""
    requests: list[Request] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    def git_url(self, name: str) -> str:
        return f"{self.url}/git/{name}"

    @property
    def charts_url(self) -> str:
        return f"{self.url}/charts"

    def start(self) -> TokenServer:
        (self.root / "git").mkdir(parents=True, exist_ok=True)
        (self.root / "charts").mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if self.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, name="token-server", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def authorized(self, header: str | None) -> tuple[str | None, bool]:
        if not header or not header.startswith("Basic "):
            return None, False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return None, False
        return user, (user, password) == (self.username, self.token)

    def publish_git(self, name: str, work: Path) -> None:
        """Serve a bare clone of the git repository `work` as `name`."""
        target = self.root / "git" / name
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(target)], check=True)

    def publish_chart(self, chart: Path, helm: Path) -> None:
        """Package the chart folder (or copy the packaged .tgz) into the chart repository and rebuild its index."""
        charts = self.root / "charts"
        if chart.is_file():
            shutil.copy2(chart, charts)
        else:
            subprocess.run([str(helm), "package", str(chart), "--destination", str(charts)], check=True, capture_output=True)
        subprocess.run([str(helm), "repo", "index", str(charts), "--url", self.charts_url], check=True, capture_output=True)


class _Handler(BaseHTTPRequestHandler):
    owner: TokenServer
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # requests are kept in owner.requests instead
        pass

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        user, authorized = self.owner.authorized(self.headers.get("Authorization"))
        path, _, query = self.path.partition("?")
        self.owner.requests.append(Request(self.command, path, user, authorized, self.headers.get("User-Agent", "")))
        if not authorized:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gitops-e2e"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path.startswith("/git/"):
            self._git(path[len("/git") :], query, user)
        elif path.startswith("/charts/"):
            self._file(self.owner.root / "charts" / Path(path).name)
        else:
            self._status(404)

    def _git(self, path_info: str, query: str, user: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environment = {
            "GIT_PROJECT_ROOT": str(self.owner.root / "git"),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path_info,
            "QUERY_STRING": query,
            "REQUEST_METHOD": self.command,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "PATH": "/usr/bin:/bin",
        }
        done = subprocess.run([GIT_HTTP_BACKEND], input=body, env=environment, capture_output=True)
        headers, _, content = done.stdout.partition(b"\r\n\r\n")
        status = 200
        lines = []
        for line in headers.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                lines.append((name, value.strip()))
        self.send_response(status)
        for name, value in lines:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _file(self, path: Path) -> None:
        if not path.is_file():
            self._status(404)
            return
        content = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _status(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
