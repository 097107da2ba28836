"""Keeping credentials out of every message, URL and log line this package produces."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

REDACTED = "REDACTED"
"""What stands for a secret everywhere the project shows one: messages, reprs, renders, reports. Also
valid base64, so a rendered Secret's redacted `data` still validates."""
SSH_SCHEMES = ("ssh", "git+ssh", "ssh+git")

# Userinfo ends at the last "@" before the host, so a careless password containing a raw "@"
# is removed whole instead of leaving its tail behind.
_USERINFO_IN_URL = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s'\"]*@")


def strip_userinfo(text: str) -> str:
    """Remove `user:password@` from every `scheme://` URL inside `text`."""
    return _USERINFO_IN_URL.sub(r"\g<scheme>", text)


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """Split a URL into (URL without secrets, username, password).

    SSH URLs keep the username, which ssh needs to log in, and lose only the password. Every other
    scheme loses its whole userinfo: over HTTP(S) the username travels with the password in a header.
    """
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url, None, None
    userinfo, _, host = parts.netloc.rpartition("@")
    raw_username, has_password, raw_password = userinfo.partition(":")
    username = unquote(raw_username) or None
    password = unquote(raw_password) if has_password else None
    if parts.scheme in SSH_SCHEMES and raw_username:
        netloc = f"{raw_username}@{host}"
    else:
        netloc = host
    clean_url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean_url, username, password


def secret_variants(secret: str) -> set[str]:
    """The forms a secret can take in git's output: as is, percent-encoded, inside a Basic header."""
    variants = {secret, quote(secret, safe=""), quote(secret)}
    # A key is also redacted line by line, in case a tool echoes part of it.
    variants.update(line.strip() for line in secret.splitlines() if len(line.strip()) >= 16)
    return {variant for variant in variants if variant}


def basic_auth_value(username: str, password: str) -> str:
    return base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace every secret (and its encoded forms) in `text`, then strip URL userinfo."""
    variants: set[str] = set()
    for secret in secrets:
        if secret:
            variants |= secret_variants(secret)
    # Longest first, so a secret containing another is not left half-replaced.
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, REDACTED)
    return strip_userinfo(text)
