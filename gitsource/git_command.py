"""Running one git command and turning its failure into a clean reason."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gitsource.redaction import redact

# Never wait for a username, password or passphrase that nobody will type; git's messages in
# English, which the failure reasons below are read from.
NON_INTERACTIVE_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", "LANGUAGE": "C", "LC_ALL": "C"}

# Lines git prints on every failure that say nothing about this one.
_NOISE_PREFIXES = (
    "Cloning into",
    "hint:",
    "Please make sure you have the correct access rights",
    "and the repository exists.",
)
_MESSAGE_PREFIXES = ("fatal: ", "error: ")
MAX_REASON_LENGTH = 400


@dataclass(frozen=True)
class GitResult:
    status: int
    stdout: bytes
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0


def run_git(
    arguments: Sequence[str],
    *,
    cwd: Path,
    environment: Mapping[str, str] | None = None,
    timeout: float | None = None,
    stdin: bytes | None = None,
) -> GitResult:
    """Run `git ARGUMENTS` in `cwd`; never raises for a non-zero exit."""
    process = _start(arguments, cwd, environment, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE)
    try:
        stdout, stderr = process.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(process)
        return GitResult(process.returncode, b"", f"fatal: timed out after {timeout:g} s")
    finally:
        _stop(process)
    return GitResult(process.returncode, stdout, stderr.decode("utf-8", errors="replace"))


def stream_git(
    arguments: Sequence[str],
    *,
    cwd: Path,
    on_output: Callable[[bytes], None],
    environment: Mapping[str, str] | None = None,
) -> GitResult:
    """Run `git ARGUMENTS`, handing stdout to `on_output` chunk by chunk while git still runs.

    Parsing then overlaps git's own work instead of waiting for its last byte. The returned
    result carries no stdout.
    """
    process = _start(arguments, cwd, environment, stdin=subprocess.DEVNULL)
    try:
        descriptor = process.stdout.fileno()
        while chunk := os.read(descriptor, 65536):
            on_output(chunk)
        # stderr is read only once stdout is closed: the commands streamed here write at most a
        # line or two there, far below the pipe's buffer, so git cannot block on it.
        stderr = process.stderr.read()
        status = process.wait()
    finally:
        _stop(process)
    return GitResult(status, b"", stderr.decode("utf-8", errors="replace"))


def _start(arguments: Sequence[str], cwd: Path, environment: Mapping[str, str] | None, stdin: int) -> subprocess.Popen:
    # A process group of its own: a timeout or an interruption stops git's helpers too (the
    # remote helper of an https fetch), which would otherwise keep the pipes open.
    return subprocess.Popen(
        ["git", *arguments],
        cwd=cwd,
        env={**os.environ, **NON_INTERACTIVE_ENVIRONMENT, **(environment or {})},
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,
    )


def _stop(process: subprocess.Popen) -> None:
    """Kill git and its helpers if git still runs, wait for it and close the pipes."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def failure_reason(stderr: str, secrets: Iterable[str] = ()) -> str:
    """The informative part of git's stderr, on one line, without any secret."""
    reasons: list[str] = []
    for raw_line in stderr.splitlines():
        line = raw_line.strip()
        if not line or line.startswith(_NOISE_PREFIXES):
            continue
        for prefix in _MESSAGE_PREFIXES:
            line = line.removeprefix(prefix)
        if line not in reasons:
            reasons.append(line)
    # Redact before shortening, so a secret cut in half cannot slip through as a prefix.
    reason = redact("; ".join(reasons), secrets) or "git gave no reason"
    if len(reason) > MAX_REASON_LENGTH:
        reason = reason[: MAX_REASON_LENGTH - 3] + "..."
    return reason
