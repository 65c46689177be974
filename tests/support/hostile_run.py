"""Run one hostile case in a child process with a memory ceiling and a wall-time limit.

The child starts its own :class:`HostileServer`, calls the model once (``invoke``,
``ainvoke``, ``stream`` or ``astream``) and reports what the caller got, how long it took and
how much memory it added; the parent kills it at the wall-time limit. A regression thus fails
its test instead of hanging CI or running the machine out of memory.

Children fork from a server process that has already imported the package (about 50 ms a
case instead of 2 s of imports).
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import resource
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from langchain_core.messages import AIMessageChunk, HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm.errors import HuggingFaceVLMError
from tests.servers.hostile_server import HostileServer

TOKEN = "hf_HostileSecretToken0123456789abcdef"
MODES = ("invoke", "ainvoke", "stream", "astream")
_M_ARENA_MAX = -8
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["tests.support.hostile_run"])


@dataclass
class Outcome:
    """What the caller got from one case."""

    case: str
    mode: str
    kind: str = "answer"  # "answer", "error", "hung", "crashed"
    content: str = ""
    finish_reason: Any = None
    usage: Any = None
    usage_error: str | None = None
    error_type: str | None = None
    package_error: bool = False
    status_code: int | None = None
    request_id: str | None = None
    message: str = ""
    partial_text: str | None = None
    token_seen: list[str] = field(default_factory=list)
    retries_logged: int = 0
    server_requests: int = 0
    seconds: float = 0.0
    added_mb: float = 0.0
    detail: str = ""


def _memory_kb(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class _Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _call(model: ChatHuggingFaceVLM, mode: str) -> Any:
    messages = [HumanMessage("Say hello.")]
    if mode == "invoke":
        return model.invoke(messages)
    if mode == "ainvoke":
        return asyncio.run(model.ainvoke(messages))
    if mode == "stream":
        return _merge(list(model.stream(messages)))

    async def collect() -> list[AIMessageChunk]:
        return [chunk async for chunk in model.astream(messages)]

    return _merge(asyncio.run(collect()))


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    first, *rest = chunks
    merged = first + rest if rest else first
    assert isinstance(merged, AIMessageChunk)
    return merged


def _fields(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The model's fields; ``user_clients=True`` hands in clients of the user's own."""
    fields = dict(kwargs)
    if fields.pop("user_clients", False):
        fields["http_client"] = httpx.Client()
        fields["http_async_client"] = httpx.AsyncClient()
    return fields


def run_case(case: str, mode: str, kwargs: dict[str, Any], headroom_mb: int) -> Outcome:
    """In the child: serve ``case``, call the model, describe the result."""
    outcome = Outcome(case, mode)
    logs = _Logs()
    logger = logging.getLogger("langchain_hf_vlm")
    logger.addHandler(logs)
    logger.setLevel(logging.DEBUG)
    with HostileServer() as server:
        model = ChatHuggingFaceVLM(
            **_fields(
                {
                    "model": "tiny/vlm",
                    "base_url": f"{server.url}/{case}",
                    "api_key": TOKEN,
                    "timeout": 2.0,
                    "max_retries": 1,
                    **kwargs,
                }
            )
        )
        baseline_kb = _memory_kb("VmRSS")
        ceiling = (_memory_kb("VmSize") + headroom_mb * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        started = time.monotonic()
        try:
            answer = _call(model, mode)
        except BaseException as exc:  # everything is reported; the parent judges
            outcome.seconds = time.monotonic() - started
            _describe_error(outcome, exc)
        else:
            outcome.seconds = time.monotonic() - started
            outcome.content = answer.text
            outcome.finish_reason = answer.response_metadata.get("finish_reason")
            outcome.usage = answer.usage_metadata
            outcome.usage_error = answer.response_metadata.get("usage_error")
        outcome.added_mb = (_memory_kb("VmHWM") - baseline_kb) / 1024
        outcome.server_requests = server.requests
    outcome.retries_logged = sum("retrying" in line for line in logs.lines)
    if any(TOKEN in line for line in logs.lines):
        outcome.token_seen.append("log")
    return outcome


def _describe_error(outcome: Outcome, exc: BaseException) -> None:
    outcome.kind = "error"
    outcome.error_type = type(exc).__name__
    outcome.package_error = isinstance(exc, HuggingFaceVLMError)
    outcome.status_code = getattr(exc, "status_code", None)
    outcome.request_id = getattr(exc, "request_id", None)
    outcome.message = str(exc)[:2000]
    partial = getattr(exc, "partial_message", None)
    outcome.partial_text = partial.text if partial is not None else None
    shown = {
        "str": str(exc),
        "repr": repr(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "response": repr(getattr(getattr(exc, "response", None), "content", b"")),
        "server_message": str(getattr(exc, "server_message", "")),
    }
    outcome.token_seen += [where for where, text in shown.items() if TOKEN in text]
    if not outcome.package_error:
        outcome.detail = shown["traceback"][-3000:]


def _child(
    conn: Connection, case: str, mode: str, kwargs: dict[str, Any], headroom_mb: int
) -> None:
    # Keep the address space near the memory in use, so that the ceiling is tight: small
    # thread stacks, and two malloc arenas instead of one (64 MB reserved) per thread.
    threading.stack_size(1 << 20)
    ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    try:
        outcome = run_case(case, mode, kwargs, headroom_mb)
    except BaseException as exc:
        outcome = Outcome(
            case, mode, kind="crashed", detail="".join(traceback.format_exception(exc))
        )
    conn.send(outcome)
    conn.close()


def run_isolated(
    case: str,
    mode: str,
    kwargs: dict[str, Any] | None = None,
    *,
    wall_seconds: float = 30.0,
    headroom_mb: int = 400,
) -> Outcome:
    """Run ``case`` in a child process; "hung" if it is still running after ``wall_seconds``."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(
        target=_child, args=(sender, case, mode, kwargs or {}, headroom_mb), daemon=True
    )
    process.start()
    sender.close()
    try:
        if receiver.poll(wall_seconds):
            return receiver.recv()  # type: ignore[no-any-return]
        return Outcome(case, mode, kind="hung", seconds=wall_seconds)
    except EOFError:
        return Outcome(case, mode, kind="crashed", detail=f"exit code {process.exitcode}")
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
