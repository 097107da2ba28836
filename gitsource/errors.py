"""The exceptions this package raises."""

from __future__ import annotations

from gitsource.redaction import strip_userinfo


class GitSourceError(Exception):
    """A git source could not be used. The message is one line and never holds a credential."""

    def __init__(self, message: str) -> None:
        lines = (line.strip() for line in strip_userinfo(message).splitlines())
        super().__init__("; ".join(line for line in lines if line))


class RevisionNotFound(GitSourceError):
    """A revision that is no branch, tag or commit of the repository."""

    def __init__(self, message: str, revision: str, names: list[str]) -> None:
        super().__init__(message)
        self.revision = revision
        self.names = names
        """The repository's branches and tags, for whoever suggests a close one."""
