"""Local bare mirrors of remote repositories: cloned once, fetched once per cache object.

Mirrors are partial ("blobless"): every commit and tree of every branch and tag, but no file
contents. Everything this project asks a mirror (which commit a revision is, which files and
folders a commit holds) is answered from commits and trees alone, so a first run on a repository
with a large unused branch (a `gh-pages` branch of packaged charts) downloads a fraction of it.
A server without partial-clone support sends everything instead; the answers are the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from gitsource.credentials import Credentials, git_auth, merge_url_credentials
from gitsource.errors import GitSourceError
from gitsource.git_command import GitResult, failure_reason, run_git
from gitsource.github_app import InstallationTokens
from gitsource.mirror import REMOTE_HEAD_REF, Mirror
from gitsource.redaction import split_userinfo

CACHE_ROOT_VARIABLE = "GITOPS_GIT_CACHE"
DEFAULT_NETWORK_TIMEOUT_SECONDS = 300.0
MIRRORED_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
REMOTE_HEAD_REFSPEC = f"+HEAD:{REMOTE_HEAD_REF}"
PARTIAL_CLONE_FILTER = "blob:none"
_NO_REMOTE_HEAD = "couldn't find remote ref HEAD"
_UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_READABLE_NAME_LENGTH = 80


def default_cache_root() -> Path:
    configured = os.environ.get(CACHE_ROOT_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "gitops" / "git"


def mirror_directory_name(url: str) -> str:
    """Readable host/path of the URL plus a hash of the whole URL, so two URLs never share one."""
    parts = urlsplit(url)
    if parts.scheme:
        readable = f"{parts.hostname or ''}/{parts.path}"
    else:
        # scp-like `user@host:path`
        readable = url.split("@", 1)[-1].replace(":", "/", 1)
    readable = _UNSAFE_NAME_CHARACTERS.sub("_", readable).strip("._-")[-MAX_READABLE_NAME_LENGTH:]
    digest = hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{readable or 'repository'}-{digest}"


class RepositoryCache:
    """Bare mirrors under one root directory, reused across processes.

    Each URL is cloned the first time it is ever seen and fetched at most once per cache object,
    so a program should make one cache and share it.
    """

    def __init__(self, root: Path | None = None, *, network_timeout: float = DEFAULT_NETWORK_TIMEOUT_SECONDS) -> None:
        self.root = Path(root) if root is not None else default_cache_root()
        self.network_timeout = network_timeout
        self._mirrors: dict[str, Mirror] = {}
        self._installation_tokens = InstallationTokens(timeout=network_timeout)

    def open(self, url: str, credentials: Credentials | None = None) -> Mirror:
        """The up-to-date mirror of `url` (cloned or fetched now, unless done by this cache)."""
        remote_url, url_username, url_password = split_userinfo(url.strip())
        mirror = self._mirrors.get(remote_url)
        if mirror is not None:
            return mirror
        credentials = merge_url_credentials(url_username, url_password, credentials)
        path = self.root / mirror_directory_name(remote_url)
        self.root.mkdir(parents=True, exist_ok=True)
        with _exclusive_lock(path.with_name(path.name + ".lock")):
            if _is_mirror(path):
                self._fetch(remote_url, path, credentials)
            else:
                shutil.rmtree(path, ignore_errors=True)
                # Holding the lock, no other clone of this URL is running: any staging directory
                # left is from a process killed mid-clone.
                for leftover in self.root.glob(f".{path.name}.*"):
                    shutil.rmtree(leftover, ignore_errors=True)
                self._clone(remote_url, path, credentials)
        mirror = Mirror(remote_url, path)
        self._mirrors[remote_url] = mirror
        return mirror

    def _clone(self, url: str, path: Path, credentials: Credentials | None) -> None:
        # Made beside its final place and renamed in one step: a crash mid-clone never leaves
        # a directory that looks like a complete mirror.
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=self.root))
        try:
            result = run_git(["init", "--bare", "--quiet"], cwd=self.root, environment={"GIT_DIR": str(staging)})
            if not result.ok:
                raise GitSourceError(f"cannot create a mirror in {self.root}: {failure_reason(result.stderr)}")
            self._configure(staging, "remote.origin.url", url)
            # Branches and tags only, with force and pruning, like Argo CD's own view of the
            # remote; hosts' extra refs (pull requests) are never downloaded.
            for index, refspec in enumerate(MIRRORED_REFSPECS):
                mode = "--replace-all" if index == 0 else "--add"
                self._configure(staging, mode, "remote.origin.fetch", refspec)
            # A first clone is the same fetch as every later one: one way to read the remote.
            self._fetch(url, staging, credentials, action="clone")
            os.rename(staging, path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _fetch(self, url: str, path: Path, credentials: Credentials | None, action: str = "fetch") -> None:
        """Bring branches, tags and the remote's HEAD up to date (commits and trees only).

        Argo CD resolves `HEAD` against the remote at every refresh (`nativeGitClient.LsRemote` in
        argo-cd util/git/client.go reads the remote's refs and follows its HEAD), so the remote's
        HEAD is fetched every time into REMOTE_HEAD_REF: a remote that switches its default branch
        is followed on the next run. A remote without a HEAD (empty, or HEAD naming a deleted branch)
        is fetched without it, and HEAD then resolves to nothing.
        """
        with git_auth(url, credentials, self._installation_tokens.token_for) as auth:
            environment = {"GIT_DIR": str(path), **auth.environment}
            result = self._fetch_refspecs(path, environment, (*MIRRORED_REFSPECS, REMOTE_HEAD_REFSPEC))
            if not result.ok and _NO_REMOTE_HEAD in result.stderr:
                result = self._fetch_refspecs(path, environment, MIRRORED_REFSPECS)
                if result.ok:
                    run_git(["update-ref", "-d", REMOTE_HEAD_REF], cwd=path, environment={"GIT_DIR": str(path)})
            if not result.ok:
                raise _remote_failure(action, url, result.stderr, auth.secrets, credentials)

    def _fetch_refspecs(self, path: Path, environment: dict[str, str], refspecs: tuple[str, ...]) -> GitResult:
        return run_git(
            ["fetch", "--prune", "--quiet", f"--filter={PARTIAL_CLONE_FILTER}", "origin", *refspecs],
            cwd=path,
            environment=environment,
            timeout=self.network_timeout,
        )

    @staticmethod
    def _configure(repository: Path, *arguments: str) -> None:
        result = run_git(["config", *arguments], cwd=repository, environment={"GIT_DIR": str(repository)})
        if not result.ok:
            raise GitSourceError(f"cannot configure mirror {repository}: {failure_reason(result.stderr)}")


def _remote_failure(
    action: str, url: str, stderr: str, secrets: tuple[str, ...], credentials: Credentials | None
) -> GitSourceError:
    reason = failure_reason(stderr, secrets)
    # With prompts disabled, git reports a rejected login as a username it could not read.
    if "terminal prompts disabled" in stderr:
        if credentials is None:
            reason = f"the server asks for credentials and none were given ({reason})"
        else:
            reason = f"the server rejected the credentials ({reason})"
    return GitSourceError(f"cannot {action} {url}: {reason}")


def _is_mirror(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


@contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Serialize clone and fetch of one mirror across processes."""
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
