"""``adapt_to_model``: the rules checked as adapted, and consecutive turns merged (pure)."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from langchain_hf_vlm._families.rules import check_request, merge_runs
from langchain_hf_vlm._families.table import BY_NAME
from langchain_hf_vlm._media.refs import ImageRef
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm.errors import InvalidContentError
from tests.support.images import sent

GEMMA = BY_NAME["gemma-3"]
URL = "https://example.com/a.png"


def test_consecutive_turns_of_one_role_are_merged_in_order_text_and_images_kept() -> None:
    messages = [
        SystemMessage("Be brief."),
        HumanMessage("Look at this."),
        HumanMessage(content=[{"type": "image_url", "image_url": URL}, "And this:"]),
        HumanMessage(content=["What differs?", {"type": "image", "url": URL}]),
        AIMessage("A colour."),
        AIMessage("And a size."),
        HumanMessage("Thanks."),
    ]
    check_request(GEMMA, "g", messages, [], adapt=True)
    wire = to_wire_messages(messages)
    refs = list(wire.images)
    merge_runs(wire)
    assert sent(wire) == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look at this."},
                {"type": "image_url", "image_url": {"url": URL}},
                {"type": "text", "text": "And this:\n\nWhat differs?"},
                {"type": "image_url", "image_url": {"url": URL}},
            ],
        },
        {"role": "assistant", "content": "A colour.\n\nAnd a size."},
        {"role": "user", "content": "Thanks."},
    ]
    # the images still name the message and block they came from
    assert [(ref.message_index, ref.block_index) for ref in refs] == [(2, 0), (3, 1)]


def test_without_adaptation_the_rule_refuses_and_says_how_to_adapt() -> None:
    messages = [HumanMessage("a"), HumanMessage("b")]
    with pytest.raises(InvalidContentError, match=r"adapt_to_model=True") as info:
        check_request(GEMMA, "g", messages, [])
    assert info.value.message_index == 1


@pytest.mark.parametrize(
    ("messages", "index"),
    [
        # a system message after the first: not merged into a user turn
        pytest.param([HumanMessage("a"), AIMessage("b"), SystemMessage("s")], 2, id="later-system"),
        # a tool result after an assistant turn: two roles, nothing to merge
        pytest.param(
            [
                HumanMessage("a"),
                AIMessage("", tool_calls=[{"id": "1", "name": "f", "args": {}}]),
                ToolMessage("r", tool_call_id="1"),
            ],
            2,
            id="tool-result",
        ),
        # turns of two names are not merged into one
        pytest.param([HumanMessage("a", name="ann"), HumanMessage("b", name="bob")], 1, id="names"),
        pytest.param([AIMessage("first")], 0, id="assistant-first"),
    ],
)
def test_where_merging_does_not_help_the_error_stays_and_says_so(
    messages: list[HumanMessage], index: int
) -> None:
    with pytest.raises(InvalidContentError, match="does not apply") as info:
        check_request(GEMMA, "g", messages, [], adapt=True)
    assert info.value.message_index == index


def test_a_second_image_for_llama_vision_is_refused_even_when_adapting() -> None:
    images = [ImageRef(0, index, index + 1, URL) for index in range(2)]
    with pytest.raises(InvalidContentError, match="adapt_to_model does not apply") as info:
        check_request(BY_NAME["llama-3.2-vision"], "m", [HumanMessage("a")], images, adapt=True)
    assert (info.value.message_index, info.value.block_index) == (0, 1)
