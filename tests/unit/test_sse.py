"""Server-sent events as the servers really send them."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hf_vlm._sse import DONE, MalformedEventError, SSEDecoder


def decode(lines: list[str]) -> list[Any]:
    """Feed lines (then close); return every non-None result in order."""
    decoder = SSEDecoder()
    results = [decoder.line(line) for line in lines]
    results.append(decoder.close())
    return [result for result in results if result is not None]


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(['data: {"a": 1}', ""], id="with-space"),
        pytest.param(['data:{"a": 1}', ""], id="without-space"),
        pytest.param(['data:  {"a": 1}  ', ""], id="extra-whitespace"),
        pytest.param(['data: {"a": 1}'], id="no-trailing-blank-line"),
        pytest.param(["data: {", 'data: "a": 1', "data: }", ""], id="split-over-three-lines"),
        pytest.param(['data: {"a":', "data: 1}", ""], id="split-over-two-lines"),
        pytest.param(['data: {"a":', "data: 1}"], id="split-no-blank-line"),
        pytest.param([": keep-alive", "", 'data: {"a": 1}', ""], id="comment-first"),
        pytest.param(["id: 7", "retry: 1000", 'data: {"a": 1}', ""], id="id-and-retry"),
        pytest.param(["event: message", 'data: {"a": 1}', ""], id="message-event"),
    ],
)
def test_one_event(lines: list[str]) -> None:
    assert decode(lines) == [{"a": 1}]


@pytest.mark.parametrize("line", ["data: [DONE]", "data:[DONE]"])
def test_done_sentinel(line: str) -> None:
    decoder = SSEDecoder()
    assert decoder.line(line) is DONE
    assert decoder.line("") is None
    assert decoder.close() is None


def test_a_realistic_stream() -> None:
    lines = [
        ": ping",
        "",
        'data: {"choices": [{"delta": {"content": "Hel"}}]}',
        "",
        "",
        ":",
        'data:{"choices": [{"delta": {"content": "lo"}}]}',
        "",
        "data:[DONE]",
        "",
    ]
    assert decode(lines) == [
        {"choices": [{"delta": {"content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
        DONE,
    ]


def test_keep_alives_alone_yield_nothing() -> None:
    assert decode([": keep-alive", "", ":", "", "event: ping", ""]) == []


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param(
            ["event: error", 'data: {"message": "overloaded", "code": 503}', ""],
            {"error": {"message": "overloaded", "code": 503}},
            id="payload-wrapped",
        ),
        pytest.param(
            ["event: error", 'data: {"error": {"message": "boom"}}', ""],
            {"error": {"message": "boom"}},
            id="already-an-error",
        ),
        pytest.param(["event:error", 'data: "text"', ""], {"error": "text"}, id="string-payload"),
        pytest.param(
            ["event: error", "data: {", 'data: "message": "split"}', ""],
            {"error": {"message": "split"}},
            id="split",
        ),
        pytest.param(
            ['data: {"error": {"message": "Overloaded", "http_status_code": 424}}', ""],
            {"error": {"message": "Overloaded", "http_status_code": 424}},
            id="tgi-error-in-data-line",
        ),
    ],
)
def test_error_events(lines: list[str], expected: dict[str, Any]) -> None:
    assert decode(lines) == [expected]


def test_event_name_does_not_leak_into_the_next_event() -> None:
    lines = ["event: error", 'data: {"message": "x"}', "", 'data: {"message": "y"}', ""]
    assert decode(lines) == [{"error": {"message": "x"}}, {"message": "y"}]


def test_event_without_data_resets_the_name() -> None:
    assert decode(["event: error", "", 'data: {"ok": true}', ""]) == [{"ok": True}]


def test_malformed_data_raises_at_dispatch() -> None:
    decoder = SSEDecoder()
    assert decoder.line("data: this is not json") is None  # may be continued: no error yet
    assert decoder.line("data: still not") is None
    with pytest.raises(MalformedEventError, match="this is not json") as info:
        decoder.line("")
    assert isinstance(info.value, ValueError)
    # The decoder recovers for the next event.
    assert decoder.line('data: {"a": 1}') == {"a": 1}


def test_malformed_data_raises_at_close() -> None:
    decoder = SSEDecoder()
    assert decoder.line("data: {truncated") is None
    with pytest.raises(MalformedEventError, match="truncated"):
        decoder.close()
