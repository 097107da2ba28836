"""One stand-in for `pulumi.automation.Stack` (the `ops.automation.AutomationStack` protocol) for
every ops test: it replays a preview's engine events and the error the CLI returns, exports a
state, returns outputs and an `up` summary, and records each call."""

from typing import Any

from pulumi.automation import Deployment, OutputValue, UpdateSummary, UpResult

from ops import automation
from ops.argocd_status import APPLICATION_TYPE


def argocd_application(name: str, sync: str = "Synced", health: str = "Healthy", revision: str = "c" * 40, **metadata: Any):
    """An Argo CD Application as a refreshed state holds it."""
    return {
        "urn": f"urn:pulumi:dev::gitops::{APPLICATION_TYPE}::{name}",
        "type": APPLICATION_TYPE,
        "outputs": {
            "metadata": {"name": name, "namespace": "argocd", **metadata},
            "status": {"sync": {"status": sync, "revision": revision}, "health": {"status": health}},
        },
    }


class FakeStack:
    def __init__(
        self,
        events=(),
        preview_error: BaseException | None = None,
        *,
        resources=(),
        applications: dict[str, Any] | None = None,
        refresh_error: BaseException | None = None,
        up_error: BaseException | None = None,
    ) -> None:
        """`events` and then `preview_error` are what a preview gives, `resources` what the state
        holds, `applications` the `applications` stack output."""
        self.events, self.preview_error = list(events), preview_error
        self.resources, self.applications = list(resources), applications
        self.refresh_error, self.up_error = refresh_error, up_error
        self.calls: list[str] = []
        self.previews: list[dict[str, Any]] = []
        """The options of each preview."""
        self.opened: list[str] = []
        """The stacks `ops` opened, when installed with `open_as_every_stack`."""

    def refresh(self, **kwargs):
        self.calls.append("refresh")
        if self.refresh_error:
            raise self.refresh_error

    def preview(self, on_event=None, **kwargs):
        self.calls.append("preview")
        self.previews.append(kwargs)
        for event in self.events:
            on_event(event)
        if self.preview_error:
            raise self.preview_error

    def export_stack(self):
        self.calls.append("export")
        return Deployment(version=3, deployment={"resources": self.resources})

    def outputs(self):
        self.calls.append("outputs")
        return {} if self.applications is None else {"applications": OutputValue(self.applications, secret=False)}

    def up(self, **kwargs):
        self.calls.append("up")
        if self.up_error:
            raise self.up_error
        summary = UpdateSummary(
            kind="update",
            start_time=None,
            message="",
            environment={},
            config={},
            result="succeeded",
            resource_changes={"update": 1, "same": 3},
        )
        return UpResult(stdout="", stderr="", summary=summary, outputs={})


def open_as_every_stack(monkeypatch, fake: FakeStack) -> FakeStack:
    """Make `ops` open `fake` whatever stack it asks for, recording the names in `fake.opened`."""

    def open_stack(name, root, create=False):
        fake.opened.append(name)
        return fake

    monkeypatch.setattr(automation, "open_stack", open_stack)
    return fake
