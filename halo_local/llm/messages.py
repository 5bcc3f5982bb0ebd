"""Messages API request blocks: tool results, replayed replies, the moving cache breakpoint, usage."""

from __future__ import annotations

from typing import Any

from halo_local.llm.models import CallUsage

EPHEMERAL = {"type": "ephemeral"}  # the cache_control of every breakpoint


def tool_result(tool_use_id: str, text: str, *, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": text or "(no output)"}
    if is_error:
        block["is_error"] = True
    return block


def assistant_blocks(message: Any) -> list[dict[str, Any]]:
    """The reply's text and tool_use blocks as request params (other block kinds are not replayed)."""
    blocks = []
    for block in message.content:
        if block.type == "text" and block.text:
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append({"type": "tool_use", "id": block.id, "name": block.name, "input": block.input})
    return blocks


def append(messages: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    """Add blocks as a message, merging into the last one when it has the same role (the API alternates)."""
    if messages and messages[-1]["role"] == role:
        messages[-1] = {"role": role, "content": [*messages[-1]["content"], *blocks]}
    else:
        messages.append({"role": role, "content": list(blocks)})


def with_moving_breakpoint(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy with cache_control on the newest block too, so the next turn reads all of this from the cache."""
    if len(messages) < 2:
        return messages
    last = messages[-1]
    content = [*last["content"][:-1], {**last["content"][-1], "cache_control": EPHEMERAL}]
    return [*messages[:-1], {"role": last["role"], "content": content}]


def usage_of(message: Any) -> CallUsage:
    usage = message.usage
    cache_read = usage.cache_read_input_tokens or 0
    cache_write = usage.cache_creation_input_tokens or 0
    return CallUsage(input_tokens=usage.input_tokens + cache_read + cache_write, output_tokens=usage.output_tokens,
                     cache_read_tokens=cache_read, cache_write_tokens=cache_write)
