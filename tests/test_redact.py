"""Secret redaction: every credential shape is caught, ordinary trace text passes untouched."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from halo_local.llm.client import redacted_request
from halo_local.llm.redact import REDACTED, redact, redact_counting, redact_value

CAUGHT = [
    ("anthropic key", "key=sk-ant-api03-Abc123_def456-ghi789 end", "sk-ant-api03-Abc123_def456-ghi789"),
    ("openai key", "using sk-proj-AbCdEf0123456789XyZaBc for calls", "sk-proj-AbCdEf0123456789XyZaBc"),
    ("stripe key", "charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("aws key id", "creds AKIAIOSFODNN7EXAMPLE loaded", "AKIAIOSFODNN7EXAMPLE"),
    ("github token", "git push https ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("github pat", "token github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop"),
    ("slack token", "slack xoxb-2048-abcdefghij-KLMNOP used", "xoxb-2048-abcdefghij-KLMNOP"),
    ("google key", "maps AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY ok", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("bearer", "Authorization: Bearer 7f3a9c1e5b2d4f6a8c0e", "7f3a9c1e5b2d4f6a8c0e"),
    ("long bearer without digits", "authorization: bearer abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    ("basic auth", "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==", "dXNlcjpwYXNzd29yZDEyMw=="),
    ("url password", "connect postgres://app:s3cr3t-pw@db.internal:5432/prod", "s3cr3t-pw"),
    ("https password", "fetch https://bob:hunter2@example.com/x", "hunter2"),
    ("password pair", "login with password=Tr0ub4dor&3 now", "Tr0ub4dor"),
    ("api_key pair", "?api_key=abc123def456&page=2", "abc123def456"),
    ("env assignment", "export OPENAI_API_KEY=proj-XYZ-987", "proj-XYZ-987"),
    ("json password", '{"user": "a", "password": "correct horse battery"}', "correct horse battery"),
    ("json secret", '{"client_secret":"0a1b2c3d"}', "0a1b2c3d"),
    ("escaped json", '{"args": "{\\"api_key\\": \\"zz99yy88\\"}"}', "zz99yy88"),
    ("aws secret key", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
    ("jwt", "id eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U x",
     "dozjgNryP4J3jVmNHl0w5N"),
    ("pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75\nabc\n-----END RSA PRIVATE KEY-----", "MIIEpAIBAAKCAQEA75"),
    ("escaped pem", '"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END PRIVATE KEY-----"', "MIIEvQIBADANBg"),
    ("cut-off pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA", "b3BlbnNzaC1rZXktdjEAAAA"),
]

UNTOUCHED = [
    "input_tokens=1200 output_tokens: 300 max_tokens=8192 total_tokens 1500",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7 halo 5f2b9c1d0e8a7b6c4d3e2f1a",
    "The password was wrong; ask the user to reset their password.",
    "Bearer authentication is configured; basic functionality works.",
    "see https://example.com/docs?page=2 and postgres://db.internal/prod",
    '{"password": null, "api_key": true, "secret": ""}',
    "git commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "task-runner sk-learn model",
]


@pytest.mark.parametrize(("name", "text", "secret"), CAUGHT, ids=[case[0] for case in CAUGHT])
def test_secrets_are_redacted(name: str, text: str, secret: str) -> None:
    redacted, count = redact_counting(text)
    assert secret not in redacted
    assert REDACTED in redacted
    assert count >= 1
    assert redact(redacted) == redacted  # idempotent
    assert redact_counting(redacted)[1] == 0


@pytest.mark.parametrize("text", UNTOUCHED)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert redact_counting(text) == (text, 0)


def test_context_around_a_secret_survives() -> None:
    assert redact("postgres://app:pw12345@db/prod") == f"postgres://app:{REDACTED}@db/prod"
    assert redact('{"password": "x y z", "n": 1}') == f'{{"password": "{REDACTED}", "n": 1}}'
    assert redact("Authorization: Bearer abc123def456") == f"Authorization: Bearer {REDACTED}"


def test_redact_value_walks_json_like_values() -> None:
    value = {"detail": ["ok", {"url": "https://u:p4ssw0rd@h/x"}], "count": 3, "flag": None}
    assert redact_value(value) == {"detail": ["ok", {"url": f"https://u:{REDACTED}@h/x"}], "count": 3, "flag": None}


def test_every_text_of_a_request_is_redacted() -> None:
    request = {
        "model": "m",
        "system": [{"type": "text", "text": "key AKIAIOSFODNN7EXAMPLE"}],
        "messages": [
            {"role": "user", "content": "plain ghp_" + "a" * 36},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "run_sql",
                                               "input": {"sql": "SELECT 'sk-ant-api03-zzzzzzzzzzzz'"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                          "content": "password=hunter22"}]},
        ],
    }
    sent = json.dumps(redacted_request(request))
    for secret in ("AKIAIOSFODNN7EXAMPLE", "ghp_aaaa", "sk-ant-api03", "hunter22"):
        assert secret not in sent
    assert request["system"][0]["text"] == "key AKIAIOSFODNN7EXAMPLE"  # the original is not modified


@given(prefix=st.text(max_size=40), suffix=st.text(max_size=40),
       key=st.from_regex(r"sk-ant-[A-Za-z0-9]{20,40}", fullmatch=True))
def test_an_anthropic_key_never_survives_whatever_surrounds_it(prefix: str, suffix: str, key: str) -> None:
    assert key not in redact(f"{prefix} {key} {suffix}")


@given(st.text(max_size=200))
def test_redaction_is_idempotent(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
