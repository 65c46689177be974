"""Tool calls of a whole answer (``_answers.tool_calls``): arguments, ids, TGI's pseudo-tools, invalid calls."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hf_vlm._answers.answer import chat_result
from tests.support.wire_answers import RID, answer, body, call


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param('{"city": "Paris", "days": 3}', id="string-args"),
        pytest.param({"city": "Paris", "days": 3}, id="object-args-tgi-before-3.2"),
    ],
)
def test_tool_call_arguments_as_string_or_object(arguments: Any) -> None:
    message = answer({"content": None, "tool_calls": [call("get_weather", arguments, "call_1")]})
    assert message.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Paris", "days": 3},
            "id": "call_1",
            "type": "tool_call",
        }
    ]
    assert message.invalid_tool_calls == []
    assert message.content == ""


def test_tool_call_with_finish_reason_stop_is_parsed() -> None:
    # TGI: one call, id "0", finish_reason "stop", object arguments (before 3.2).
    message = answer(
        {"content": "", "tool_calls": [call("get_weather", {"city": "Oslo"}, "0")]},
        finish_reason="stop",
    )
    assert message.tool_calls == [
        {
            "name": "get_weather",
            "args": {"city": "Oslo"},
            "id": f"call_{RID}_0",
            "type": "tool_call",
        }
    ]
    assert message.response_metadata["finish_reason"] == "stop"


def test_empty_arguments_mean_no_arguments() -> None:
    message = answer({"tool_calls": [call("now", ""), call("today", None, "call_y")]})
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("now", {}, "call_x"),
        ("today", {}, "call_y"),
    ]


def test_null_arguments_mean_no_arguments() -> None:
    # vLLM's hermes parser, for a model that wrote "arguments": null (as langchain-core's
    # parse_tool_call and ChatOpenAI read it)
    message = answer({"tool_calls": [call("now", "null"), call("today", " null ", "call_y")]})
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("now", {}, "call_x"),
        ("today", {}, "call_y"),
    ]
    assert message.invalid_tool_calls == []


@pytest.mark.parametrize(
    ("server_ids", "expected"),
    [
        pytest.param([...], [f"call_{RID}_0"], id="missing"),
        pytest.param([""], [f"call_{RID}_0"], id="empty"),
        pytest.param(["0"], [f"call_{RID}_0"], id="tgi-zero"),
        pytest.param([None], [f"call_{RID}_0"], id="null"),
        pytest.param(
            ["0", "0", "0"], [f"call_{RID}_0", f"call_{RID}_1", f"call_{RID}_2"], id="zeros"
        ),
        pytest.param(["call_a", "call_a"], ["call_a", f"call_{RID}_1"], id="repeated"),
        pytest.param(["call_a", "call_b"], ["call_a", "call_b"], id="kept"),
    ],
)
def test_tool_call_ids_are_unique(server_ids: list[Any], expected: list[str]) -> None:
    raw_calls = [call("f", {"i": i}, server_id) for i, server_id in enumerate(server_ids)]
    message = answer({"tool_calls": raw_calls})
    assert [c["id"] for c in message.tool_calls] == expected
    assert [c["args"] for c in message.tool_calls] == [{"i": i} for i in range(len(server_ids))]


def test_tool_call_ids_without_response_id_are_unique() -> None:
    raw = body({"tool_calls": [call("f", "{}", "0"), call("g", "{}", "0")]})
    del raw["id"]
    ids = [c["id"] for c in chat_result(raw).generations[0].message.tool_calls]  # type: ignore[attr-defined]
    assert len(set(ids)) == 2
    assert all(i and i.startswith("call_") for i in ids)


@pytest.mark.parametrize(
    ("name", "arguments", "text"),
    [
        pytest.param(
            "notify_error",
            {"error": "No tool fits the request."},
            "No tool fits the request.",
            id="notify_error-object",
        ),
        pytest.param(
            "notify_error",
            '{"_name": "notify_error", "error": "Cannot see the image."}',
            "Cannot see the image.",
            id="notify_error-string",
        ),
        pytest.param(
            "no_tool", {"_name": "no_tool", "content": "Hello there!"}, "Hello there!", id="no_tool"
        ),
        pytest.param("no_tool", "just text, not JSON", "just text, not JSON", id="no_tool-raw"),
    ],
)
def test_tgi_pseudo_tools_become_text(name: str, arguments: Any, text: str) -> None:
    message = answer({"content": None, "tool_calls": [call(name, arguments, "0")]})
    assert message.content == text
    assert message.tool_calls == []
    assert message.invalid_tool_calls == []


def test_pseudo_tool_text_follows_existing_content() -> None:
    message = answer({"content": "Hmm.", "tool_calls": [call("no_tool", {"content": "Hi"}, "0")]})
    assert message.content == "Hmm.\nHi"


@pytest.mark.parametrize(
    ("arguments", "error_fragment"),
    [
        pytest.param('{"city": "Par', "Unterminated string", id="truncated"),
        pytest.param("city=Paris", "Expecting value", id="not-json"),
        pytest.param("[1, 2]", "arguments are not a JSON object", id="json-list"),
    ],
)
def test_invalid_arguments_go_to_invalid_tool_calls(arguments: str, error_fragment: str) -> None:
    message = answer(
        {"tool_calls": [call("get_weather", arguments, "call_bad"), call("ok", "{}", "call_ok")]}
    )
    assert message.tool_calls == [{"name": "ok", "args": {}, "id": "call_ok", "type": "tool_call"}]
    (invalid,) = message.invalid_tool_calls
    assert invalid["name"] == "get_weather"
    assert invalid["args"] == arguments
    assert invalid["id"] == "call_bad"
    assert invalid["type"] == "invalid_tool_call"
    assert invalid["error"] is not None
    assert error_fragment in invalid["error"]
