"""Secrets never show: URL userinfo, error text, Credentials repr, and the env handed to git."""

import base64
import os
import stat

import pytest

from gitsource import Credentials, GitSourceError
from gitsource.credentials import git_auth, http_extra_header_environment, merge_url_credentials, ssh_key_auth
from gitsource.git_command import failure_reason
from gitsource.redaction import REDACTED, redact, split_userinfo, strip_userinfo

TOKEN = "s3cr3t-token-value"


def no_installation_token(_credentials: Credentials) -> str:
    raise AssertionError("no GitHub App token should be requested")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://user:s3cr3t@host/org/repo.git", "https://host/org/repo.git"),
        (
            "fatal: unable to access 'https://x-access-token:abc@github.com/o/r/': 403",
            "fatal: unable to access 'https://github.com/o/r/': 403",
        ),
        ("https://user:p@ss@host/r and http://a:b@other/x", "https://host/r and http://other/x"),
        ("ssh://git@host:22/r.git", "ssh://host:22/r.git"),
        ("no url here, mail me@example.com", "no url here, mail me@example.com"),
        ("https://host/path@v1", "https://host/path@v1"),
    ],
)
def test_strip_userinfo_removes_credentials_from_every_url_in_text(text, expected):
    assert strip_userinfo(text) == expected


def test_split_userinfo_moves_https_credentials_out_of_the_url():
    assert split_userinfo(f"https://alice:{TOKEN}@git.example.com/org/repo.git") == (
        "https://git.example.com/org/repo.git",
        "alice",
        TOKEN,
    )
    assert split_userinfo("https://tok%2Fen@host/r") == ("https://host/r", "tok/en", None)


def test_split_userinfo_keeps_the_ssh_user_but_drops_a_password():
    assert split_userinfo("ssh://git:pw@host/r.git") == ("ssh://git@host/r.git", "git", "pw")
    assert split_userinfo("git@github.com:org/repo.git") == ("git@github.com:org/repo.git", None, None)


def test_redact_replaces_raw_percent_encoded_and_basic_header_forms():
    secret = "p@ss word/1"
    header = base64.b64encode(f"bob:{secret}".encode()).decode()
    text = f"raw {secret} encoded p%40ss%20word%2F1 header {header}"
    redacted = redact(text, [secret, header])
    assert "p@ss" not in redacted and "p%40ss" not in redacted and header not in redacted
    assert redacted.count(REDACTED) == 3


def test_failure_reason_keeps_the_cause_on_one_line_without_secrets():
    stderr = (
        "Cloning into bare repository '/cache/x'...\n"
        f"remote: invalid credentials for {TOKEN}\n"
        f"fatal: unable to access 'https://bob:{TOKEN}@host/r/': The requested URL returned error: 403\n"
        "hint: something unhelpful\n"
    )
    reason = failure_reason(stderr, [TOKEN])
    assert (
        reason
        == "remote: invalid credentials for REDACTED; unable to access 'https://host/r/': The requested URL returned error: 403"
    )


def test_failure_reason_shortens_after_redacting_so_no_secret_prefix_survives():
    secret = "x" * 50 + "SECRETTAIL"
    reason = failure_reason("fatal: " + "a" * 380 + secret, [secret])
    assert len(reason) <= 400
    assert "xxxxxxxxxx" not in reason


def test_error_message_is_one_line_and_strips_userinfo_even_when_a_caller_forgets():
    error = GitSourceError(f"cannot clone https://bob:{TOKEN}@host/r\n  fatal: boom\n")
    assert str(error) == "cannot clone https://host/r; fatal: boom"


def test_credentials_repr_and_str_hide_every_secret():
    credentials = Credentials(username="bob", password=TOKEN)
    key_credentials = Credentials(ssh_private_key=f"-----BEGIN KEY-----\n{TOKEN}\n-----END KEY-----")
    app_credentials = Credentials(github_app_id=1, github_app_installation_id=2, github_app_private_key=TOKEN)
    for shown in (credentials, key_credentials, app_credentials):
        assert TOKEN not in repr(shown)
        assert TOKEN not in str(shown)
        assert TOKEN not in repr([shown])
    assert "username='bob'" in repr(credentials)
    assert "password='REDACTED'" in repr(credentials)


@pytest.mark.parametrize(
    "arguments",
    [
        {"password": "x", "ssh_private_key": "k"},
        {"github_app_id": 1},
        {"password": "x", "github_app_id": 1, "github_app_installation_id": 2, "github_app_private_key": "k"},
    ],
)
def test_inconsistent_credentials_are_rejected_without_showing_them(arguments):
    with pytest.raises(GitSourceError) as raised:
        Credentials(**arguments)
    assert "'x'" not in str(raised.value) and "'k'" not in str(raised.value)


def test_url_credentials_are_used_only_when_none_are_given():
    explicit = Credentials(password="explicit")
    assert merge_url_credentials("u", "from-url", explicit) is explicit
    assert merge_url_credentials("u", "from-url", None) == Credentials(username="u", password="from-url")
    assert merge_url_credentials("u", None, None) is None


def test_https_auth_is_an_extra_header_scoped_to_the_host_in_the_environment(monkeypatch):
    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
    with git_auth(
        "https://git.example.com/org/repo.git", Credentials(username="bob", password=TOKEN), no_installation_token
    ) as auth:
        environment = auth.environment
    header = "Authorization: Basic " + base64.b64encode(f"bob:{TOKEN}".encode()).decode()
    assert environment == {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "http.https://git.example.com/.extraHeader",
        "GIT_CONFIG_VALUE_0": "",
        "GIT_CONFIG_KEY_1": "http.https://git.example.com/.extraHeader",
        "GIT_CONFIG_VALUE_1": header,
    }
    assert TOKEN in auth.secrets and header.split()[-1] in auth.secrets
    assert TOKEN not in repr(auth) and header.split()[-1] not in repr(auth)


def test_extra_header_entries_follow_config_entries_already_in_the_environment():
    environment = http_extra_header_environment("https://h/r", "X-A: b", inherited={"GIT_CONFIG_COUNT": "2"})
    assert environment["GIT_CONFIG_COUNT"] == "4"
    assert environment["GIT_CONFIG_VALUE_3"] == "X-A: b"
    assert "GIT_CONFIG_KEY_0" not in environment


def test_ssh_key_lives_in_a_private_file_only_while_the_command_runs():
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----"
    with ssh_key_auth(key) as auth:
        command = auth.environment["GIT_SSH_COMMAND"]
        key_path = command.split(" -i ")[1].split(" ")[0]
        assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
        with open(key_path) as key_file:
            assert key_file.read() == key + "\n"
        assert "IdentitiesOnly=yes" in command and "StrictHostKeyChecking=accept-new" in command
        assert key not in command
    assert not os.path.exists(key_path)


@pytest.mark.parametrize(
    ("url", "credentials"),
    [
        ("https://host/r.git", Credentials(ssh_private_key="k")),
        ("git@host:org/r.git", Credentials(password="p")),
        ("ssh://git@host/r.git", Credentials(github_app_id=1, github_app_installation_id=2, github_app_private_key="k")),
        ("https://host/r.git", Credentials(username="only-a-name")),
    ],
)
def test_credentials_that_cannot_work_for_the_url_are_refused(url, credentials):
    with pytest.raises(GitSourceError), git_auth(url, credentials, no_installation_token):
        pass
