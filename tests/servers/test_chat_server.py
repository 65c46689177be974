"""Self-tests of the fake chat-completion server, over real HTTP with plain httpx."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.servers.chat_server import (
    ChatReply,
    ChatServer,
    Fault,
    Reply,
    Stream,
)

AUTH = {"authorization": "Bearer hf_test"}
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
MESSAGES = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": [IMAGE, {"type": "text", "text": "what is this"}]},
]


def chat(model: str = "tiny/vlm", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": MESSAGES, **extra}


def events(text: str) -> list[Any]:
    """Parse an SSE body into JSON payloads ("[DONE]" kept as a string)."""
    out: list[Any] = []
    for line in text.split("\n"):
        if line.startswith("data:"):
            data = line[5:].strip()
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_default_answer(server: ChatServer) -> None:
    r = httpx.post(f"{server.url}/v1/chat/completions", json=chat(), headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert body["id"] == "chatcmpl-1"
    assert body["object"] == "chat.completion"
    assert body["model"] == "tiny/vlm"
    assert body["system_fingerprint"] == "fp-test"
    assert body["choices"][0]["message"]["content"] == "images=1; text=what is this"
    assert body["choices"][0]["finish_reason"] == "stop"
    # 2 system words + 3 user words + 10 for the image; 4 completion words
    assert body["usage"] == {"prompt_tokens": 15, "completion_tokens": 4, "total_tokens": 19}
    assert r.headers["x-request-id"] == "req-1"
    assert ("x-inference-provider" in r.headers) == (server.dialect == "router")


def test_default_stream(server: ChatServer) -> None:
    payload = chat(stream=True, stream_options={"include_usage": True})
    r = httpx.post(f"{server.url}/v1/chat/completions", json=payload, headers=AUTH)
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    evs = events(r.text)
    chunks = [e for e in evs if isinstance(e, dict) and e["choices"]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "images=1; text=what is this"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    usage = {"prompt_tokens": 15, "completion_tokens": 4, "total_tokens": 19}
    if server.dialect == "transformers":
        assert evs[-1] is chunks[-1]
        assert chunks[-1]["usage"] == usage
        assert r.text.endswith("}\n\n")
    else:
        assert evs[-1] == "[DONE]"
        assert evs[-2] == {**evs[-2], "choices": [], "usage": usage}
    if server.dialect == "tgi":
        assert all(c["usage"] is None for c in chunks)


def test_vllm_continuous_usage(vllm: ChatServer) -> None:
    opts = {"include_usage": True, "continuous_usage_stats": True}
    r = httpx.post(f"{vllm.url}/v1/chat/completions", json=chat(stream=True, stream_options=opts))
    evs = events(r.text)[:-1]
    assert [e["usage"]["completion_tokens"] for e in evs] == [1, 2, 3, 4, 4]
    assert evs[-1]["choices"] == []


@pytest.mark.parametrize("placement", ["final", "last", "every", "none"])
def test_stream_usage_placement(vllm: ChatServer, placement: str) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    deltas = [{"role": "assistant", "content": "Hel"}, {"content": "lo"}]
    vllm.enqueue(Stream(deltas, usage=usage, usage_placement=placement))
    r = httpx.post(f"{vllm.url}/v1/chat/completions", json=chat(stream=True))
    evs = events(r.text)
    assert evs[-1] == "[DONE]"
    chunks = evs[:-1]
    assert [c["choices"][0]["delta"] for c in chunks[:2]] == deltas
    assert chunks[1]["choices"][0]["finish_reason"] == "stop"
    if placement == "final":
        assert len(chunks) == 3
        assert chunks[2]["choices"] == []
        assert chunks[2]["usage"] == usage
        assert "usage" not in chunks[1]
    elif placement == "last":
        assert len(chunks) == 2
        assert chunks[1]["usage"] == usage
        assert "usage" not in chunks[0]
    elif placement == "every":
        assert [c["usage"]["completion_tokens"] for c in chunks] == [1, 2]
    else:
        assert all("usage" not in c for c in chunks)


def test_stream_byte_exact_and_done_variants(vllm: ChatServer) -> None:
    vllm.enqueue(Stream([{"content": "a"}], usage_placement="none", done_line="data:[DONE]"))
    vllm.enqueue(Stream(event_lines=["data: {bad json", "", "event: error", ""]))
    url = f"{vllm.url}/v1/chat/completions"
    first = httpx.post(url, json=chat(stream=True)).text
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "tiny/vlm",
        "system_fingerprint": "fp-test",
        "choices": [
            {"index": 0, "delta": {"content": "a"}, "logprobs": None, "finish_reason": "stop"}
        ],
    }
    assert first == f"data: {json.dumps(chunk, separators=(',', ':'))}\n\ndata:[DONE]\n\n"
    assert httpx.post(url, json=chat(stream=True)).text == "data: {bad json\n\nevent: error\n\n"


@pytest.mark.parametrize(
    ("dialect", "payload", "headers", "status", "expected"),
    [
        (
            "vllm",
            chat(stream_options={"include_usage": True}),
            {},
            400,
            {
                "error": {
                    "message": "Stream options can only be defined when `stream=True`.",
                    "type": "BadRequestError",
                    "param": None,
                    "code": 400,
                }
            },
        ),
        (
            "tgi",
            chat(top_p=1.0),
            {},
            422,
            {"error": "`top_p` must be > 0.0 and < 1.0", "error_type": "validation"},
        ),
        (
            "tgi",
            chat(tools=[], response_format={"type": "json_object"}),
            {},
            422,
            {
                "error": "Grammar and tools are mutually exclusive",
                "error_type": "grammar and tools",
            },
        ),
        (
            "router",
            chat(),
            {"authorization": "Bearer sk-nope"},
            401,
            {
                "error": {
                    "message": "Invalid credentials in Authorization header",
                    "type": "AuthenticationError",
                    "param": None,
                    "code": 401,
                }
            },
        ),
        ("router", chat(), {}, 401, None),
        (
            "transformers",
            chat(tool_prompt="x"),
            {},
            422,
            {
                "detail": [
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", "tool_prompt"],
                        "msg": "Extra inputs are not permitted",
                        "input": "x",
                    }
                ]
            },
        ),
    ],
)
def test_dialect_errors(
    dialect: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    status: int,
    expected: dict[str, Any] | None,
) -> None:
    with ChatServer(dialect) as srv:
        r = httpx.post(f"{srv.url}/v1/chat/completions", json=payload, headers=headers)
    assert r.status_code == status
    if expected is not None:
        assert r.json() == expected


def test_served_models() -> None:
    with ChatServer("vllm", served_models={"tiny/vlm"}) as srv:
        r = httpx.post(f"{srv.url}/v1/chat/completions", json=chat("dummy"))
        assert r.status_code == 404
        assert r.json()["error"]["message"] == "The model `dummy` does not exist."
        assert httpx.post(f"{srv.url}/v1/chat/completions", json=chat()).status_code == 200


def test_get_routes(server: ChatServer) -> None:
    assert httpx.get(f"{server.url}/health").status_code == 200
    models = httpx.get(f"{server.url}/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["tiny/vlm"]
    info = httpx.get(f"{server.url}/info")
    if server.dialect == "tgi":
        assert info.json()["model_id"] == "tiny/vlm"
        assert info.json()["version"] == "3.3.0"
    else:
        assert info.status_code == 404


def test_router_provider_paths_and_header() -> None:
    with ChatServer("router") as srv:
        srv.enqueue(ChatReply("hi", provider="nebius"))
        r = httpx.post(f"{srv.url}/together/v1/chat/completions", json=chat(), headers=AUTH)
        assert r.headers["x-inference-provider"] == "nebius"
        assert r.json()["choices"][0]["message"]["content"] == "hi"
        assert srv.requests[0].path == "/together/v1/chat/completions"


def test_keep_alive_reuses_connection(server: ChatServer) -> None:
    url = "/v1/chat/completions"
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        assert client.post(url, json=chat()).status_code == 200
        with client.stream("POST", url, json=chat(stream=True)) as r:
            assert "".join(r.iter_text())
        assert client.post(url, json=chat()).status_code == 200
        assert client.get("/health").status_code == 200
    assert server.connections_opened == 1
    assert [r.headers["connection"] == "keep-alive" for r in server.requests] == [True] * 4


def test_reset_after_mid_stream(vllm: ChatServer) -> None:
    deltas = [{"content": f"w{i} "} for i in range(5)]
    vllm.enqueue(Stream(deltas, reset_after=2))
    seen: list[str] = []
    with httpx.Client(base_url=vllm.url) as client:
        with client.stream("POST", "/v1/chat/completions", json=chat(stream=True)) as r:
            assert r.status_code == 200
            with pytest.raises(httpx.HTTPError):
                seen.extend(r.iter_lines())  # keeps the lines read before the error
        assert client.post("/v1/chat/completions", json=chat()).status_code == 200
    assert [e["choices"][0]["delta"] for e in events("\n".join(seen))] == deltas[:2]
    assert vllm.connections_opened == 2


@pytest.mark.parametrize("kind", ["reset", "close"])
def test_fault_before_response(vllm: ChatServer, kind: str) -> None:
    vllm.enqueue(Fault(kind))
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{vllm.url}/v1/chat/completions", json=chat())
    assert len(vllm.requests) == 1


def test_faults_with_responses(vllm: ChatServer) -> None:
    vllm.enqueue(
        Fault("retry_after", value="7"),
        Fault("redirect", target="/chat/completions"),
        Fault("status", status=503, message="loading", repeat=2),
        Fault("status", status=500, message="Internal Server Error", shape="plain"),
        Fault("delay", seconds=0.2),
        Reply({"custom": True}, status=202, headers={"x-extra": "1"}),
    )
    url = f"{vllm.url}/v1/chat/completions"
    r = httpx.post(url, json=chat())
    assert (r.status_code, r.headers["retry-after"]) == (429, "7")
    assert r.json()["error"]["type"] == "RateLimitError"
    r = httpx.post(url, json=chat())
    assert (r.status_code, r.headers["location"]) == (307, "/chat/completions")
    for _ in range(2):
        r = httpx.post(url, json=chat())
        assert r.status_code == 503
        assert r.json()["error"]["message"] == "loading"
    r = httpx.post(url, json=chat())
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert r.headers["content-type"] == "text/plain"
    start = time.monotonic()
    r = httpx.post(url, json=chat())
    assert time.monotonic() - start >= 0.2
    assert (r.status_code, r.json(), r.headers["x-extra"]) == (202, {"custom": True}, "1")
    assert httpx.post(url, json=chat()).json()["object"] == "chat.completion"


def test_error_after_and_close_without_finish(vllm: ChatServer) -> None:
    vllm.enqueue(Stream([{"content": "a"}, {"content": "b"}], error_after=1))
    vllm.enqueue(Stream([{"content": "a"}], close_without_finish=True))
    url = f"{vllm.url}/v1/chat/completions"
    evs = events(httpx.post(url, json=chat(stream=True)).text)
    assert len(evs) == 2
    assert evs[1] == {"error": {"message": "boom", "type": "server_error", "code": 500}}
    evs = events(httpx.post(url, json=chat(stream=True)).text)
    assert len(evs) == 1
    assert evs[0]["choices"][0]["finish_reason"] is None


def test_stall_times_out_client_and_stops_cleanly() -> None:
    srv = ChatServer("vllm").__enter__()
    srv.enqueue(Stream([{"content": "a"}, {"content": "b"}], stall_after=1))
    with httpx.Client(base_url=srv.url, timeout=httpx.Timeout(5, read=0.3)) as client:
        with client.stream("POST", "/v1/chat/completions", json=chat(stream=True)) as r:
            assert r.status_code == 200
            with pytest.raises(httpx.ReadTimeout):
                list(r.iter_lines())
        srv.enqueue(Stream([{"content": "a"}], stall_after=0))
        with client.stream("POST", "/v1/chat/completions", json=chat(stream=True)) as r:
            start = time.monotonic()
            srv.__exit__(None, None, None)
            assert time.monotonic() - start < 3


def test_chat_reply_stream_with_tool_calls(server: ChatServer) -> None:
    call = {"id": "0", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
    server.enqueue(
        ChatReply(None, tool_calls=[call], finish_reason="tool_calls", reasoning="hmm"),
        ChatReply(None, tool_calls=[call]),
    )
    url = f"{server.url}/v1/chat/completions"
    chunks = [
        e
        for e in events(httpx.post(url, json=chat(stream=True), headers=AUTH).text)
        if isinstance(e, dict) and e["choices"]
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "reasoning": "hmm"}
    assert chunks[1]["choices"][0]["delta"] == {"tool_calls": [{"index": 0, **call}]}
    assert chunks[1]["choices"][0]["finish_reason"] == "tool_calls"
    message = httpx.post(url, json=chat(), headers=AUTH).json()["choices"][0]["message"]
    assert message["tool_calls"] == [call]
    assert message["content"] is None


def test_recorded_requests_and_reset(vllm: ChatServer) -> None:
    def body() -> Iterator[bytes]:
        yield json.dumps(chat())[:10].encode()
        yield json.dumps(chat())[10:].encode()

    headers = {"X-HF-Bill-To": "acme", "content-type": "application/json"}
    r = httpx.post(f"{vllm.url}/v1/chat/completions?x=1", content=body(), headers=headers)
    assert r.status_code == 200
    rec = vllm.requests[0]
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions?x=1")
    assert rec.headers["x-hf-bill-to"] == "acme"
    assert rec.headers["transfer-encoding"] == "chunked"
    assert rec.json == chat()
    assert json.loads(rec.body) == chat()
    vllm.enqueue(Reply({}))
    vllm.reset()
    assert (vllm.requests, vllm.connections_opened) == ([], 0)
    r = httpx.post(f"{vllm.url}/v1/chat/completions", json=chat())
    assert r.headers["x-request-id"] == "req-1"
    assert r.json()["object"] == "chat.completion"


def test_close_delimited_stream(vllm: ChatServer) -> None:
    vllm.enqueue(Stream([{"content": "a"}], usage_placement="none", chunked=False))
    data = json.dumps(chat(stream=True)).encode()
    with socket.create_connection(("127.0.0.1", int(vllm.url.rsplit(":", 1)[1])), 5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(data), data)
        )
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head
    assert b"transfer-encoding" not in head
    assert body.endswith(b"data: [DONE]\n\n")
