"""Everything that drives the Pulumi Automation API: choosing the backend and the secrets provider,
selecting a stack, and turning the CLI's failures into one-line errors.

The rest of `ops` talks to a stack only through `open_stack`, so tests swap that one function for a
fake and never need the `pulumi` CLI.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import yaml

from gitsource.redaction import strip_userinfo
from ops.errors import OpsError
from ops.project import stack_file

PULUMI_INSTALL_URL = "https://www.pulumi.com/docs/install/"
STATE_DIR = ".pulumi-state"

# Backends whose secrets are encrypted with a passphrase unless the stack file names another
# provider; Pulumi Cloud (https://) encrypts them itself.
_DIY_SCHEMES = ("file://", "s3://", "gs://", "azblob://", "postgres://")


class AutomationStack(Protocol):
    """The part of `pulumi.automation.Stack` that `ops` uses (and that test fakes implement)."""

    name: str

    def outputs(self) -> Any: ...
    def refresh(self, **kwargs: Any) -> Any: ...
    def preview(self, **kwargs: Any) -> Any: ...
    def up(self, **kwargs: Any) -> Any: ...
    def export_stack(self) -> Any: ...


def backend_url(root: Path, environ: dict[str, str] | None = None) -> str:
    """PULUMI_BACKEND_URL when set, else a file backend in `<project>/.pulumi-state` (created)."""
    environ = dict(os.environ) if environ is None else environ
    configured = environ.get("PULUMI_BACKEND_URL", "").strip()
    if configured:
        return configured
    state = root / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    return state.as_uri()


def secrets_provider_of(path: Path) -> str | None:
    """The stack file's `secretsprovider:` (None means the backend's default)."""
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    provider = document.get("secretsprovider") if isinstance(document, dict) else None
    return str(provider) if provider else None


def needs_passphrase(backend: str, secrets_provider: str | None) -> bool:
    """A self-managed backend with the default or passphrase provider decrypts with a passphrase."""
    if secrets_provider and secrets_provider != "passphrase":
        return False
    return backend.startswith(_DIY_SCHEMES)


def check_passphrase(backend: str, secrets_provider: str | None, environ: dict[str, str] | None = None) -> None:
    environ = dict(os.environ) if environ is None else environ
    if not needs_passphrase(backend, secrets_provider):
        return
    if "PULUMI_CONFIG_PASSPHRASE" in environ or environ.get("PULUMI_CONFIG_PASSPHRASE_FILE"):
        return
    raise OpsError(
        f"the backend {strip_userinfo(backend)} keeps secrets encrypted with a passphrase: "
        "set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE"
    )


def require_pulumi_cli() -> str:
    found = shutil.which("pulumi")
    if not found:
        raise OpsError(f"the pulumi CLI is not on PATH: install it from {PULUMI_INSTALL_URL}")
    return found


def open_stack(name: str, root: Path, *, create: bool = False) -> AutomationStack:
    """The stack (created first when `create` and it does not exist), on a workspace of the project
    directory. The project's Pulumi.yaml and stack files are used as they are: no ProjectSettings or
    StackSettings are passed, because LocalWorkspace would rewrite those files with its own YAML
    dump and it does not know `stackConfigDir`."""
    from pulumi import automation as auto

    path = stack_file(root, name)
    require_pulumi_cli()
    backend = backend_url(root)
    provider = secrets_provider_of(path)
    check_passphrase(backend, provider)
    with automation_errors(name):
        workspace = _workspace_class()(
            work_dir=str(root),
            env_vars={"PULUMI_BACKEND_URL": backend, "PULUMI_SKIP_UPDATE_CHECK": "true"},
            # Used by `pulumi stack init` only, i.e. when `create` makes a new stack.
            secrets_provider=provider or ("passphrase" if needs_passphrase(backend, provider) else None),
        )
        if create and name not in {summary.name for summary in workspace.list_stacks()}:
            return auto.Stack.create(name, workspace)
        return auto.Stack.select(name, workspace)


def _workspace_class() -> type:
    from pulumi import automation as auto

    class UnselectingWorkspace(auto.LocalWorkspace):
        """A LocalWorkspace that leaves the user's selected stack alone. LocalWorkspace selects the
        stack it opens (`pulumi stack select`, `stack init`), so the user's next plain `pulumi up`
        would go to whatever stack `ops` last looked at; every command it runs names its stack."""

        def select_stack(self, stack_name: str) -> None:
            self.pulumi_command.run(["stack", "--stack", stack_name], self.work_dir, self._env())

        def create_stack(self, stack_name: str) -> None:
            args = ["stack", "init", stack_name, "--no-select"]
            if self.secrets_provider:
                args += ["--secrets-provider", self.secrets_provider]
            self.pulumi_command.run(args, self.work_dir, self._env())

        def _env(self) -> dict[str, str]:
            return {**({"PULUMI_HOME": self.pulumi_home} if self.pulumi_home else {}), **self.env_vars}

    return UnselectingWorkspace


@contextmanager
def automation_errors(stack: str) -> Iterator[None]:
    """Turn the Automation API's exceptions into OpsError with one line the user can act on."""
    try:
        yield
    except OpsError:
        raise
    except Exception as error:
        translated = translate_error(error, stack)
        if translated is None:
            raise
        raise translated from error


def translate_error(error: BaseException, stack: str) -> OpsError | None:
    """The one-line OpsError for an Automation API failure, or None for a bug that should surface."""
    from pulumi.automation import errors as auto_errors

    if isinstance(error, auto_errors.StackNotFoundError):
        return OpsError(
            f"unknown stack {stack!r}: its stack file exists but the backend has no such stack "
            f"(create it with `pulumi stack init {stack}`)"
        )
    if isinstance(error, auto_errors.ConcurrentUpdateError):
        return OpsError(f"stack {stack!r} is locked by another update; wait for it to finish, then retry")
    if isinstance(error, auto_errors.InvalidVersionError):
        return OpsError(f"unusable pulumi CLI: {error}")
    if isinstance(error, auto_errors.CommandError):
        return OpsError(f"pulumi failed on stack {stack!r}: {command_error_summary(str(error))}")
    if isinstance(error, FileNotFoundError) and "pulumi" in str(error):
        return OpsError(f"the pulumi CLI is not on PATH: install it from {PULUMI_INSTALL_URL}")
    return None


_UNREACHABLE = re.compile(
    r"cluster is unreachable|connection refused|no such host|i/o timeout|Unable to connect to the server"
    r"|failed to (?:load|read) kubeconfig|the server has asked for the client to provide credentials",
    re.IGNORECASE,
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def command_error_summary(text: str) -> str:
    """The most useful line of a failed pulumi command: its first `error:` line (ANSI colour
    stripped), flagged when it says the cluster cannot be reached."""
    # str(CommandError) is "code: N", "stdout: ..." and "stderr: ..." with the streams' lines.
    lines = [re.sub(r"^(?:stdout|stderr):\s*", "", strip_ansi(line).strip()) for line in text.splitlines()]
    lines = [line for line in lines if line and not re.fullmatch(r"code: -?\d+", line)]
    errors = [line for line in lines if line.lower().startswith("error:")]
    detail = [line for line in errors if not re.match(r"error: (update|preview|refresh) failed$", line)]
    chosen = (detail or errors or lines or ["unknown error"])[0]
    chosen = re.sub(r"^error:\s*", "", chosen)
    if _UNREACHABLE.search(text):
        return f"cluster unreachable: {chosen}"
    return chosen
