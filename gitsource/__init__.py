"""The git layer: bare mirrors of application repositories, revision resolution and discovery."""

from gitsource.app_types import AppType
from gitsource.cache import RepositoryCache
from gitsource.credentials import Credentials
from gitsource.errors import GitSourceError
from gitsource.mirror import Mirror

__all__ = ["AppType", "Credentials", "GitSourceError", "Mirror", "RepositoryCache"]
