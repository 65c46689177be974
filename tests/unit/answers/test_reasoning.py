"""Reasoning: ``<think>`` tags split off answers (whole and streamed), the controls written per
dialect, and the reasoning of the history sent back. Pure translation, no server."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage

from langchain_hf_vlm._answers.answer import _split_reasoning, chat_result
from langchain_hf_vlm._answers.chunks import StreamAssembler
from langchain_hf_vlm._answers.reasoning import ThinkSplitter, ThinkTags
from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._request.messages import to_wire_messages
from langchain_hf_vlm._request.reasoning import (
    ReasoningBack,
    ReasoningSettings,
    reasoning_parameters,
)
from langchain_hf_vlm._servers.dialects import DIALECTS
from tests.support.messages import merge_chunks

MODES: tuple[ThinkTags, ...] = ("auto", "open", "off")


def split_whole(text: str, mode: ThinkTags) -> tuple[str, str]:
    splitter = ThinkSplitter(mode)
    reasoning, answer = splitter.feed(text)
    held_reasoning, held_answer = splitter.end()
    return reasoning + held_reasoning, answer + held_answer


def split_pieces(pieces: list[str], mode: ThinkTags) -> tuple[str, str]:
    splitter = ThinkSplitter(mode)
    reasoning, answer = "", ""
    for piece in pieces:
        more_reasoning, more_answer = splitter.feed(piece)
        reasoning, answer = reasoning + more_reasoning, answer + more_answer
    held_reasoning, held_answer = splitter.end()
    return reasoning + held_reasoning, answer + held_answer


# ---------------------------------------------------------------- the splitter


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("<think>plan</think>The square is red.", "auto", ("plan", "The square is red.")),
        ("\n<think>\nplan\n</think>\n\nRed.", "auto", ("\nplan\n", "Red.")),
        ("It is a red square.\n</think>\n\nRed.", "open", ("It is a red square.\n", "Red.")),
        ("<think>plan</think>Red.", "open", ("plan", "Red.")),
        (
            "It is a red square.\n</think>\n\nRed.",
            "auto",
            ("", "It is a red square.\n</think>\n\nRed."),
        ),
        ("Write <think> before your plan.", "auto", ("", "Write <think> before your plan.")),
        ("Red. <think>no</think>", "auto", ("", "Red. <think>no</think>")),
        ("<think>cut off by max_tokens", "auto", ("cut off by max_tokens", "")),
        ("<think>plan</think>Red.", "off", ("", "<think>plan</think>Red.")),
        ("<thin", "auto", ("", "<thin")),
        ("  ", "auto", ("", "  ")),
        ("", "open", ("", "")),
    ],
)
def test_split_whole(text: str, mode: ThinkTags, expected: tuple[str, str]) -> None:
    assert split_whole(text, mode) == expected


def test_only_what_could_still_be_a_tag_is_held_back() -> None:
    splitter = ThinkSplitter("auto")
    assert splitter.feed("<th") == ("", "")
    assert splitter.feed("ink>I") == ("I", "")
    assert splitter.feed(" plan</th") == (" plan", "")
    assert splitter.feed("inking") == ("</thinking", "")  # not the tag after all
    assert splitter.feed("</think>") == ("", "")
    assert splitter.feed("\n\nR") == ("", "R")
    assert splitter.feed("ed <th") == ("", "ed <th")  # past the start: prose, nothing held
    assert splitter.end() == ("", "")


def test_an_answer_without_tags_is_not_delayed() -> None:
    splitter = ThinkSplitter("auto")
    assert splitter.feed("The") == ("", "The")
    assert splitter.feed(" square") == ("", " square")


def test_open_mode_streams_reasoning_at_once() -> None:
    splitter = ThinkSplitter("open")
    assert splitter.feed("It is") == ("It is", "")
    assert splitter.feed(" red.</") == (" red.", "")
    assert splitter.feed("think>Red.") == ("", "Red.")


def test_server_split_reasoning_leaves_the_content_alone() -> None:
    splitter = ThinkSplitter("open")
    splitter.server_split()
    assert splitter.feed("Red.</think>") == ("", "Red.</think>")


PIECES = st.lists(
    st.sampled_from(
        ["<think>", "</think>", "<", "</", "<th", "think>", "ink>", ">", " ", "\n", "a", "Red."]
    ),
    max_size=12,
).map("".join)


@given(text=PIECES, cuts=st.lists(st.integers(min_value=0, max_value=200), max_size=8))
@pytest.mark.parametrize("mode", MODES)
def test_any_split_gives_the_whole_text_result(mode: ThinkTags, text: str, cuts: list[int]) -> None:
    points = sorted({cut % (len(text) + 1) for cut in cuts})
    pieces = [
        text[start:end] for start, end in zip([0, *points], [*points, len(text)], strict=True)
    ]
    assert split_pieces(pieces, mode) == split_whole(text, mode)


@given(text=PIECES)
def test_nothing_is_lost_but_tags_and_blank_space(text: str) -> None:
    reasoning, answer = split_whole(text, "auto")
    untagged = text.replace("<think>", "", 1).replace("</think>", "", 1)
    assert "".join((reasoning + answer).split()) in (
        "".join(untagged.split()),
        "".join(text.split()),
    )


# ---------------------------------------------------------------- answers


def completion(content: str, **message: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 5,
            "completion_tokens": 9,
            "total_tokens": 14,
            "completion_tokens_details": {"reasoning_tokens": 4},
        },
    }


def test_whole_answer_with_tags() -> None:
    message = (
        chat_result(completion("<think>plan</think>The square is red.")).generations[0].message
    )
    assert message.content == "The square is red."
    assert message.additional_kwargs == {"reasoning_content": "plan"}
    assert message.content_blocks[0] == {"type": "reasoning", "reasoning": "plan"}
    assert isinstance(message, AIMessage) and message.usage_metadata is not None
    assert message.usage_metadata["output_token_details"] == {"reasoning": 4}


def test_whole_answer_with_a_field_keeps_tags_in_prose() -> None:
    body = completion("Red.</think>", reasoning="plan")
    message = chat_result(body, think_tags="open").generations[0].message
    assert (message.content, message.additional_kwargs) == (
        "Red.</think>",
        {"reasoning_content": "plan"},
    )


def test_whole_answer_open_mode() -> None:
    body = completion("It is a red square.\n</think>\n\nRed.")
    message = chat_result(body, think_tags="open").generations[0].message
    assert message.content == "Red."
    assert message.additional_kwargs == {"reasoning_content": "It is a red square.\n"}


def delta_chunk(content: str | None = None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def test_stream_with_tags_split_across_chunks() -> None:
    assembler = StreamAssembler()
    chunks = []
    for piece in ["<th", "ink>pl", "an</thi", "nk>\n\nThe square", " is red."]:
        chunks += assembler.feed(delta_chunk(piece))
    final = assembler.final()
    texts = [chunk.message.content for chunk in chunks]
    assert texts == ["", "", "The square", " is red."]
    reasoning = [chunk.message.additional_kwargs.get("reasoning_content") for chunk in chunks]
    assert reasoning == ["pl", "an", None, None]
    merged = merge_chunks([*(chunk.message for chunk in chunks), final.message])
    assert merged.content == "The square is red."
    assert merged.additional_kwargs == {"reasoning_content": "plan"}
    assert [block["type"] for block in merged.content_blocks] == ["reasoning", "text"]
    assert chunks[0].message.content_blocks == [{"type": "reasoning", "reasoning": "pl"}]


def test_stream_held_partial_tag_goes_out_with_the_final_chunk() -> None:
    assembler = StreamAssembler()
    assert assembler.feed(delta_chunk("<thi")) == []
    final = assembler.final().message
    assert isinstance(final, AIMessageChunk) and final.content == "<thi"


def test_stream_unclosed_reasoning_in_the_final_chunk() -> None:
    assembler = StreamAssembler(think_tags="open")
    chunks = assembler.feed(delta_chunk("thinking </thi"))
    final = assembler.final().message
    assert chunks[0].message.additional_kwargs == {"reasoning_content": "thinking "}
    assert final.additional_kwargs == {"reasoning_content": "</thi"}


# ---------------------------------------------------------------- controls


@pytest.mark.parametrize(
    ("dialect", "settings", "expected"),
    [
        ("vllm", ReasoningSettings(), {}),
        ("vllm", ReasoningSettings(reasoning_effort="low"), {"reasoning_effort": "low"}),
        (
            "vllm",
            ReasoningSettings(enable_thinking=False),
            {"chat_template_kwargs": {"enable_thinking": False, "thinking": False}},
        ),
        (
            "openai",
            ReasoningSettings(enable_thinking=True, reasoning_effort="high"),
            {
                "reasoning_effort": "high",
                "chat_template_kwargs": {"enable_thinking": True, "thinking": True},
            },
        ),
        ("router", ReasoningSettings(enable_thinking=False), {"reasoning_effort": "none"}),
        ("router", ReasoningSettings(reasoning_effort="xhigh"), {"reasoning_effort": "xhigh"}),
        (
            "router",
            ReasoningSettings(enable_thinking=True, reasoning_effort="low"),
            {"reasoning_effort": "low"},
        ),
        ("tgi", ReasoningSettings(reasoning_in_history="always"), {}),
    ],
)
def test_controls_per_dialect(
    dialect: str, settings: ReasoningSettings, expected: dict[str, Any]
) -> None:
    assert reasoning_parameters(settings, DIALECTS[dialect]) == expected


@pytest.mark.parametrize(
    ("dialect", "settings", "problem"),
    [
        ("tgi", ReasoningSettings(reasoning_effort="low"), "tgi has no reasoning_effort"),
        ("tgi", ReasoningSettings(enable_thinking=False), "tgi has no thinking switch"),
        ("router", ReasoningSettings(enable_thinking=True), "set reasoning_effort"),
    ],
)
def test_controls_a_server_cannot_take(
    dialect: str, settings: ReasoningSettings, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        reasoning_parameters(settings, DIALECTS[dialect])


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"enable_thinking": False, "reasoning_effort": "high"}, "contradicts"),
        ({"enable_thinking": "no"}, "enable_thinking must be True or False"),
        ({"reasoning_effort": 3}, "reasoning_effort must be a string"),
        ({"reasoning_in_history": "sometimes"}, "reasoning_in_history must be one of"),
        ({"think_tags": "on"}, "think_tags must be one of"),
    ],
)
def test_bad_settings_name_themselves(values: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ReasoningSettings(**values)


def test_thinking_off_reads_open_templates_as_auto() -> None:
    assert ReasoningSettings(think_tags="open", enable_thinking=False).reading == "auto"
    assert ReasoningSettings(think_tags="open").reading == "open"


# ---------------------------------------------------------------- history


CALL = {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}


def wire(messages: list[Any], back: ReasoningBack | None) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(json_bytes(to_wire_messages(messages, back).messages))
    return result


HISTORIES: dict[str, AIMessage] = {
    "this package / deepseek / qwq": AIMessage(
        "", tool_calls=[CALL], additional_kwargs={"reasoning_content": "I need the weather."}
    ),
    "v1 reasoning blocks": AIMessage(
        content=[
            {"type": "reasoning", "reasoning": "I need "},
            {"type": "reasoning", "reasoning": "the weather."},
            {"type": "tool_call", **CALL},
        ],
        tool_calls=[CALL],
    ),
    "anthropic thinking": AIMessage(
        content=[{"type": "thinking", "thinking": "I need the weather.", "signature": "x"}],
        tool_calls=[CALL],
    ),
}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_tool_turn_reasoning_goes_back(name: str) -> None:
    messages = [
        HumanMessage("weather?"),
        HISTORIES[name],
        ToolMessage("sunny", tool_call_id="call_1"),
    ]
    sent = wire(messages, ReasoningBack("reasoning_content"))
    assert sent[1]["reasoning_content"] == "I need the weather."
    assert sent[1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert "content" not in sent[1]


def test_which_turns_send_reasoning_back() -> None:
    plain = AIMessage("Sunny.", additional_kwargs={"reasoning_content": "Easy."})
    tool_turn = HISTORIES["this package / deepseek / qwq"]
    messages = [HumanMessage("hi"), tool_turn, ToolMessage("sunny", tool_call_id="call_1"), plain]

    def fields(back: ReasoningBack | None) -> list[Any]:
        return [message.get("reasoning") for message in wire(messages, back)]

    assert fields(ReasoningBack("reasoning", "tool_turns")) == [
        None,
        "I need the weather.",
        None,
        None,
    ]
    assert fields(ReasoningBack("reasoning", "always")) == [
        None,
        "I need the weather.",
        None,
        "Easy.",
    ]
    assert fields(ReasoningBack("reasoning", "never")) == [None] * 4
    assert fields(ReasoningBack(None, "always")) == [None] * 4
    assert fields(None) == [None] * 4


@given(text=PIECES, field=st.sampled_from([None, "", "thought"]))
@example(text=" \n<think>plan</think> Red.", field=None)
@example(text="<thin", field=None)
@example(text="  ", field=None)
@example(text="</think>Red.", field=None)
@pytest.mark.parametrize("mode", MODES)
def test_a_whole_answer_splits_as_the_splitter_does(
    mode: ThinkTags, text: str, field: str | None
) -> None:
    """A whole answer with nothing to split skips the splitter: the same result either way."""
    if field is None:
        expected: tuple[str | None, str] = split_whole(text, mode)
        expected = (expected[0] or None, expected[1])
    else:
        expected = (field, text)
    assert _split_reasoning(text, field, mode) == expected
