"""The git layer: bare mirrors of application repositories, revision resolution and discovery.

    cache = RepositoryCache()                    # one per program run: each URL is fetched once
    mirror = cache.open(url, Credentials(...))   # cloned the first time, fetched afterwards
    commit = mirror.resolve("main")              # branch, tag, commit id or HEAD -> 40-hex id
    mirror.discover_typed(commit, ["apps/*"])    # [("apps/web", AppType.HELM), ...]

Every failure is a GitSourceError: one line, naming the URL, never showing a credential.
"""

from gitsource.app_types import AppType
from gitsource.cache import RepositoryCache
from gitsource.credentials import Credentials
from gitsource.errors import GitSourceError, RevisionNotFound
from gitsource.mirror import Mirror

__all__ = ["AppType", "Credentials", "GitSourceError", "Mirror", "RepositoryCache", "RevisionNotFound"]
