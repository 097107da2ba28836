"""Whether the commits a promotion carries exist on a branch or tag of their repositories, read
with the credentials the target stack configures for each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gitsource import GitSourceError, RepositoryCache
from gitsource.redaction import strip_userinfo
from ops.errors import OpsError, PromotionRefused
from ops.promotion_plan import Plan


def repository_credentials(url: str, settings: Any) -> Any:
    """The git credentials a stack configures for `url`, chosen as the program chooses them
    (`components.app_sources.repository_credentials`). None when there are none, or when a secret
    is only the placeholder of a stack file read without its GITOPS_SECRET_* variables (the git
    credential helpers of the machine are then left to do the job)."""
    from components.app_sources import repository_credentials as configured_credentials
    from components.app_sources import to_git_credentials
    from settings.load import RENDER_SECRET_PLACEHOLDER

    chosen = configured_credentials(url, getattr(settings, "repositories", None) or {})
    if chosen is None:
        return None

    credentials = to_git_credentials(chosen)
    secrets = (credentials.password, credentials.ssh_private_key, credentials.github_app_private_key)
    return None if RENDER_SECRET_PLACEHOLDER in secrets else credentials


def commit_checker(settings: Any = None) -> Callable[[str, str], bool]:
    """A `(url, commit) -> bool` telling whether the repository holds the commit on one of its
    branches or tags, read through one mirror cache for the whole run, with the credentials
    `settings` configure for the repository."""
    cache = RepositoryCache()

    def has_commit(url: str, sha: str) -> bool:
        try:
            mirror = cache.open(url, repository_credentials(url, settings))
        except GitSourceError as error:
            raise OpsError(f"cannot read repository {strip_userinfo(url)}: {error}") from None
        try:
            return mirror.resolve(sha) == sha
        except GitSourceError:
            return False

    return has_commit


def repository_has_commit(url: str, sha: str) -> bool:
    return commit_checker()(url, sha)


def verify_commits(plan: Plan, has_commit: Callable[[str, str], bool] = repository_has_commit) -> None:
    for change in plan.changes:
        if not change.repository:
            raise PromotionRefused(f"{', '.join(change.apps)}: the source output names no repository")
        if not has_commit(change.repository, change.new):
            raise PromotionRefused(
                f"{', '.join(change.apps)}: repository {strip_userinfo(change.repository)} does not contain commit {change.new}"
            )
