"""GitHub App installation tokens: a short JWT signed with the app's key, exchanged at the API."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import datetime

from gitsource.credentials import Credentials
from gitsource.errors import GitSourceError
from gitsource.redaction import redact

# GitHub rejects app JWTs that live longer than 10 minutes; iat is backdated for clock skew.
JWT_LIFETIME_SECONDS = 540
JWT_BACKDATE_SECONDS = 60
# A cached installation token is replaced this long before GitHub expires it (after 1 hour).
TOKEN_RENEWAL_MARGIN_SECONDS = 300


def app_jwt(app_id: int, private_key: str, now: float) -> str:
    """The RS256 JWT that authenticates as the app itself."""
    # Imported here so that programs without a GitHub App never pay for loading cryptography.
    import jwt
    from cryptography.exceptions import UnsupportedAlgorithm

    claims = {
        "iat": int(now) - JWT_BACKDATE_SECONDS,
        "exp": int(now) + JWT_LIFETIME_SECONDS,
        "iss": str(app_id),
    }
    try:
        return jwt.encode(claims, private_key, algorithm="RS256")
    except (ValueError, TypeError, UnsupportedAlgorithm, jwt.PyJWTError):
        raise GitSourceError(f"the private key of GitHub App {app_id} is not a valid RSA private key in PEM format") from None


def installation_token_endpoint(api_url: str, installation_id: int) -> str:
    return f"{api_url.rstrip('/')}/app/installations/{installation_id}/access_tokens"


def request_installation_token(credentials: Credentials, app_token: str, timeout: float) -> tuple[str, float]:
    """Exchange the app JWT for an installation token; returns (token, expiry as epoch seconds)."""
    assert credentials.github_app_installation_id is not None
    endpoint = installation_token_endpoint(credentials.github_api_url, credentials.github_app_installation_id)
    request = urllib.request.Request(
        endpoint,
        method="POST",
        headers={
            "Authorization": f"Bearer {app_token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        },
    )
    secrets = (app_token, *credentials.secret_values())
    failure = f"GitHub App {credentials.github_app_id}: token request to {endpoint} failed"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read())
    except urllib.error.HTTPError as error:
        reason = f"HTTP {error.code} {_api_message(error) or error.reason}"
        raise GitSourceError(redact(f"{failure}: {reason}", secrets)) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise GitSourceError(redact(f"{failure}: {reason}", secrets)) from None
    except json.JSONDecodeError:
        raise GitSourceError(f"{failure}: the answer is not JSON") from None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise GitSourceError(f"{failure}: the answer has no token")
    return token, _expiry(body.get("expires_at"))


def _api_message(error: urllib.error.HTTPError) -> str | None:
    try:
        message = json.loads(error.read()).get("message")
    except (ValueError, AttributeError, OSError):
        return None
    return message if isinstance(message, str) else None


def _expiry(expires_at: object) -> float:
    if isinstance(expires_at, str):
        try:
            return datetime.fromisoformat(expires_at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    # Without a readable expiry, assume GitHub's documented one hour.
    return time.time() + 3600


class InstallationTokens:
    """Mints installation tokens on demand and reuses each one until shortly before it expires."""

    def __init__(self, timeout: float = 30.0, clock: Callable[[], float] = time.time) -> None:
        self._timeout = timeout
        self._clock = clock
        self._tokens: dict[tuple[str, int, int], tuple[str, float]] = {}

    def token_for(self, credentials: Credentials) -> str:
        assert credentials.github_app_id is not None
        assert credentials.github_app_installation_id is not None
        assert credentials.github_app_private_key is not None
        key = (
            credentials.github_api_url,
            credentials.github_app_id,
            credentials.github_app_installation_id,
        )
        now = self._clock()
        cached = self._tokens.get(key)
        if cached is not None and cached[1] - TOKEN_RENEWAL_MARGIN_SECONDS > now:
            return cached[0]
        app_token = app_jwt(credentials.github_app_id, credentials.github_app_private_key, now)
        token, expires = request_installation_token(credentials, app_token, self._timeout)
        self._tokens[key] = (token, expires)
        return token
