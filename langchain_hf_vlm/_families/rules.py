"""Per-model rules that break requests, checked before anything is sent, and the one
adaptation that is safe. Pure: no I/O.

Each rule is a field of the model's :class:`~.table.Family`; a request that breaks one raises
:class:`~langchain_hf_vlm.errors.InvalidContentError` naming the rule, the model and the
message (and block), never a silent drop:

- ``max_images``: Llama 3.2 Vision takes one image per request; vLLM refuses a second with a
  400, TGI keeps only the last image without a word. No adaptation is safe (an image would
  have to be dropped or combined with another): the error stays with ``adapt_to_model``.
- ``alternating_roles``: Gemma's chat template raises unless, after an optional leading system
  message, the turns alternate user, assistant, user... (a tool result counts as a turn that is
  not the user's, as the template tests only ``role == "user"``). With ``adapt_to_model``,
  consecutive messages of one role (and one ``name``) count as one turn and are sent as one
  (:func:`merge_runs`); what still does not alternate is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from langchain_hf_vlm._families.table import Family
from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.refs import ImageRef, WireMessage
from langchain_hf_vlm.errors import InvalidContentError

_MERGED_ROLES = ("user", "assistant")
_JOINER = "\n\n"
"""Between two texts that meet when turns are merged: Gemma's template writes a turn's text
parts back to back, each trimmed, so two parts would run into one word."""


def check_request(
    family: Family,
    model: str,
    messages: Sequence[BaseMessage],
    images: Sequence[ImageRef],
    *,
    adapt: bool = False,
) -> None:
    """Raise :class:`InvalidContentError` if the request breaks a rule of ``family``.

    Args:
        family: The family of the model the request names.
        model: The model id the request names (for the error).
        messages: The request's messages, as given.
        images: Every image the request sends (pages and frames included).
        adapt: ``adapt_to_model``: a rule with a safe adaptation is checked as adapted.
    """
    if family.max_images is not None and len(images) > family.max_images:
        _too_many_images(family, model, images, adapt)
    if family.alternating_roles:
        _check_alternation(family, model, messages, adapt)


def adapts(family: Family) -> bool:
    """Whether ``adapt_to_model`` changes a request to a model of ``family``."""
    return family.alternating_roles


def merge_runs(wire: WireMessages) -> None:
    """Merge consecutive user (or assistant) messages of one name into one turn: contents in
    order, text and images kept (two texts that meet joined by a blank line), tool calls in
    order. A system message is left where it is, for the chat template."""
    merged: list[WireMessage] = []
    for message in wire.messages:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and message["role"] in _MERGED_ROLES
            and message["role"] == previous["role"]
            and message.get("name") == previous.get("name")
        ):
            merged[-1] = _merged(previous, message)
        else:
            merged.append(message)
    wire.messages[:] = merged


def _merged(first: WireMessage, second: WireMessage) -> WireMessage:
    out = dict(first)
    for key, value in second.items():
        if key not in out:
            out[key] = value
        elif key == "content":
            out[key] = _content(out[key], value)
        elif isinstance(value, list) and isinstance(out[key], list):
            out[key] = [*out[key], *value]
        elif isinstance(value, str) and isinstance(out[key], str) and key not in ("role", "name"):
            out[key] = _joined(out[key], value)
    return out


def _content(first: Any, second: Any) -> Any:
    if isinstance(first, str) and isinstance(second, str):
        return _joined(first, second)
    left, right = _parts(first), _parts(second)
    if left and right and _is_text(left[-1]) and _is_text(right[0]):
        joined = {"type": "text", "text": _joined(left[-1]["text"], right[0]["text"])}
        return [*left[:-1], joined, *right[1:]]
    return [*left, *right]


def _parts(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    return list(content or ())


def _is_text(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "text"


def _joined(first: str, second: str) -> str:
    return first + _JOINER + second if first and second else first or second


def _too_many_images(family: Family, model: str, images: Sequence[ImageRef], adapt: bool) -> None:
    ordered = sorted(images, key=lambda ref: (ref.message_index, ref.block_index, ref.number))
    first_extra = ordered[family.max_images or 0]
    note = (
        " (adapt_to_model does not apply: no image can be left out or combined without changing "
        "what the model is asked about)"
        if adapt
        else ""
    )
    raise InvalidContentError(
        f"{model} ({family.name}) takes at most {family.max_images} image(s) per request and "
        f"this request has {len(images)} (rule: images per request); send them in separate "
        f"requests, or combine them into one image{note}",
        message_index=first_extra.message_index,
        block_index=first_extra.block_index,
        image_number=first_extra.number,
    )


def _check_alternation(
    family: Family, model: str, messages: Sequence[BaseMessage], adapt: bool
) -> None:
    start = 1 if messages and isinstance(messages[0], SystemMessage) else 0
    turn, previous = -1, None
    for index in range(start, len(messages)):
        message = messages[index]
        role = _role(message)
        if adapt and role[0] in _MERGED_ROLES and role == previous:
            continue  # merged into the turn before (merge_runs)
        turn, previous = turn + 1, role
        if (role[0] == "user") != (turn % 2 == 0):
            expected = "a user" if turn % 2 == 0 else "an assistant"
            advice = (
                "adapt_to_model merges consecutive messages of one role and does not apply "
                "here; move a later system message into a user turn, or answer a tool result "
                "in an assistant turn"
                if adapt
                else "Merge consecutive messages of one role (adapt_to_model=True does), or "
                "move a later system message into a user turn"
            )
            raise InvalidContentError(
                f"{model} ({family.name}) needs turns that alternate user/assistant after an "
                f"optional first system message (rule: alternating roles); this is "
                f"{type(message).__name__} where {expected} turn belongs. {advice}",
                message_index=index,
            )


def _role(message: BaseMessage) -> tuple[str, str | None]:
    """The role a message is sent with, and its name (a run merges one name only)."""
    if isinstance(message, HumanMessage):
        role = "user"
    elif isinstance(message, AIMessage):
        role = "assistant"
    elif isinstance(message, ChatMessage):
        role = message.role
    elif isinstance(message, ToolMessage):
        role = "tool"
    else:
        role = message.type
    return role, message.name
