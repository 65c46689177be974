"""langchain_hf_vlm.batch against the loopback server: one result per item, whatever happens."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.batch import (
    DEFAULT_PROMPT,
    BatchResult,
    JsonlWriter,
    aanswer_batch,
    aiter_answers,
    answer_batch,
    done_ids,
    images_in,
)
from tests.servers.chat_server import ChatServer, Fault
from tests.servers.hostile_server import HostileServer
from tests.support.loopback import make_model
from tests.support.pngs import tiny_png

pytestmark = pytest.mark.parametrize("dialect", ["vllm"])

ANSWER = f"images=1; text={DEFAULT_PROMPT}"
PNG = tiny_png(3, 2)


class GaugedServer(ChatServer):
    """Counts the chat requests being answered at once; each takes a few milliseconds, so that
    requests the client lets overlap do overlap."""

    def __init__(self, dialect: str) -> None:
        super().__init__(dialect)
        self.in_flight = 0
        self.most_in_flight = 0
        self._gauge = threading.Lock()

    def _chat(self, ex):  # type: ignore[no-untyped-def]
        with self._gauge:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(0.005)
            return super()._chat(ex)
        finally:
            with self._gauge:
                self.in_flight -= 1


@pytest.fixture
def gauged(dialect: str) -> Iterator[GaugedServer]:
    srv = GaugedServer(dialect)
    with srv:
        yield srv


def _chat_requests(server: ChatServer) -> int:
    return sum(r.path.endswith("/chat/completions") for r in server.requests)


async def test_each_item_gives_one_result_and_failures_do_not_stop_the_rest(
    server: ChatServer,
) -> None:
    server.enqueue(
        Fault("status", status=400, message="image too small"),
        Fault("status", status=500, message="model crashed"),
        Fault("retry_after", value="0"),
    )
    items: list[tuple[str, Any]] = [
        ("bad-1", b"not an image at all"),
        *[(f"good-{i}", PNG) for i in range(6)],
        ("missing", "/nonexistent/cat.png"),
    ]
    results = await aanswer_batch(make_model(server), items, concurrency=1)

    assert [r.id for r in results] == [item_id for item_id, _ in items]  # input order
    by_id = {r.id: r for r in results}
    assert by_id["bad-1"].error is not None and by_id["bad-1"].error.startswith(
        "InvalidContentError: "
    )
    assert by_id["missing"].error is not None
    assert by_id["missing"].error.startswith("FileNotFoundError: ")
    assert not by_id["bad-1"].retryable and not by_id["missing"].retryable
    server_errors = {
        r.error.split(":")[0]: r for r in results if r.id.startswith("good") and r.error
    }
    assert set(server_errors) == {"InvalidRequestError", "InternalServerError", "RateLimitError"}
    assert not server_errors["InvalidRequestError"].retryable
    assert (
        server_errors["InternalServerError"].retryable and server_errors["RateLimitError"].retryable
    )
    assert "model crashed" in (server_errors["InternalServerError"].error or "")
    answered = [r for r in results if r.ok]
    assert len(answered) == 3
    for result in answered:
        assert result.answer == ANSWER
        # The loopback server counts words, and 10 tokens an image.
        assert (result.input_tokens, result.output_tokens) == (16, 7)
        assert not result.retryable
    for result in results:
        assert (result.answer is None) == (result.error is not None)
    assert _chat_requests(server) == 6  # unreadable images are refused before sending


async def test_ready_conversations_are_sent_as_they_are(server: ChatServer) -> None:
    conversation = [SystemMessage("Be brief."), HumanMessage("Name a colour.")]
    results = await aanswer_batch(
        make_model(server),
        [("chat", conversation), ("wrong", ["not a message"])],  # type: ignore[list-item]
    )
    assert results[0] == BatchResult(
        id="chat", answer="images=0; text=Name a colour.", input_tokens=5, output_tokens=4
    )
    assert results[1].error == (
        "TypeError: message 0: a conversation item holds LangChain messages, got str"
    )
    assert [m["role"] for m in server.requests[0].json["messages"]] == ["system", "user"]
    assert _chat_requests(server) == 1


async def test_no_more_requests_in_flight_than_the_concurrency(gauged: GaugedServer) -> None:
    calls: list[BatchResult] = []
    results = await aanswer_batch(
        make_model(gauged),
        [(str(i), PNG) for i in range(40)],
        concurrency=4,
        progress=calls.append,
    )
    assert [r.answer for r in results] == [ANSWER] * 40
    assert sorted(r.id for r in calls) == sorted(r.id for r in results)  # progress: one call each
    assert _chat_requests(gauged) == 40
    assert 1 <= gauged.most_in_flight <= 4


async def test_a_huge_lazy_input_is_read_only_as_far_as_the_work_in_flight(
    gauged: GaugedServer,
) -> None:
    taken = 0

    def items() -> Iterator[tuple[str, bytes]]:
        nonlocal taken
        for index in range(100_000):
            taken += 1
            yield str(index), PNG

    results = aiter_answers(make_model(gauged), items(), concurrency=3)
    first: list[BatchResult] = []
    async for result in results:
        first.append(result)
        if len(first) == 10:
            break
    await results.aclose()  # cancels the items in flight
    assert len(first) == 10 and all(r.ok for r in first)
    assert taken <= 10 + 3  # yielded, and at most concurrency ahead of them
    await asyncio.sleep(0.05)
    assert _chat_requests(gauged) <= taken
    assert gauged.most_in_flight <= 3


async def test_resume_skips_the_ids_already_answered(server: ChatServer, tmp_path: Path) -> None:
    out = tmp_path / "answers.jsonl"
    items = [(f"img{i}.png", PNG) for i in range(6)]
    server.enqueue(Fault("status", status=503, message="overloaded"))
    model = make_model(server)
    with JsonlWriter(out) as sink:
        async for result in aiter_answers(model, items[:4], concurrency=1):
            sink.write(result)
    with out.open("a") as raw:
        raw.write('{"id": "img5.png", "answ')  # a line cut short by a crash
    assert done_ids(out) == {"img1.png", "img2.png", "img3.png"}  # img0 failed (503)

    server.reset()
    with JsonlWriter(out) as sink:
        async for result in aiter_answers(model, items, skip_ids=done_ids(out)):
            sink.write(result)
    assert _chat_requests(server) == 3  # img0 (failed), img4 (never sent), img5 (cut short)
    assert done_ids(out) == {f"img{i}.png" for i in range(6)}
    lines = out.read_text().splitlines()
    assert json.loads(lines[0])["error"].startswith("InternalServerError: ")
    assert json.loads(lines[0])["retryable"] is True
    assert lines[4] == '{"id": "img5.png", "answ'  # kept as it was, on its own line


def test_the_sync_wrapper_and_folders(server: ChatServer, tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/2.png", "a.PNG", "b/1.jpg.png", "c.png"):
        (tmp_path / name).write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("not an image")
    items = list(images_in(tmp_path))
    assert [item_id for item_id, _ in items] == ["a.PNG", "b/1.jpg.png", "b/2.png", "c.png"]
    results = answer_batch(make_model(server), items, skip_ids={"c.png"}, concurrency=2)
    assert [(r.id, r.answer) for r in results] == [(i, ANSWER) for i, _ in items[:3]]


async def test_concurrency_must_be_positive(server: ChatServer) -> None:
    with pytest.raises(ValueError, match="concurrency must be at least 1, got 0"):
        await aanswer_batch(make_model(server), [("a", PNG)], concurrency=0)


@pytest.mark.parametrize(
    ("case", "limits", "error_type", "retryable"),
    [
        pytest.param("no-choices", {}, "MalformedResponseError", False, id="malformed"),
        pytest.param(
            "huge-body", {"max_response_bytes": 1 << 20}, "ResponseTooLargeError", False, id="huge"
        ),
        pytest.param("body-trickle", {"request_timeout": 1.0}, "APITimeoutError", True, id="slow"),
    ],
)
async def test_hostile_answers_are_rows_retryable_only_when_trying_again_may_help(
    dialect: str, case: str, limits: dict[str, Any], error_type: str, retryable: bool
) -> None:
    with HostileServer() as hostile:
        async with ChatHuggingFaceVLM(
            model="tiny/vlm", base_url=f"{hostile.url}/{case}", max_retries=0, **limits
        ) as model:
            results = await aanswer_batch(model, [("a", PNG), ("b", PNG)], concurrency=2)

    assert [r.id for r in results] == ["a", "b"]
    for result in results:
        assert result.answer is None
        assert result.error is not None and result.error.startswith(f"{error_type}: ")
        assert result.retryable is retryable
