"""Folder patterns with Go's `path.Match` semantics, the matcher Argo CD's ApplicationSet git
directory generator uses (`GitGenerator.filterApps` in applicationset/generators/git.go).

Go's rules differ from Python's `fnmatch` where it matters: `[^h]` negates a class and `[!h]`
is the class of `!` and `h`; `*` and `?` never match `/`, while a class can; a malformed pattern
(`[a`, a trailing backslash, `[]`) is an error instead of literal text. A pattern must match the
whole folder path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitsource.errors import GitSourceError

_ANY_RUN = "[^/]*"
_ANY_ONE = "[^/]"


@dataclass(frozen=True)
class Segment:
    """One `/`-separated part of a pattern: a literal name, or a matcher of one name."""

    literal: str | None
    matcher: re.Pattern[str] | None
    """Matches one whole name (`re.match(name, pos, endpos)` semantics); None means any name (`*`)."""


@dataclass(frozen=True)
class PathPattern:
    text: str
    regex: re.Pattern[str]
    """Matches a whole folder path."""
    segments: tuple[Segment, ...] | None
    """The pattern split at its `/`, when nothing in it can match a `/` (no class that does);
    then a folder matches when each of its names matches the segment at its depth."""

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def compile_path_pattern(text: str) -> PathPattern:
    """Compile `text` the way Go's `path.Match` reads it; GitSourceError when Go would report
    `syntax error in pattern`."""
    pieces: list[tuple[str, str]] = []  # (kind, value): kind is "text", "regex" or "slash"
    can_match_slash = False
    index = 0
    while index < len(text):
        character = text[index]
        if character == "*":
            while index < len(text) and text[index] == "*":
                index += 1
            pieces.append(("regex", _ANY_RUN))
            continue
        if character == "?":
            pieces.append(("regex", _ANY_ONE))
        elif character == "\\":
            if index + 1 == len(text):
                raise _syntax_error(text, "it ends with a backslash")
            index += 1
            pieces.append(("text", text[index]))
        elif character == "[":
            regex, index, class_matches_slash = _character_class(text, index)
            can_match_slash |= class_matches_slash
            pieces.append(("regex", regex))
            continue
        elif character == "/":
            pieces.append(("slash", "/"))
        else:
            pieces.append(("text", character))
        index += 1
    whole = "".join(re.escape(value) if kind != "regex" else value for kind, value in pieces)
    segments = None if can_match_slash else _segments(pieces)
    return PathPattern(text, re.compile(whole, re.DOTALL), segments)


def path_match(pattern: str, path: str) -> bool:
    """Go's `path.Match(pattern, path)`, raising GitSourceError for a malformed pattern."""
    return compile_path_pattern(pattern).matches(path)


def _character_class(text: str, start: int) -> tuple[str, int, bool]:
    """The regex of the class opening at `start`, the index after it, and whether it can match `/`.

    Go reads `[`, an optional `^`, then one or more `lo` or `lo-hi` ranges up to `]`; inside,
    `-` and `]` must be escaped, and a range whose `lo` is above its `hi` matches nothing.
    """
    index = start + 1
    negated = index < len(text) and text[index] == "^"
    if negated:
        index += 1
    ranges: list[tuple[str, str]] = []
    while True:
        if index < len(text) and text[index] == "]" and ranges:
            index += 1
            break
        low, index = _class_character(text, index)
        high = low
        if index < len(text) and text[index] == "-":
            high, index = _class_character(text, index + 1)
        ranges.append((low, high))
    usable = [(low, high) for low, high in ranges if low <= high]
    contains_slash = any(low <= "/" <= high for low, high in usable)
    body = "".join(re.escape(low) if low == high else f"{re.escape(low)}-{re.escape(high)}" for low, high in usable)
    if negated:
        regex = f"[^{body}]" if body else "."
    else:
        regex = f"[{body}]" if body else "(?!)"
    return regex, index, contains_slash != negated


def _class_character(text: str, index: int) -> tuple[str, int]:
    if index >= len(text):
        raise _syntax_error(text, "a character class is not closed with ]")
    character = text[index]
    if character in "-]":
        raise _syntax_error(text, f"'{character}' must be escaped inside a character class")
    if character == "\\":
        index += 1
        if index >= len(text):
            raise _syntax_error(text, "it ends with a backslash")
        character = text[index]
    if index + 1 >= len(text):
        raise _syntax_error(text, "a character class is not closed with ]")
    return character, index + 1


def _segments(pieces: list[tuple[str, str]]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    current: list[tuple[str, str]] = []
    for piece in [*pieces, ("slash", "/")]:
        if piece[0] != "slash":
            current.append(piece)
            continue
        if all(kind == "text" for kind, _ in current):
            segments.append(Segment("".join(value for _, value in current), None))
        elif current == [("regex", _ANY_RUN)]:
            segments.append(Segment(None, None))
        else:
            regex = "".join(re.escape(value) if kind == "text" else value for kind, value in current)
            segments.append(Segment(None, re.compile(regex + r"\Z", re.DOTALL)))
        current = []
    return tuple(segments)


def _syntax_error(pattern: str, reason: str) -> GitSourceError:
    return GitSourceError(f"'{pattern}' is not a valid folder pattern: {reason} (Go's path.Match syntax)")
