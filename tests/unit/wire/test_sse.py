"""Server-sent events as the servers really send them."""

from __future__ import annotations

from typing import Any

import pytest

from langchain_hf_vlm._wire import sse as sse_module
from langchain_hf_vlm._wire.sse import DONE, EventTooLargeError, MalformedEventError, SSEDecoder


def decode(lines: list[str]) -> list[Any]:
    """Feed lines (then close); return every non-None result in order."""
    decoder = SSEDecoder()
    results = [decoder.line(line) for line in lines]
    results.extend(decoder.close())
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
    assert decoder.close() == []


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


# ---------------------------------------------------------------- bytes, limits, linearity


def feed_all(chunks: list[bytes], limit: int | None = 1 << 20) -> list[Any]:
    decoder = SSEDecoder(max_event_bytes=limit)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([b'data: {"a": 1}\n\ndata: {"a": 2}\n\n'], id="one-chunk"),
        pytest.param([b'data: {"a": 1}\r\n\r\ndata: {"a": 2}\r\n\r\n'], id="crlf"),
        pytest.param([b'data: {"a": 1}\r', b'\n\r\ndata: {"a": 2}\r\n'], id="crlf-split"),
        pytest.param([b'data: {"a": 1}\r\rdata: {"a": 2}\r\r'], id="lone-cr"),
        pytest.param([bytes([b]) for b in b'data: {"a": 1}\n\ndata: {"a": 2}'], id="bytewise"),
        pytest.param([b'data: {"a"', b": 1}\n\ndata: ", b'{"a": 2}'], id="split-mid-line"),
    ],
)
def test_bytes_are_split_into_lines(chunks: list[bytes]) -> None:
    assert feed_all(chunks) == [{"a": 1}, {"a": 2}]


def test_utf8_split_between_chunks() -> None:
    data = 'data: {"t": "héllo ✓"}\n\n'.encode()
    assert feed_all([data[:11], data[11:13], data[13:]]) == [{"t": "héllo ✓"}]


def test_done_from_bytes() -> None:
    assert feed_all([b'data: {"a": 1}\n\ndata: [DONE]\n\n']) == [{"a": 1}, DONE]


@pytest.mark.parametrize(
    "chunks",
    [
        pytest.param([b"data: " + b"x" * 5000 + b"\n"], id="one-long-line"),
        pytest.param([b"data: " + b"x" * 100] * 60, id="line-without-end"),
        pytest.param([b"data: {\n"] + [b'data: "k": 1,\n'] * 1000, id="many-lines-one-event"),
    ],
)
def test_an_event_above_the_limit_is_refused(chunks: list[bytes]) -> None:
    with pytest.raises(EventTooLargeError, match="larger than 4096 bytes") as info:
        feed_all(chunks, limit=4096)
    assert isinstance(info.value, MalformedEventError)


def test_no_limit() -> None:
    assert feed_all([b'data: {"t": "' + b"x" * 100_000 + b'"}\n\n'], limit=None) == [
        {"t": "x" * 100_000}
    ]


def test_many_data_lines_of_one_event_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buffered lines were joined and parsed again on every line: 100,000 lines took minutes."""
    decoded: list[int] = []
    real = sse_module._decode

    def counting(text: str) -> Any:
        decoded.append(len(text))
        return real(text)

    monkeypatch.setattr(sse_module, "_decode", counting)
    lines = ["data: {"] + ['data: "k": "v",'] * 100_000 + ['data: "end": 1}', ""]
    assert decode(lines) == [{"k": "v", "end": 1}]
    assert sum(decoded) < 3 * sum(map(len, lines))


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param(["data: {"] + ["data: }{"] * 1000 + [""], id="brackets-never-balance"),
        pytest.param(['data: {"a": 1}x'] + ["data: {}"] * 1000 + [""], id="extra-data"),
        pytest.param(["data: {"] + ['data: "open'] * 1000 + [""], id="open-strings"),
        pytest.param(["data: not json"] + ["data: {}"] * 1000 + [""], id="text"),
    ],
)
def test_a_malformed_many_line_event_is_parsed_at_most_twice(
    monkeypatch: pytest.MonkeyPatch, lines: list[str]
) -> None:
    calls: list[str] = []
    real = sse_module._decode

    def counted(text: str) -> object:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(sse_module, "_decode", counted)
    with pytest.raises(MalformedEventError):
        decode(lines)
    assert len(calls) <= 3  # the first line alone, at most once balanced, once at dispatch


def test_json_nested_too_deeply_is_a_malformed_event() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(MalformedEventError):
        decode([f"data: {deep}", ""])
    with pytest.raises(MalformedEventError):
        decode(["data: [", f"data: {deep}", "data: ]", ""])


def test_strings_with_brackets_and_escapes_span_lines() -> None:
    lines = ["data: {", 'data: "a": "}]\\"{",', 'data: "b": "\\\\"', "data: }", ""]
    assert decode(lines) == [{"a": '}]"{', "b": "\\"}]
