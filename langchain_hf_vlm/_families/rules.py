"""Per-model rules that break requests, checked before anything is sent. Pure: no I/O.

Each rule is a field of the model's :class:`~.table.Family`; a request that breaks one raises
:class:`~langchain_hf_vlm.errors.InvalidContentError` naming the rule, the model and the
message (and block), never a silent drop:

- ``max_images``: Llama 3.2 Vision takes one image per request; vLLM refuses a second with a
  400, TGI keeps only the last image without a word.
- ``alternating_roles``: Gemma's chat template raises unless, after an optional leading system
  message, the turns alternate user, assistant, user... (a tool result counts as a turn that is
  not the user's, as the template tests only ``role == "user"``).
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import BaseMessage, ChatMessage, HumanMessage, SystemMessage

from langchain_hf_vlm._families.table import Family, family_for
from langchain_hf_vlm._media.refs import ImageRef
from langchain_hf_vlm.errors import InvalidContentError


def check_request(model: str, messages: Sequence[BaseMessage], images: Sequence[ImageRef]) -> None:
    """Raise :class:`InvalidContentError` if the request breaks a rule of ``model``'s family.

    Args:
        model: The model id the request names.
        messages: The request's messages, as given.
        images: Every image the request sends (pages and frames included).
    """
    family = family_for(model)
    if family.max_images is not None and len(images) > family.max_images:
        _too_many_images(family, model, images)
    if family.alternating_roles:
        _check_alternation(family, model, messages)


def _too_many_images(family: Family, model: str, images: Sequence[ImageRef]) -> None:
    ordered = sorted(images, key=lambda ref: (ref.message_index, ref.block_index, ref.number))
    first_extra = ordered[family.max_images or 0]
    raise InvalidContentError(
        f"{model} ({family.name}) takes at most {family.max_images} image(s) per request and "
        f"this request has {len(images)} (rule: images per request); send them in separate "
        "requests, or combine them into one image",
        message_index=first_extra.message_index,
        block_index=first_extra.block_index,
        image_number=first_extra.number,
    )


def _check_alternation(family: Family, model: str, messages: Sequence[BaseMessage]) -> None:
    start = 1 if messages and isinstance(messages[0], SystemMessage) else 0
    for turn, index in enumerate(range(start, len(messages))):
        message = messages[index]
        is_user = isinstance(message, HumanMessage) or (
            isinstance(message, ChatMessage) and message.role == "user"
        )
        if is_user != (turn % 2 == 0):
            expected = "a user" if turn % 2 == 0 else "an assistant"
            raise InvalidContentError(
                f"{model} ({family.name}) needs turns that alternate user/assistant after an "
                f"optional first system message (rule: alternating roles); this is "
                f"{type(message).__name__} where {expected} turn belongs. Merge consecutive "
                "messages of one role, or move a later system message into a user turn",
                message_index=index,
            )
