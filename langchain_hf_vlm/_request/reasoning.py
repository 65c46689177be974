"""Reasoning on the request side. Pure: no I/O.

- :class:`ReasoningSettings`: the reasoning fields of one call (the model's, or the call's
  keyword arguments), checked.
- :func:`reasoning_parameters`: ``reasoning_effort`` and the thinking switch as the server's
  dialect writes them (:class:`~langchain_hf_vlm._servers.dialects.Dialect`).
- :class:`ReasoningBack`: the reasoning of an assistant message in the history, whichever
  LangChain model wrote it, on the dialect's field, on the turns the settings send it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from langchain_core.messages import AIMessage

from langchain_hf_vlm._answers.reasoning import ThinkTags
from langchain_hf_vlm._servers.dialects import Dialect

ReasoningInHistory = Literal["tool_turns", "always", "never"]

FIELDS = ("reasoning_effort", "enable_thinking", "reasoning_in_history", "think_tags")
"""The model's reasoning fields, each also a keyword argument of a call."""
THINKING_KWARGS = ("enable_thinking", "thinking")
"""The chat-template switches: Qwen3 and GLM read ``enable_thinking``, DeepSeek-V3.1, Granite
and others ``thinking``; a template ignores the one it does not name."""
_REASONING_BLOCKS = {"reasoning": "reasoning", "thinking": "thinking"}
"""Content block types that carry reasoning text, and the key of the text (LangChain v1 and
ChatOpenAI's ``reasoning``, Anthropic's ``thinking``)."""


@dataclass(frozen=True, kw_only=True)
class ReasoningSettings:
    """What one call asks of reasoning; None leaves a control to the server."""

    reasoning_effort: str | None = None
    enable_thinking: bool | None = None
    reasoning_in_history: ReasoningInHistory = "tool_turns"
    think_tags: ThinkTags = "auto"

    def __post_init__(self) -> None:
        if self.reasoning_effort is not None and not isinstance(self.reasoning_effort, str):
            raise ValueError(f"reasoning_effort must be a string, got {self.reasoning_effort!r}")
        if self.enable_thinking is not None and not isinstance(self.enable_thinking, bool):
            raise ValueError(f"enable_thinking must be True or False, got {self.enable_thinking!r}")
        for name, kind in (("reasoning_in_history", ReasoningInHistory), ("think_tags", ThinkTags)):
            if getattr(self, name) not in get_args(kind):
                raise ValueError(
                    f"{name} must be one of {get_args(kind)}, got {getattr(self, name)!r}"
                )
        if self.enable_thinking is False and self.reasoning_effort not in (None, "none"):
            raise ValueError(
                f"enable_thinking=False contradicts reasoning_effort={self.reasoning_effort!r}"
            )

    @property
    def reading(self) -> ThinkTags:
        """How the answer's ``<think>`` tags are read: with thinking switched off, a template
        that otherwise opens ``<think>`` in the prompt closes it there (Qwen3), so no answer
        starts inside one."""
        return (
            "auto"
            if self.think_tags == "open" and self.enable_thinking is False
            else self.think_tags
        )


def reasoning_parameters(settings: ReasoningSettings, dialect: Dialect) -> dict[str, Any]:
    """The body parameters for the reasoning controls, as ``dialect`` reads them.

    Raises:
        ValueError: the server has no way to take a control that was set.
    """
    effort, thinking = settings.reasoning_effort, settings.enable_thinking
    out: dict[str, Any] = {}
    if effort is not None:
        if not dialect.takes_reasoning_effort:
            raise ValueError(f"{dialect.name} has no reasoning_effort parameter; leave it unset")
        out["reasoning_effort"] = effort
    if thinking is None:
        return out
    if dialect.thinking_switch == "chat_template_kwargs":
        out["chat_template_kwargs"] = dict.fromkeys(THINKING_KWARGS, thinking)
    elif dialect.thinking_switch == "reasoning_effort":
        if thinking:
            if effort is None:
                raise ValueError(
                    f"{dialect.name} switches thinking on with reasoning_effort: set "
                    "reasoning_effort (e.g. 'medium') instead of enable_thinking=True"
                )
        else:
            out["reasoning_effort"] = "none"
    else:
        raise ValueError(f"{dialect.name} has no thinking switch; leave enable_thinking unset")
    return out


def merge_reasoning(body: dict[str, Any], parameters: Mapping[str, Any]) -> None:
    """Add the controls' ``parameters`` to ``body``, where ``extra_body`` or the call may have
    set the same ones; a ``chat_template_kwargs`` given there is merged into.

    Raises:
        ValueError: a parameter given there says otherwise than a control.
    """
    for key, value in parameters.items():
        given = body.get(key)
        if key == "chat_template_kwargs" and isinstance(given, Mapping):
            clashes = sorted(name for name in value if name in given and given[name] != value[name])
            value = {**given, **value}
        else:
            clashes = [key] if given is not None and given != value else []
        if clashes:
            raise ValueError(
                f"the reasoning settings contradict {clashes} given in extra_body or the call"
            )
        body[key] = value


@dataclass(frozen=True)
class ReasoningBack:
    """Which assistant turns of the history carry their reasoning back, and on what field."""

    field: str | None
    """The dialect's ``reasoning_history_field`` (None: the server has none)."""
    turns: ReasoningInHistory = "tool_turns"

    def add_to(self, wire: dict[str, Any], message: AIMessage) -> None:
        """Put ``message``'s reasoning on its wire dict, if this turn sends it back."""
        if self.field is None or self.turns == "never":
            return
        if self.turns == "tool_turns" and not (message.tool_calls or message.invalid_tool_calls):
            return
        text = reasoning_text(message)
        if text:
            wire[self.field] = text


def reasoning_text(message: AIMessage) -> str | None:
    """The reasoning of an assistant message: its reasoning content blocks (v1, ChatOpenAI,
    Anthropic ``thinking``), else ``additional_kwargs["reasoning_content"]`` (this package,
    langchain-deepseek, langchain-qwq) or a text ``additional_kwargs["reasoning"]``."""
    if isinstance(message.content, list):
        texts = [
            block[key]
            for block in message.content
            if isinstance(block, Mapping)
            and (key := _REASONING_BLOCKS.get(str(block.get("type")))) is not None
            and isinstance(block.get(key), str)
        ]
        if texts:
            return "".join(texts)
    for key in ("reasoning_content", "reasoning"):
        value = message.additional_kwargs.get(key)
        if isinstance(value, str) and value:
            return value
    return None
