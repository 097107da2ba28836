"""Whether an AppProject lets an Application use a repository and a destination, decided as Argo CD
decides it, or left undecided (None) where this program cannot know the answer.

Mirrors, in argo-cd pkg/apis/application/v1alpha1/app_project_types.go, `globMatch`,
`IsSourcePermitted` and `isDestinationMatched`, over `glob.Match` (util/glob/glob.go, the gobwas/glob
library) and `git.NormalizeGitURL` (util/git/git.go). Two things only the cluster knows are left
to Argo CD: the server URL of a cluster given by name (and the name of one given by URL), except
the cluster Argo CD runs in, `in-cluster` at https://kubernetes.default.svc; and the clusters a
project scopes (`permitOnlyProjectScopedClusters`). Those answers are unknown, and unknown answers
are carried through Argo CD's own conditions with three-valued logic, so a decision made here is
the one Argo CD makes whatever the unknowns turn out to be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from settings.applications import IN_CLUSTER_NAME, IN_CLUSTER_SERVER, ProjectDestination

Decision = bool | None
"""True permitted, False refused, None: only Argo CD can tell."""

UNKNOWN: None = None
_SSH_URL = re.compile(r"^(ssh://)?([^/:]*?)@[^@]+$")
# Characters Go's url.Parse rejects or url.String re-escapes: a URL holding one is normalised in
# ways not reproduced here.
_URL_REWRITTEN_BY_GO = re.compile(r"[\s{}\"<>\\^`|#%]|[^\x00-\x7f]")


class InvalidGlob(ValueError):
    """A pattern gobwas/glob cannot compile: Argo CD logs it and treats it as matching nothing."""


# --- gobwas/glob ------------------------------------------------------------------------------


@cache
def _compile_glob(pattern: str, separators: str) -> re.Pattern[str]:
    """gobwas/glob's syntax as a regular expression: `*` any run of non-separators, `**` any run,
    `?` one non-separator, `[abc]` / `[!abc]` / `[a-z]` / `[!a-z]` one character (a class holds
    either a list or one range), `{a,b}` alternatives (nested), and `\\` escapes."""
    not_separator = f"[^{re.escape(separators)}]" if separators else "."
    index = 0

    def sequence(inside_terms: bool) -> str:
        nonlocal index
        parts: list[str] = []
        while index < len(pattern):
            character = pattern[index]
            if inside_terms and character in ",}":
                return "".join(parts)
            index += 1
            if character == "*":
                if index < len(pattern) and pattern[index] == "*":
                    index += 1
                    parts.append(".*")
                else:
                    parts.append(f"{not_separator}*")
            elif character == "?":
                parts.append(not_separator)
            elif character == "[":
                parts.append(character_class())
            elif character == "{":
                alternatives = [sequence(inside_terms=True)]
                while index < len(pattern) and pattern[index] == ",":
                    index += 1
                    alternatives.append(sequence(inside_terms=True))
                if index >= len(pattern) or pattern[index] != "}":
                    raise InvalidGlob(f"unclosed {{ in {pattern!r}")
                index += 1
                parts.append("(?:" + "|".join(alternatives) + ")")
            elif character == "\\":
                if index >= len(pattern):
                    raise InvalidGlob(f"trailing backslash in {pattern!r}")
                parts.append(re.escape(pattern[index]))
                index += 1
            else:
                parts.append(re.escape(character))
        return "".join(parts)

    def character_class() -> str:
        nonlocal index
        negated = index < len(pattern) and pattern[index] == "!"
        if negated:
            index += 1
        if index + 1 < len(pattern) and pattern[index + 1] == "-":
            if index + 2 >= len(pattern) or index + 3 >= len(pattern) or pattern[index + 3] != "]":
                raise InvalidGlob(f"bad range in {pattern!r}")
            low, high = pattern[index], pattern[index + 2]
            index += 4
            body = f"{re.escape(low)}-{re.escape(high)}" if low <= high else ""
        else:
            characters: list[str] = []
            while index < len(pattern) and pattern[index] != "]":
                if pattern[index] == "\\" and index + 1 < len(pattern):
                    index += 1
                characters.append(pattern[index])
                index += 1
            if index >= len(pattern) or not characters:
                raise InvalidGlob(f"bad character class in {pattern!r}")
            index += 1
            body = "".join(re.escape(character) for character in characters)
        if negated:
            return f"[^{body}]" if body else "."
        return f"[{body}]" if body else "(?!)"

    regex = sequence(inside_terms=False)
    if index != len(pattern):
        raise InvalidGlob(f"unexpected {pattern[index]!r} in {pattern!r}")
    return re.compile(regex, re.DOTALL)


def glob_match(pattern: str, text: str, separators: str = "") -> bool:
    """Argo CD's `glob.Match(pattern, text, separators...)`; InvalidGlob where it would log and
    answer false."""
    return _compile_glob(pattern, separators).fullmatch(text) is not None


def _matches_everything(pattern: str) -> bool:
    return pattern != "" and set(pattern) == {"*"}


def _project_glob(pattern: str, value: str | None, separators: str = "") -> Decision:
    """Argo CD's `globMatch(pattern, value, allowNegation=true)`; `value` None is a value only the
    cluster knows."""
    denied = pattern.startswith("!")
    inner = pattern[1:] if denied else pattern
    if not denied and pattern == "*":
        return True
    if value is None:
        # Cluster names and URLs are never empty: "" matches none of them, "*" all of them.
        if inner == "":
            return denied
        if _matches_everything(inner):
            return not denied
        return UNKNOWN
    try:
        matched = glob_match(inner, value, separators)
    except InvalidGlob:
        return UNKNOWN  # Argo CD would log and answer false; not worth refusing on
    return not matched if denied else matched


# --- three-valued logic -----------------------------------------------------------------------


def _and(*values: Decision) -> Decision:
    if any(value is False for value in values):
        return False
    return True if all(value is True for value in values) else UNKNOWN


def _or(*values: Decision) -> Decision:
    if any(value is True for value in values):
        return True
    return False if all(value is False for value in values) else UNKNOWN


def _not(value: Decision) -> Decision:
    return UNKNOWN if value is None else not value


# --- sources ----------------------------------------------------------------------------------


def normalize_git_url(url: str) -> str | None:
    """Argo CD's `git.NormalizeGitURL`: lowercase, `git@host:path` as `host/path`, no `.git`
    suffix, no `ssh://`; None for a URL Go's URL parser would rewrite in ways not reproduced here."""
    normalized = url.strip().lower()
    if _URL_REWRITTEN_BY_GO.search(normalized):
        return None
    if _SSH_URL.match(normalized) and not normalized.startswith("ssh://"):
        normalized = "ssh://" + normalized.replace(":", "/", 1)
    return normalized.removesuffix(".git").removeprefix("ssh://")


def source_permitted(repository_url: str, source_repos: Iterable[str]) -> Decision:
    """Argo CD's `AppProject.IsSourcePermitted`: some entry matches the normalised URL as a glob in
    which `*` stops at `/`, and no `!deny` entry matches it. Note Argo CD's own quirk, kept here: a
    deny entry that does not match counts as a match, so `["!https://github.com/evil/*"]` alone
    permits every other repository."""
    source = normalize_git_url(repository_url)
    any_matched: Decision = False
    for entry in source_repos:
        denied = entry.startswith("!")
        normalized = normalize_git_url(entry.removeprefix("!"))
        if source is None or normalized is None:
            any_matched = _or(any_matched, UNKNOWN)
            continue
        matched = _project_glob(("!" if denied else "") + normalized, source, "/")
        if matched is False and denied:
            return False
        any_matched = _or(any_matched, matched)
    return any_matched


# --- destinations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Destination:
    """Where an Application deploys, as far as this program knows it: None is a part only the
    cluster knows."""

    name: str | None
    server: str | None
    namespace: str

    @classmethod
    def of(cls, name: str | None, server: str | None, namespace: str) -> Destination:
        """An Application's destination (by name or by server) with what Argo CD's cluster lookup
        would add to it, where that is certain: the cluster it runs in."""
        if name == IN_CLUSTER_NAME or (name is None and server in (None, IN_CLUSTER_SERVER)):
            return cls(IN_CLUSTER_NAME, IN_CLUSTER_SERVER, namespace)
        return cls(name, server, namespace)


def destination_permitted(
    destination: Destination, allowed: Sequence[ProjectDestination], only_project_scoped_clusters: bool = False
) -> Decision:
    """Argo CD's `AppProject.IsDestinationPermitted`: some entry matches the cluster (by name or by
    server) and the namespace, and no entry whose `!deny` pattern fails to match is there."""
    any_matched: Decision = False
    no_deny_matched: Decision = True
    for item in allowed:
        name_pattern, server_pattern = item.name or "", item.server or ""
        name_matched = _project_glob(name_pattern, destination.name)
        server_matched = _project_glob(server_pattern, destination.server)
        namespace_matched = _project_glob(item.namespace, destination.namespace)
        matched = _and(_or(server_matched, name_matched), namespace_matched)
        denied_here = _or(
            _and(_not(name_matched), name_pattern.startswith("!")),
            _and(_not(server_matched), server_pattern.startswith("!")),
            _and(_not(namespace_matched), item.namespace.startswith("!")),
        )
        any_matched = _or(any_matched, matched)
        # Argo CD: `if matched {...} else if denied_here { noDenyDestinationsMatched = false }`.
        no_deny_matched = _and(no_deny_matched, _not(_and(_not(matched), denied_here)))
    permitted = _and(any_matched, no_deny_matched)
    if permitted is True and only_project_scoped_clusters:
        return UNKNOWN  # the project's own cluster list lives in the cluster
    return permitted
