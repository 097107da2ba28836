"""Authentication end to end against loopback servers: HTTP Basic, SSH key, GitHub App."""

import json
import os
import stat
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gitrepos import GitHttpServer, mirror_config, secret_in_any_command_line, standard_app_repository

from gitsource import Credentials, GitSourceError, RepositoryCache
from gitsource.github_app import InstallationTokens

TOKEN = "s3cr3t-token-value"
APP_ID = 7
INSTALLATION_ID = 42


@pytest.fixture(autouse=True)
def no_proxy_for_loopback(monkeypatch):
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return standard_app_repository(tmp_path_factory.mktemp("source"))


@pytest.fixture
def http_server(source):
    with GitHttpServer(source.remote.parent, "alice", TOKEN) as server:
        yield server


def assert_no_secret(error: GitSourceError, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in str(error)
        assert secret not in repr(error)


def test_command_line_watch_sees_a_secret_in_argv():
    marker = "argv-marker-5f0c2d"
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        # Until the child has exec'd, its command line is still the parent's.
        deadline = time.monotonic() + 10
        while not secret_in_any_command_line(marker) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert secret_in_any_command_line(marker)
    finally:
        process.kill()
        process.wait()


def test_https_password_is_sent_as_basic_auth_and_stored_nowhere(source, http_server, tmp_path):
    url = http_server.url("remote.git")
    mirror = RepositoryCache(tmp_path / "cache").open(url, Credentials(username="alice", password=TOKEN))
    assert mirror.resolve("main") == source.head()
    assert http_server.authorizations
    assert set(http_server.authorizations) == {http_server.expected_authorization}
    assert not http_server.secret_in_process_arguments
    assert TOKEN not in mirror_config(mirror.path)
    assert f"remote.origin.url={url}" in mirror_config(mirror.path)


def test_https_credentials_in_the_url_are_moved_out_of_it(source, http_server, tmp_path):
    url = http_server.url("remote.git")
    with_userinfo = url.replace("http://", f"http://alice:{TOKEN}@")
    cache = RepositoryCache(tmp_path / "cache")
    mirror = cache.open(with_userinfo)
    assert mirror.url == url
    assert mirror.resolve("main") == source.head()
    assert TOKEN not in mirror_config(mirror.path) and TOKEN not in repr(mirror)
    assert not http_server.secret_in_process_arguments
    # The fetch of a later process authenticates the same way.
    source.commit({"after.txt": "x\n"})
    source.push()
    assert RepositoryCache(tmp_path / "cache").open(with_userinfo).resolve("main") == source.head()


def test_missing_credentials_are_reported_as_such(http_server, tmp_path):
    url = http_server.url("remote.git")
    with pytest.raises(GitSourceError, match=rf"^cannot clone {url}: the server asks for credentials and none were given"):
        RepositoryCache(tmp_path / "cache").open(url)


def test_rejected_credentials_fail_without_showing_them(http_server, tmp_path):
    url = http_server.url("remote.git")
    wrong = "wr0ng-token-value"
    with pytest.raises(GitSourceError) as raised:
        RepositoryCache(tmp_path / "cache").open(url.replace("http://", f"http://alice:{wrong}@"))
    assert str(raised.value).startswith(f"cannot clone {url}: the server rejected the credentials")
    assert_no_secret(raised.value, wrong, "alice:")


def test_ssh_key_reaches_ssh_as_a_private_file_that_is_removed_afterwards(monkeypatch, tmp_path):
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAfakefakefake\n-----END OPENSSH PRIVATE KEY-----\n"
    record = tmp_path / "ssh-record.json"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    fake_ssh = fake_bin / "ssh"
    fake_ssh.write_text(
        f"#!{sys.executable}\n"
        "import json, os, stat, sys\n"
        "key_path = sys.argv[sys.argv.index('-i') + 1]\n"
        "with open(key_path) as key_file: key = key_file.read()\n"
        "mode = stat.S_IMODE(os.stat(key_path).st_mode)\n"
        f"json.dump({{'argv': sys.argv[1:], 'key': key, 'mode': mode, 'key_path': key_path}}, open({str(record)!r}, 'w'))\n"
        "sys.stderr.write('fake ssh: permission denied (publickey)\\n')\n"
        "sys.exit(255)\n"
    )
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    url = "ssh://git@example.invalid/org/repo.git"

    with pytest.raises(GitSourceError) as raised:
        RepositoryCache(tmp_path / "cache").open(url, Credentials(ssh_private_key=key))

    seen = json.loads(record.read_text())
    assert seen["key"] == key
    assert seen["mode"] == 0o600
    assert "IdentitiesOnly=yes" in seen["argv"] and "StrictHostKeyChecking=accept-new" in seen["argv"]
    assert "git@example.invalid" in seen["argv"]
    assert not Path(seen["key_path"]).exists()
    assert str(raised.value).startswith("cannot clone ssh://example.invalid/org/repo.git: fake ssh: permission denied")
    assert_no_secret(raised.value, "b3BlbnNzaC1rZXktdjEAAAAAfakefakefake")


@pytest.fixture(scope="module")
def app_key():
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    return pem, private_key.public_key()


class FakeGitHubApi:
    """POST /app/installations/{id}/access_tokens on 127.0.0.1, checking the app JWT's signature."""

    def __init__(self, public_key, installation_token: str) -> None:
        self.public_key = public_key
        self.installation_token = installation_token
        self.claims: list[dict] = []
        self.rejections: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/v3"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                if self.path != f"/api/v3/app/installations/{INSTALLATION_ID}/access_tokens":
                    return self._answer(404, {"message": "Not Found"})
                scheme, _, app_token = (self.headers.get("Authorization") or "").partition(" ")
                try:
                    claims = jwt.decode(app_token, api.public_key, algorithms=["RS256"])
                except jwt.PyJWTError as error:
                    api.rejections.append(str(error))
                    return self._answer(401, {"message": "A JSON web token could not be decoded"})
                if scheme != "Bearer" or claims["iss"] != str(APP_ID) or claims["exp"] - claims["iat"] > 600:
                    api.rejections.append(f"bad claims {claims}")
                    return self._answer(401, {"message": "bad claims"})
                api.claims.append(claims)
                return self._answer(201, {"token": api.installation_token, "expires_at": "2999-01-01T00:00:00Z"})

            def _answer(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


def app_credentials(private_key: str, api_url: str) -> Credentials:
    return Credentials(
        github_app_id=APP_ID,
        github_app_installation_id=INSTALLATION_ID,
        github_app_private_key=private_key,
        github_api_url=api_url,
    )


def test_github_app_token_is_minted_and_used_as_the_https_password(source, app_key, tmp_path):
    pem, public_key = app_key
    installation_token = "ghs_installationtoken0123456789"
    with (
        FakeGitHubApi(public_key, installation_token) as api,
        GitHttpServer(source.remote.parent, "x-access-token", installation_token) as git_server,
    ):
        cache = RepositoryCache(tmp_path / "cache")
        credentials = app_credentials(pem, api.url)
        mirror = cache.open(git_server.url("remote.git"), credentials)
        assert mirror.resolve("main") == source.head()
        # A second repository of the same installation reuses the token.
        cache.open(git_server.url("remote.git/"), credentials)
    assert len(api.claims) == 1, api.rejections
    assert api.claims[0]["iat"] <= time.time() <= api.claims[0]["exp"]
    assert not git_server.secret_in_process_arguments
    config = mirror_config(mirror.path)
    assert installation_token not in config and "BEGIN RSA PRIVATE KEY" not in config


def test_rejected_app_jwt_is_a_clean_error(app_key, tmp_path):
    pem, _ = app_key
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    with FakeGitHubApi(other_key, "never-issued") as api, pytest.raises(GitSourceError) as raised:
        RepositoryCache(tmp_path / "cache").open("https://git.example.invalid/org/repo.git", app_credentials(pem, api.url))
    message = str(raised.value)
    assert message.startswith(
        f"GitHub App {APP_ID}: token request to {api.url}/app/installations/{INSTALLATION_ID}/access_tokens failed"
    )
    assert "HTTP 401 A JSON web token could not be decoded" in message
    assert_no_secret(raised.value, pem.splitlines()[1])


def test_an_invalid_app_key_is_named_but_not_shown(tmp_path):
    key = "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0IGJ5dGVz\n-----END RSA PRIVATE KEY-----\n"
    with pytest.raises(GitSourceError, match=rf"private key of GitHub App {APP_ID} is not a valid RSA private key") as raised:
        InstallationTokens().token_for(app_credentials(key, "http://127.0.0.1:9/api"))
    assert_no_secret(raised.value, "bm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0IGJ5dGVz")


def test_installation_tokens_are_renewed_shortly_before_they_expire(app_key, monkeypatch):
    pem, _ = app_key
    now = [1_000_000.0]
    issued = []

    def fake_request(credentials, app_token, timeout):
        issued.append(app_token)
        return f"token-{len(issued)}", now[0] + 3600

    monkeypatch.setattr("gitsource.github_app.request_installation_token", fake_request)
    tokens = InstallationTokens(clock=lambda: now[0])
    credentials = app_credentials(pem, "https://api.github.com")
    assert tokens.token_for(credentials) == "token-1"
    now[0] += 3000
    assert tokens.token_for(credentials) == "token-1"
    now[0] += 400
    assert tokens.token_for(credentials) == "token-2"


def test_key_file_permissions_are_private_even_with_a_permissive_umask(tmp_path):
    from gitsource.credentials import ssh_key_auth

    previous = os.umask(0)
    try:
        with ssh_key_auth("key") as auth:
            key_path = auth.environment["GIT_SSH_COMMAND"].split(" -i ")[1].split(" ")[0]
            assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
            assert stat.S_IMODE(os.stat(os.path.dirname(key_path)).st_mode) == 0o700
    finally:
        os.umask(previous)
