"""Running one git command through GitPython and turning its failure into a clean reason."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import git

from gitsource.redaction import redact

# Never wait for a username, password or passphrase that nobody will type.
NON_INTERACTIVE_ENVIRONMENT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}

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
    """Run `git ARGUMENTS` in `cwd`; never raises for a non-zero exit. `stdin` must be small."""
    with _input_pipe(stdin) as input_stream:
        status, stdout, stderr = git.Git(cwd).execute(
            ["git", *arguments],
            istream=input_stream,
            env={**NON_INTERACTIVE_ENVIRONMENT, **(environment or {})},
            kill_after_timeout=timeout,
            with_extended_output=True,
            with_exceptions=False,
            stdout_as_string=False,
            strip_newline_in_stdout=False,
        )
    # GitPython always hands stderr back decoded, whatever `stdout_as_string` says.
    message = stderr if isinstance(stderr, str) else stderr.decode("utf-8", errors="replace")
    # GitPython replaces stderr with its own text (quoting the whole command) when it kills git.
    if timeout is not None and status != 0 and message.startswith("Timeout: the command"):
        message = f"fatal: timed out after {timeout:g} s"
    return GitResult(status, stdout, message)


@contextmanager
def _input_pipe(data: bytes | None) -> Iterator[BinaryIO | None]:
    """A pipe already holding all of `data`, to hand to git as stdin; None without data.

    GitPython takes stdin only as a file. Input this small fits in the pipe's buffer, so writing
    it before git starts cannot block.
    """
    if data is None:
        yield None
        return
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "wb") as writer:
        writer.write(data)
    with os.fdopen(read_end, "rb") as reader:
        yield reader


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
    # GitPython's wrapper kills the process when it is garbage collected: keep it referenced.
    wrapper = git.Git(cwd).execute(
        ["git", *arguments], env={**NON_INTERACTIVE_ENVIRONMENT, **(environment or {})}, as_process=True
    )
    process = wrapper.proc
    try:
        descriptor = process.stdout.fileno()
        while chunk := os.read(descriptor, 65536):
            on_output(chunk)
        # stderr is read only once stdout is closed: the commands streamed here write at most a
        # line or two there, far below the pipe's buffer, so git cannot block on it.
        stderr = process.stderr.read()
        status = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
    return GitResult(status, b"", stderr.decode("utf-8", errors="replace"))


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
