"""One Messages API call at a time: redacted, retried with backoff, cancellable mid-flight.

The SDK's own retries are switched off so that every retry is reported (`retry` events) and the
backoff can be made short in tests (`HALO_LLM_RETRY_DELAY`). Each call runs on a daemon worker
thread while the caller polls `should_cancel`, so a cancel lands within a poll interval even
while the server is still thinking; the abandoned request ends on its own and is discarded.
The SDK itself is imported only when a client is made: it takes most of a second, which every
command would otherwise pay at start-up.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from halo_local import clock
from halo_local.errors import HaloLocalError
from halo_local.llm.models import API_KEY_ENV
from halo_local.redact import redact, redact_value

if TYPE_CHECKING:
    from anthropic.types import Message

BASE_URL_ENV = "ANTHROPIC_BASE_URL"
RETRY_DELAY_ENV = "HALO_LLM_RETRY_DELAY"
MAX_RETRIES_ENV = "HALO_LLM_MAX_RETRIES"
TIMEOUT_ENV = "HALO_LLM_TIMEOUT"
POLL_SECONDS = 0.25
_RETRY_STATUSES = {408, 409, 429}

EventSink = Callable[[str, dict[str, Any]], None]
CancelCheck = Callable[[], bool]


class LlmError(HaloLocalError):
    """The LLM pass failed (after its retries, or on a response that makes no sense)."""


class LlmContextTooLong(LlmError):
    """The request does not fit the model's context window (or the endpoint's size limit)."""


class LlmCancelled(Exception):
    """The run was cancelled while the LLM pass was under way."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 4
    first_delay: float = 1.0
    max_delay: float = 30.0
    timeout: float = 300.0

    @classmethod
    def from_env(cls) -> RetryPolicy:
        """Defaults, overridden by HALO_LLM_MAX_RETRIES / HALO_LLM_RETRY_DELAY / HALO_LLM_TIMEOUT."""
        def number(name: str, default: float) -> float:
            raw = os.environ.get(name, "").strip()
            try:
                return float(raw) if raw else default
            except ValueError as error:
                raise LlmError(f"{name} must be a number of seconds or a count; got {raw!r}") from error

        return cls(
            max_retries=max(0, int(number(MAX_RETRIES_ENV, cls.max_retries))),
            first_delay=max(0.0, number(RETRY_DELAY_ENV, cls.first_delay)),
            timeout=max(0.1, number(TIMEOUT_ENV, cls.timeout)),
        )

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with jitter; a server's retry-after wins when it asks for longer."""
        backoff = min(self.first_delay * (2.0 ** attempt), self.max_delay) * random.uniform(0.75, 1.0)
        if retry_after is not None:
            return min(max(backoff, retry_after), 60.0)
        return backoff


class MessagesClient:
    """The Anthropic SDK client, configured from the environment (key, endpoint, retry policy)."""

    def __init__(self, *, on_event: EventSink, should_cancel: CancelCheck, policy: RetryPolicy | None = None) -> None:
        api_key = os.environ.get(API_KEY_ENV, "").strip()
        if not api_key:
            raise LlmError(f"{API_KEY_ENV} is not set", hint="set it, or pass --no-llm")
        self.policy = policy or RetryPolicy.from_env()
        self._on_event = on_event
        self._should_cancel = should_cancel
        import anthropic

        self._client = anthropic.Anthropic(
            api_key=api_key,
            base_url=os.environ.get(BASE_URL_ENV, "").strip() or None,
            max_retries=0,
            timeout=self.policy.timeout,
            open_telemetry=False,
        )

    def close(self) -> None:
        self._client.close()

    def check_cancel(self) -> None:
        if self._should_cancel():
            raise LlmCancelled("the run was cancelled")

    def create(self, params: Mapping[str, Any]) -> Message:
        """messages.create with every text redacted; retries transient failures, then LlmError."""
        import anthropic

        request = redacted_request(params)
        attempt = 0
        while True:
            self.check_cancel()
            try:
                message = self._call_cancellable(request)
            except LlmCancelled:
                raise
            except (anthropic.APITimeoutError, anthropic.APIConnectionError, anthropic.APIStatusError) as error:
                status = _status_of(error)
                if not _is_transient(error) or attempt >= self.policy.max_retries:
                    raise _as_llm_error(error, attempts=attempt + 1) from error
                delay = self.policy.delay(attempt, _retry_after(error))
                attempt += 1
                self._on_event("retry", {"status": status, "attempt": attempt, "delaySeconds": round(delay, 3),
                                         "reason": _short(str(error))})
                self._sleep(delay)
                continue
            except (json.JSONDecodeError, anthropic.APIResponseValidationError) as error:
                raise LlmError(f"the LLM endpoint sent a malformed response: {_short(str(error))}",
                               hint="check ANTHROPIC_BASE_URL points at an Anthropic-compatible API") from error
            except anthropic.AnthropicError as error:
                raise LlmError(f"the LLM client failed: {_short(str(error))}") from error
            check_message(message)
            return message

    def _call_cancellable(self, request: Mapping[str, Any]) -> Message:
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def work() -> None:
            try:
                outcome["message"] = self._client.messages.create(**request)
            except BaseException as error:  # handed to the caller's thread
                outcome["error"] = error
            finally:
                finished.set()

        threading.Thread(target=work, name="halo-llm-call", daemon=True).start()
        while not finished.wait(POLL_SECONDS):
            self.check_cancel()
        if "error" in outcome:
            raise outcome["error"]
        message: Message = outcome["message"]
        return message

    def _sleep(self, seconds: float) -> None:
        """Sleep in poll-sized steps so a cancel during backoff is honoured quickly."""
        deadline = clock.monotonic() + seconds
        while (remaining := deadline - clock.monotonic()) > 0:
            clock.sleep(min(POLL_SECONDS, remaining))
            self.check_cancel()


def check_message(message: Any) -> None:
    """LlmError unless the response has the shape of a Messages API reply (gateways can get this wrong)."""
    problems = []
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        problems.append("no content list")
    else:
        for block in content:
            kind = getattr(block, "type", None)
            if kind == "text" and not isinstance(getattr(block, "text", None), str):
                problems.append("a text block without text")
            if kind == "tool_use" and not (
                isinstance(getattr(block, "id", None), str)
                and isinstance(getattr(block, "name", None), str)
                and isinstance(getattr(block, "input", None), dict)
            ):
                problems.append("a tool_use block without id, name or input object")
    usage = getattr(message, "usage", None)
    if usage is None or not isinstance(getattr(usage, "input_tokens", None), int) \
            or not isinstance(getattr(usage, "output_tokens", None), int):
        problems.append("no token usage")
    if problems:
        raise LlmError("the LLM endpoint sent a malformed response: " + "; ".join(problems),
                       hint="check ANTHROPIC_BASE_URL points at an Anthropic-compatible API")


def redacted_request(params: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the request with every text the provider would see passed through `redact`."""
    request = dict(params)
    if isinstance(request.get("system"), str):
        request["system"] = redact(request["system"])
    elif isinstance(request.get("system"), list):
        request["system"] = [_redacted_block(block) for block in request["system"]]
    messages = []
    for item in request.get("messages", []):
        content = item["content"]
        if isinstance(content, str):
            content = redact(content)
        else:
            content = [_redacted_block(block) for block in content]
        messages.append({**item, "content": content})
    request["messages"] = messages
    return request


def _redacted_block(block: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(block)
    if isinstance(copy.get("text"), str):
        copy["text"] = redact(copy["text"])
    if copy.get("type") == "tool_result":
        content = copy.get("content")
        if isinstance(content, str):
            copy["content"] = redact(content)
        elif isinstance(content, list):
            copy["content"] = [_redacted_block(part) for part in content]
    if copy.get("type") == "tool_use" and isinstance(copy.get("input"), dict):
        copy["input"] = redact_value(copy["input"])
    return copy


def _status_of(error: Exception) -> int | str:
    import anthropic

    if isinstance(error, anthropic.APIStatusError):
        return error.status_code
    if isinstance(error, anthropic.APITimeoutError):
        return "timeout"
    return "connection"


def _is_transient(error: Exception) -> bool:
    """The SDK's own rule: the server's x-should-retry header first, then the status."""
    import anthropic

    if isinstance(error, anthropic.APIStatusError):
        should_retry = error.response.headers.get("x-should-retry", "").strip().lower()
        if should_retry in ("true", "false"):
            return should_retry == "true"
        return error.status_code in _RETRY_STATUSES or error.status_code >= 500
    return isinstance(error, anthropic.APIConnectionError)  # timeouts, resets, truncated bodies


def _retry_after(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    if response is None:
        return None
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _as_llm_error(error: Exception, *, attempts: int) -> LlmError:
    import anthropic

    status = _status_of(error)
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    detail = _api_error_text(error)
    if isinstance(error, anthropic.AuthenticationError):
        return LlmError("the LLM endpoint rejected the API key", hint=f"check {API_KEY_ENV}")
    if isinstance(error, anthropic.PermissionDeniedError):
        return LlmError(f"the LLM endpoint refused this API key access (403): {detail}",
                        hint=f"check that {API_KEY_ENV} may use this model (its workspace and permissions)")
    if isinstance(error, anthropic.NotFoundError):
        return LlmError(f"the LLM endpoint does not know this model or path: {detail}",
                        hint="check --model-id and ANTHROPIC_BASE_URL")
    if status == 413 or (status == 400 and "too long" in detail.lower()):
        return LlmContextTooLong(f"the request is too large for the model ({status}): {detail}")
    if status == 429:
        return LlmError(f"the LLM call was rate-limited{tries} (429): {detail}",
                        hint=f"wait and run again, or raise {MAX_RETRIES_ENV}")
    return LlmError(f"the LLM call failed{tries} ({status}): {detail}")


def _api_error_text(error: Exception) -> str:
    """The API's own `type: message` when the body has one (not the SDK's dump of the whole body)."""
    body = getattr(error, "body", None)
    inner = body.get("error") if isinstance(body, dict) else None
    if isinstance(inner, dict) and isinstance(inner.get("message"), str):
        kind = inner.get("type")
        return _short(f"{kind}: {inner['message']}" if isinstance(kind, str) else inner["message"])
    return _short(str(error))


def _short(text: str, limit: int = 300) -> str:
    """One line, capped, and redacted: an endpoint may echo what it was sent (a key, a header)."""
    text = redact(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit] + "…"
