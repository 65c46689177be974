"""Hostile servers: whatever a server does, the caller gets an answer or a package error, in
bounded time and memory, and never sees the token.

Each case runs in a child process (see ``hostile_run``) with a memory ceiling of the caps
below plus 400 MB, and is killed at its wall-time limit: a regression fails here instead of
hanging or running the machine out of memory. The cases run concurrently (they mostly wait).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.hostile_run import Outcome, run_isolated

MB = 1 << 20
CAPS: dict[str, Any] = {
    "timeout": 2.0,
    "max_retries": 1,
    "total_timeout": 6.0,
    "max_response_bytes": 4 * MB,
    "max_stream_event_bytes": 1 * MB,
}
"""Small limits, so that gigabyte cases end in megabytes and slow ones in seconds."""
WALL_SECONDS = 20.0
HEADROOM_MB = 400
ANSWER = "Hello brave new world"


@dataclass(frozen=True)
class Case:
    name: str
    modes: tuple[str, ...]
    check: Callable[[Outcome], None]
    user_clients: bool = False
    """Through ``http_client``/``http_async_client`` of the user's own, not the package's."""

    @property
    def key(self) -> str:
        return f"{self.name}-user-clients" if self.user_clients else self.name


def answer(content: str = ANSWER, **fields: Any) -> Callable[[Outcome], None]:
    def check(outcome: Outcome) -> None:
        assert (outcome.kind, outcome.content) == ("answer", content), outcome
        for name, value in fields.items():
            assert getattr(outcome, name) == value, (name, outcome)

    return check


def error(
    error_type: str | tuple[str, ...], *words: str, **fields: Any
) -> Callable[[Outcome], None]:
    types = (error_type,) if isinstance(error_type, str) else error_type

    def check(outcome: Outcome) -> None:
        assert outcome.kind == "error", outcome
        assert outcome.package_error, outcome.detail
        assert outcome.error_type in types, outcome
        for word in words:
            assert word in outcome.message, (word, outcome.message)
        for name, value in fields.items():
            assert getattr(outcome, name) == value, (name, outcome)

    return check


STREAMS = ("stream", "astream")
CALLS = ("invoke", "ainvoke")
TIMEOUT = error("APITimeoutError", "timed out")
TOO_LARGE = error("ResponseTooLargeError", "larger than")
MALFORMED = error("MalformedResponseError", request_id="req-hostile")
BROKEN_OFF = error("IncompleteStreamError", partial_text="Hello brave ")
USAGE = {"input_tokens": 7, "output_tokens": 4, "total_tokens": 11}

CASES = [
    # [DONE] ends the stream, and a stream ended by it is complete
    Case("done-then-hang", STREAMS, answer(finish_reason="stop")),
    Case("done-then-pings", STREAMS, answer(finish_reason="stop")),
    Case("snowflake", STREAMS, answer(finish_reason=None, usage=USAGE)),
    Case("no-done-no-finish", STREAMS, error("IncompleteStreamError", "without a finish reason")),
    Case(
        "openrouter-midstream-error",
        STREAMS,
        error("IncompleteStreamError", "Token limit reached", status_code=400),
    ),
    # time
    Case("pings-forever", STREAMS, TIMEOUT),
    Case("content-then-pings", STREAMS, error("IncompleteStreamError", "timed out")),
    Case("sse-trickle", STREAMS, TIMEOUT),
    Case("body-trickle", CALLS, TIMEOUT),
    Case("header-trickle", (*CALLS, "stream"), TIMEOUT),
    # memory
    Case("huge-body", CALLS, TOO_LARGE),
    Case("gzip-bomb", CALLS, TOO_LARGE),
    Case("gigabyte-sse-line", STREAMS, TOO_LARGE),
    Case(
        "error-500-gigabyte",
        ("invoke", "stream"),
        error(
            "InternalServerError",
            "the server fell over",
            status_code=500,
            request_id="req-500",
        ),
    ),
    # secrets
    Case(
        "echo-auth-401",
        ("invoke", "stream"),
        error("AuthenticationError", status_code=401),
    ),
    Case(
        "echo-auth-503",
        ("invoke",),
        error("InternalServerError", status_code=503),
    ),
    Case(
        "echo-auth-stream-error",
        ("stream",),
        error("IncompleteStreamError", "bad header"),
    ),
    # every failure a package error, and the right one
    Case("redirect-loop", ("invoke", "stream"), error("APIResponseError", "redirect")),
    Case(
        "llama-context-overflow",
        ("invoke",),
        error("ContextOverflowError", "context size", status_code=400),
    ),
    Case("no-choices", CALLS, MALFORMED),
    Case("empty-choices", ("invoke",), MALFORMED),
    Case("null-choice", ("invoke",), MALFORMED),
    Case("string-choice", ("invoke",), MALFORMED),
    Case("content-42", ("invoke",), MALFORMED),
    Case("deep-nesting", CALLS, error(("APIResponseError", "MalformedResponseError"))),
    Case("not-json", ("invoke",), error("APIResponseError", "non-JSON", status_code=200)),
    Case("json-list", ("invoke",), error("APIResponseError", status_code=200)),
    Case("usage-1e400", ("invoke",), answer(usage=None)),
    Case("usage-nan", ("invoke",), answer(usage=None)),
    Case("usage-lots", ("invoke",), answer(usage=None)),
    Case("stream-null-choice", STREAMS, BROKEN_OFF),
    Case("stream-string-choice", ("stream",), BROKEN_OFF),
    Case("stream-content-42", ("stream",), BROKEN_OFF),
    Case("stream-deep-nesting", ("stream",), BROKEN_OFF),
    Case("stream-not-json", ("stream",), BROKEN_OFF),
    Case("stream-usage-nan", ("stream",), answer(usage=None, finish_reason="stop")),
    # the same limits with clients the user handed in (checked between reads, or a cancel
    # scope around each await; a sync client's headers are bounded by its own timeouts only)
    Case("done-then-hang", STREAMS, answer(finish_reason="stop"), user_clients=True),
    Case("done-then-pings", STREAMS, answer(finish_reason="stop"), user_clients=True),
    Case("pings-forever", STREAMS, TIMEOUT, user_clients=True),
    Case("sse-trickle", STREAMS, TIMEOUT, user_clients=True),
    Case("body-trickle", CALLS, TIMEOUT, user_clients=True),
    Case("header-trickle", ("ainvoke", "astream"), TIMEOUT, user_clients=True),
    Case("gzip-bomb", CALLS, TOO_LARGE, user_clients=True),
    Case("echo-auth-503", ("invoke",), error("InternalServerError"), user_clients=True),
]
RUNS = [(case, mode) for case in CASES for mode in case.modes]


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], Outcome]:
    """Every run, concurrently: most cases wait on a slow server, not on the CPU."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = {
            (case.key, mode): pool.submit(
                run_isolated,
                case.name,
                mode,
                {**CAPS, "user_clients": case.user_clients},
                wall_seconds=WALL_SECONDS,
                headroom_mb=HEADROOM_MB,
            )
            for case, mode in RUNS
        }
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize(
    ("case", "mode"), [pytest.param(case, mode, id=f"{case.key}-{mode}") for case, mode in RUNS]
)
def test_hostile_server(case: Case, mode: str, outcomes: dict[tuple[str, str], Outcome]) -> None:
    outcome = outcomes[case.key, mode]
    assert outcome.kind not in ("hung", "crashed"), outcome
    assert outcome.token_seen == [], outcome
    case.check(outcome)


def test_a_retried_503_that_echoes_the_token_logs_no_token(
    outcomes: dict[tuple[str, str], Outcome],
) -> None:
    outcome = outcomes["echo-auth-503", "invoke"]
    assert (outcome.retries_logged, outcome.server_requests) == (1, 2)
    assert outcome.token_seen == []
