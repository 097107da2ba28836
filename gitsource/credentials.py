"""Credentials for a git remote, and the per-command environment that hands them to git."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from gitsource.errors import GitSourceError
from gitsource.redaction import REDACTED, SSH_SCHEMES, basic_auth_value, strip_userinfo

GITHUB_APP_USERNAME = "x-access-token"
# GitHub and GitLab accept any user name with a token; this one also says what the password is.
DEFAULT_HTTPS_USERNAME = "x-access-token"


@dataclass(frozen=True, repr=False)
class Credentials:
    """How to authenticate to a git remote. Give one kind: HTTPS, SSH key or GitHub App."""

    username: str | None = None
    """HTTPS user name; defaults to `x-access-token`, which GitHub and GitLab accept with a token."""
    password: str | None = None
    """HTTPS password or access token."""
    ssh_private_key: str | None = None
    """PEM/OpenSSH private key text (not a path), without a passphrase."""
    github_app_id: int | None = None
    github_app_installation_id: int | None = None
    github_app_private_key: str | None = None
    """The GitHub App's RSA private key in PEM format."""
    github_api_url: str = "https://api.github.com"
    """GitHub Enterprise Server: `https://HOST/api/v3`."""

    def __post_init__(self) -> None:
        app_fields = (self.github_app_id, self.github_app_installation_id, self.github_app_private_key)
        if any(value is not None for value in app_fields) and any(value is None for value in app_fields):
            raise GitSourceError(
                "GitHub App credentials need github_app_id, github_app_installation_id and github_app_private_key together"
            )
        kinds = [kind for kind, given in self._kinds().items() if given]
        if len(kinds) > 1:
            raise GitSourceError(f"credentials mix {' and '.join(kinds)}: give only one kind")

    def _kinds(self) -> dict[str, bool]:
        return {
            "an HTTPS password": self.password is not None,
            "an SSH key": self.ssh_private_key is not None,
            "a GitHub App": self.github_app_id is not None,
        }

    @property
    def uses_github_app(self) -> bool:
        return self.github_app_id is not None

    def secret_values(self) -> tuple[str, ...]:
        secrets = (self.password, self.ssh_private_key, self.github_app_private_key)
        return tuple(secret for secret in secrets if secret)

    def __repr__(self) -> str:
        def shown(value: str | None) -> str:
            return "None" if value is None else f"'{REDACTED}'"

        return (
            f"Credentials(username={self.username!r}, password={shown(self.password)}, "
            f"ssh_private_key={shown(self.ssh_private_key)}, github_app_id={self.github_app_id!r}, "
            f"github_app_installation_id={self.github_app_installation_id!r}, "
            f"github_app_private_key={shown(self.github_app_private_key)}, "
            f"github_api_url={strip_userinfo(self.github_api_url)!r})"
        )


@dataclass(frozen=True)
class GitAuth:
    """Environment variables for one git command, and every secret its output must not show."""

    environment: dict[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)


def merge_url_credentials(username: str | None, password: str | None, credentials: Credentials | None) -> Credentials | None:
    """Credentials given explicitly win; otherwise use the ones found in the URL."""
    if credentials is not None or password is None:
        return credentials
    return Credentials(username=username, password=password)


def http_extra_header_environment(url: str, header: str, inherited: Mapping[str, str] | None = None) -> dict[str, str]:
    """Config entries that make git send `header` to the URL's host, passed via the environment.

    `http.<url>.extraHeader` through GIT_CONFIG_COUNT (git >= 2.31) keeps the secret out of argv
    and out of any config file, and unlike GIT_ASKPASS it never reaches `credential approve`, so
    a configured credential helper cannot store the token on disk.
    """
    inherited = os.environ if inherited is None else inherited
    first_index = int(inherited.get("GIT_CONFIG_COUNT") or 0)
    parts = urlsplit(url)
    key = f"http.{parts.scheme}://{parts.netloc}/.extraHeader"
    environment: dict[str, str] = {}
    # The empty value resets headers from the user's own config first, so that exactly one
    # Authorization header is sent.
    for offset, value in enumerate(("", header)):
        environment[f"GIT_CONFIG_KEY_{first_index + offset}"] = key
        environment[f"GIT_CONFIG_VALUE_{first_index + offset}"] = value
    environment["GIT_CONFIG_COUNT"] = str(first_index + 2)
    return environment


def https_password_auth(url: str, username: str | None, password: str) -> GitAuth:
    encoded = basic_auth_value(username or DEFAULT_HTTPS_USERNAME, password)
    environment = http_extra_header_environment(url, f"Authorization: Basic {encoded}")
    return GitAuth(environment=environment, secrets=(password, encoded))


@contextmanager
def ssh_key_auth(private_key: str) -> Iterator[GitAuth]:
    """Write the key to a private 0600 file for the duration of one git command."""
    directory = tempfile.mkdtemp(prefix="gitops-ssh-")
    try:
        key_path = os.path.join(directory, "identity")
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            # OpenSSH rejects a key whose last line lacks its newline ("invalid format").
            key_file.write(private_key if private_key.endswith("\n") else private_key + "\n")
        command = shlex.join(
            [
                "ssh",
                "-i",
                key_path,
                "-o",
                "IdentitiesOnly=yes",
                "-o",
                "StrictHostKeyChecking=accept-new",
                # Fail instead of prompting for a passphrase or password nobody will type.
                "-o",
                "BatchMode=yes",
            ]
        )
        yield GitAuth(environment={"GIT_SSH_COMMAND": command}, secrets=(private_key,))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def is_http_url(url: str) -> bool:
    return urlsplit(url).scheme in ("http", "https")


def is_ssh_url(url: str) -> bool:
    scheme = urlsplit(url).scheme
    if scheme in SSH_SCHEMES:
        return True
    # scp-like syntax: [user@]host:path, with no scheme and no slash before the colon.
    head = url.split(":", 1)[0]
    return "://" not in url and ":" in url and "/" not in head


@contextmanager
def git_auth(
    url: str,
    credentials: Credentials | None,
    installation_token: Callable[[Credentials], str],
) -> Iterator[GitAuth]:
    """The environment that authenticates one git command against `url`."""
    if credentials is None:
        yield GitAuth()
        return
    _reject_mismatched_scheme(url, credentials)
    if credentials.ssh_private_key is not None:
        with ssh_key_auth(credentials.ssh_private_key) as auth:
            yield auth
        return
    if credentials.uses_github_app:
        token = installation_token(credentials)
        auth = https_password_auth(url, GITHUB_APP_USERNAME, token)
        yield GitAuth(auth.environment, auth.secrets + credentials.secret_values())
        return
    if credentials.password is not None:
        yield https_password_auth(url, credentials.username, credentials.password)
        return
    if credentials.username is not None:
        raise GitSourceError(f"credentials for {url} have a username but no password or token")
    yield GitAuth()


def _reject_mismatched_scheme(url: str, credentials: Credentials) -> None:
    if credentials.ssh_private_key is not None and is_http_url(url):
        raise GitSourceError(f"an SSH key was given for {url}: use an ssh:// or git@host:path URL")
    if (credentials.password is not None or credentials.uses_github_app) and is_ssh_url(url):
        raise GitSourceError(f"an HTTPS password or GitHub App was given for the SSH URL {url}")
