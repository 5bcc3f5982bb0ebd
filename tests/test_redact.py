"""Secret redaction: every credential shape is caught, ordinary trace text passes untouched."""

from __future__ import annotations

import json
import re
import time

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from halo_local.llm.client import redacted_request
from halo_local.redact import PATTERNS, REDACTED, redact, redact_counting, redact_value, sql_macro
from halo_local.sandbox_text import cell_text

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
    # Text already escaped (a table cell, a JSON column): no word boundary before the secret.
    ("key after escaped newline", "my key:\\nsk-ant-api03-abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnop"),
    ("openai key after escaped tab", "key\\tsk-proj-AbCdEf0123456789XyZaBc", "AbCdEf0123456789"),
    ("bearer after escaped newline", "headers:\\nBearer 7f3a9c1e5b2d4f6a8c0e", "7f3a9c1e5b2d4f6a8c0e"),
    ("password after escaped newline", "config:\\npassword=Tr0ub4dor", "Tr0ub4dor"),
    ("url-encoded key", "redirect?q=key%3Dsk-ant-api03-abcdefghijklmnopqrstuvwx", "abcdefghijklmnop"),
    ("key after a word", "MY_KEY_sk-ant-api03-abcdefghijklmnopqrstuvwx", "abcdefghijklmnop"),
    ("openai key after encoded equals", "OPENAI_API_KEY%3Dsk-proj-AbCdEf0123456789XyZaBc", "AbCdEf0123456789"),
    ("pgp private key",
     "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0abcdefghijkl\n-----END PGP PRIVATE KEY BLOCK-----",
     "lQOYBF0abcdefghijkl"),
    ("basic auth without digit", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("basic auth with digit", "Authorization: Basic dXNlcjpwYXNzMTIz", "dXNlcjpwYXNzMTIz"),
    ("token auth header", "Authorization: Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "9944b09199c62bcf"),
    ("short bearer in json header", '{"authorization": "Bearer abc"}', "abc"),
    ("json token", '{"token": "abcd1234efgh5678ijkl"}', "abcd1234efgh5678ijkl"),
    ("token query parameter", "https://api.example.com/v1?token=abcd1234efgh5678&x=1", "abcd1234efgh5678"),
    ("aws session token", "x-amz-security-token: IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD",
     "IQoJb3JpZ2luX2VjEJr"),
    ("hugging face token", "HF hf_abcdefghijklmnopqrstuvwxyzABCDEFGH set", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"),
    ("session cookie", "Cookie: sessionid=abcdef1234567890abcdef", "abcdef1234567890abcdef"),
    ("connection string password", "Server=db;User Id=sa;Password=Hunter2!;", "Hunter2!"),
    ("otel header list", '{"http.request.header.authorization": ["Basic dXNlcjpwYXNz"]}', "dXNlcjpwYXNz"),
    ("otel api key header list", '{"http.request.header.x-api-key": ["abcd1234efgh"], "n": 1}', "abcd1234efgh"),
    ("second value of a secret list", '{"cookie": ["a=b", "session=abc123xyz"]}', "abc123xyz"),
    ("escaped secret list", '{"args": "{\\"api_key\\": [\\"zz99yy88\\"]}"}', "zz99yy88"),
    ("password flag", "mysql -u root --password hunter22 -h db", "hunter22"),
    ("api key flag", 'run(["tool", "--api-key abc123def456"])', "abc123def456"),
    ("token flag after escaped newline", "cmd:\\n--token abcd1234efgh", "abcd1234efgh"),
    ("pem key inside json",
     '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN\\n-----END PRIVATE KEY-----\\n"}', "MIIEvQIBADAN"),
]

UNTOUCHED = [
    "input_tokens=1200 output_tokens: 300 max_tokens=8192 total_tokens 1500",
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7 halo 5f2b9c1d0e8a7b6c4d3e2f1a",
    "The password was wrong; ask the user to reset their password.",
    "Bearer authentication is configured; basic functionality works.",
    "see https://example.com/docs?page=2 and postgres://db.internal/prod",
    '{"password": null, "api_key": true, "secret": ""}',
    '{"tokens": [1, 2, 3], "token_ids": [], "input_tokens": 12}',
    "git commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "task-runner sk-learn model",
    "pytest --token-count 5 --password-file creds.txt --secret --verbose",
    # Near misses of the short names, the prose and the secret-word rules.
    "- loop: pass: skipped (no tool calls)",
    "bypass=true design=compact author: Jane Doe",
    '{"author": "Jane Doe", "authority": "x"}',
    "AUTHORS', './.venv/lib/python3.12/site-packages/token.py', './.venv/lib/python3.12/auth.py'",
    "the token is valid and the key was rotated 3 days ago",
    '{"key_name": "prod", "trace": "0cff2691-3a45-4988-a243-8cb8c508aa25"}',
    "max token count is 4096; token usage 1200",
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


@pytest.mark.parametrize("text", [
    "my key:\nsk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    "token\tsk-proj-AbCdEf0123456789XyZaBc",
    "headers:\r\nAuthorization: Bearer 7f3a9c1e5b2d4f6a8c0e",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA75abcdefghijklmnopqrstuvwxyz\n-----END RSA PRIVATE KEY-----",
    {"args": "key:\nsk-ant-api03-abcdefghijklmnopqrstuvwxyz"},
])
def test_a_table_cell_is_redacted_after_its_newlines_are_escaped(text: str | dict[str, str]) -> None:
    """The sandbox writes a newline as the two characters \\n before the text is redacted."""
    cell = redact(cell_text(text))
    assert "abcdefghijklmnopqrstuvwxyz" not in cell and "AbCdEf0123456789" not in cell
    assert "7f3a9c1e5b2d4f6a8c0e" not in cell
    assert REDACTED in cell


@pytest.fixture(scope="module")
def sql_redaction() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(sql_macro())
    return connection


@pytest.mark.parametrize("text", [case[1] for case in CAUGHT] + UNTOUCHED + [
    "my key:\nsk-ant-api03-abcdefghijklmnopqrstuvwxyz",
    '{"note": "password: \\"x\\", see", "api_key": 12345, "secret": "it\'s a \\\\ secret"}',
    "Tr0ub4dor password=",
    "",
])
def test_sql_and_python_redaction_agree(sql_redaction: duckdb.DuckDBPyConnection, text: str) -> None:
    """The snapshot (redacted in DuckDB) and tool output (redacted in Python) use the same patterns."""
    assert sql_redaction.execute("SELECT redact_secrets($text)", {"text": text}).fetchall()[0][0] == redact(text)


_FRAGMENTS = [*"ab1-_:=\"'\\ \n/@%Dsk", "sk-ant-", "password", "Bearer ", "-----BEGIN PRIVATE KEY-----", "ghp_",
              "://", "\\n", "%3D", "Authorization: "]


@given(text=st.lists(st.sampled_from(_FRAGMENTS), max_size=40).map("".join))
def test_sql_and_python_redaction_agree_on_generated_text(sql_redaction: duckdb.DuckDBPyConnection, text: str) -> None:
    assert sql_redaction.execute("SELECT redact_secrets($text)", {"text": text}).fetchall()[0][0] == redact(text)


_URL_FRAGMENTS = [*"aZ9+.-:/@ \"'?#\\", "://", "https://", "user", "pw1"]


@pytest.mark.parametrize("text", [case[1] for case in CAUGHT] + UNTOUCHED)
def test_a_prefilter_matches_wherever_its_pattern_does(text: str) -> None:
    """The snapshot redacts only the texts ANY_SECRET flags, which uses the prefilters: one that missed a
    match of its pattern would let that secret through unredacted."""
    for pattern in PATTERNS:
        if pattern.prefilter is not None and re.search(pattern.regex, text, re.ASCII):
            assert re.search(pattern.prefilter, text, re.ASCII), pattern.name


@given(text=st.lists(st.sampled_from(_URL_FRAGMENTS), max_size=30).map("".join))
def test_a_prefilter_matches_wherever_its_pattern_does_on_generated_text(text: str) -> None:
    test_a_prefilter_matches_wherever_its_pattern_does(text)


@pytest.mark.parametrize("text", [case[1] for case in CAUGHT])
def test_a_secret_is_flagged_among_other_texts_joined_by_newlines(sql_redaction: duckdb.DuckDBPyConnection,
                                                                  text: str) -> None:
    """The snapshot checks a span's texts joined by newlines: a secret at the start of one must still count."""
    flagged = sql_redaction.execute("SELECT may_hold_secret($alone), may_hold_secret(concat_ws(chr(10), 'name', "
                                    "$alone, 'x'))", {"alone": text}).fetchall()[0]
    assert flagged == (True, True)


def test_a_long_run_of_letters_costs_linear_time() -> None:
    """A URL scheme of unbounded length made every start position rescan the run: 100k letters took ~10 CPU-s.
    CPU time, not wall time, so a loaded machine does not change the verdict; the bound is 50x the cost."""
    started = time.process_time()
    assert redact("x" * 100_000 + " see postgres://admin:hunter2@db/x") == (
        "x" * 100_000 + " see postgres://admin:[REDACTED]@db/x")
    assert time.process_time() - started < 3.0
