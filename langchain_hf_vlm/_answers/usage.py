"""Token usage: OpenAI-style ``usage`` to LangChain ``UsageMetadata``. Pure: no I/O.

A usage the server got wrong (``1e400``, ``NaN``, ``"lots"``) is dropped, and the reason
returned beside it (the answer keeps it under ``response_metadata["usage_error"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata

from langchain_hf_vlm._answers.shape import kind

_MAX_TOKENS = 2**63 - 1


def _token_count(value: Any) -> int | None:
    """A token count as servers write it (an int, or a float with an integral value)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= _MAX_TOKENS else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= _MAX_TOKENS:
        return int(value)
    return None


class _UsageReader:
    """Reads token counts, noting every value that is not one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def count(self, mapping: Any, key: str, where: str = "") -> int | None:
        value = mapping.get(key) if isinstance(mapping, Mapping) else None
        if value is None:
            return None
        count = _token_count(value)
        if count is None:
            self.problems.append(f"{where}{key}={str(value)[:40]!r} is not a token count")
        return count


def read_usage(usage: Any) -> tuple[UsageMetadata | None, str | None]:
    """OpenAI-style ``usage`` to LangChain ``UsageMetadata`` (with cache and reasoning
    details), and what was wrong with it: a usage with a count that is not one is dropped."""
    if not usage:
        return None, None
    if usage.__class__ is dict:  # the usual usage: three counts, no details (one call each)
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        total = usage.get("total_tokens")
        if (
            prompt.__class__ is int
            and completion.__class__ is int
            and total.__class__ is int
            and min(prompt, completion, total) >= 0
            and max(prompt, completion, total) <= _MAX_TOKENS
            and not usage.get("prompt_tokens_details")
            and not usage.get("completion_tokens_details")
        ):
            usual: UsageMetadata = {
                "input_tokens": prompt,
                "output_tokens": completion,
                "total_tokens": total or prompt + completion,
            }
            return usual, None
    if not isinstance(usage, Mapping):
        return None, f"usage dropped: it is {kind(usage)}, not an object"
    reader = _UsageReader()
    input_tokens = reader.count(usage, "prompt_tokens")
    output_tokens = reader.count(usage, "completion_tokens")
    total_tokens = reader.count(usage, "total_tokens")
    if reader.problems:
        return None, "usage dropped: " + "; ".join(reader.problems)
    input_tokens, output_tokens = input_tokens or 0, output_tokens or 0
    result = cast(
        "UsageMetadata",
        {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": total_tokens or input_tokens + output_tokens,
        },
    )
    cached = reader.count(
        usage.get("prompt_tokens_details"), "cached_tokens", "prompt_tokens_details."
    )
    if cached is not None:
        result["input_token_details"] = InputTokenDetails(cache_read=cached)
    reasoning = reader.count(
        usage.get("completion_tokens_details"), "reasoning_tokens", "completion_tokens_details."
    )
    if reasoning is not None:
        result["output_token_details"] = OutputTokenDetails(reasoning=reasoning)
    return result, (
        "usage details dropped: " + "; ".join(reader.problems)
    ) if reader.problems else None
