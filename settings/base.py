"""The base every settings model shares (camelCase keys, unknown keys rejected, no coercion) and
the field types several models use.

A format check is written one way: `formatted(expected, pattern=...)` or `formatted(expected,
check=...)`. Its error reads "expected <expected>, got <value>", the value left out when it is a
secret. Other checks raise ValueError or KeyProblems with messages that never repeat the value.
"""

import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class Settings(BaseModel):
    """Stack keys are camelCase like every Pulumi config key; `"yes"` is not a boolean here."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        strict=True,
        frozen=True,
        # Each schema is built once the stack's settings are first validated, as part of StackSettings':
        # the 56 models built one by one at import cost every process 10-20 ms more.
        defer_build=True,
    )


def formatted(expected: str, *, pattern: str | None = None, check: Callable[[str], bool] | None = None) -> AfterValidator:
    """A check that a string (or a secret's value) matches `pattern` or passes `check`; `expected`
    says what a good value looks like, with an example: "an AWS region like eu-west-1"."""
    matcher = re.compile(pattern) if pattern else None

    def validate(value: str | SecretStr) -> str | SecretStr:
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if (matcher is not None and not matcher.fullmatch(text)) or (check is not None and not check(text)):
            raise PydanticCustomError("format", "expected {expected}", {"expected": expected})
        return value

    return AfterValidator(validate)


def _no_credentials(value: str) -> str:
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@", value):
        raise ValueError("must not hold credentials (user:password@): a URL is stored and shown in plain text")
    return value


def _not_empty(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise ValueError("must not be empty")
    return value


DNS_LABEL = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"
"""RFC 1123 label, Kubernetes' IsDNS1123Label: namespaces and most names, at most 63 characters."""
DNS_SUBDOMAIN = r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
"""Kubernetes' IsDNS1123Subdomain: names of most objects (an Application's too), dots allowed, at most 253."""
HOST_NAME = rf"(?=.{{1,253}}$){DNS_LABEL}(\.{DNS_LABEL})*"
"""A DNS host name: labels of at most 63 characters, at most 253 in all."""


def is_dns_label(value: str) -> bool:
    return re.fullmatch(DNS_LABEL, value) is not None


def is_dns_subdomain(value: str) -> bool:
    return re.fullmatch(DNS_SUBDOMAIN, value) is not None


KubernetesName = Annotated[
    str, formatted("a Kubernetes name like team-api (lowercase letters, digits and '-', at most 63)", pattern=DNS_LABEL)
]
DnsName = Annotated[str, formatted("a DNS name like argocd.example.com", pattern=HOST_NAME)]
Version = Annotated[str, formatted("a version like 10.1.1", pattern=r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")]
Url = Annotated[
    str,
    AfterValidator(_no_credentials),
    formatted(
        "an https:// or oci:// URL like https://argoproj.github.io/argo-helm", pattern=r"(https?|oci)://[^\s/:@]+(:\d+)?(/\S*)?"
    ),
]
Secret = Annotated[SecretStr, AfterValidator(_not_empty)]
"""A password, token or key: a Pulumi secret from the stack file to the state."""
