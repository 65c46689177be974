"""One call's policy: read limits, deadline, and what failures become (no secrets inside)."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import ModelError

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.policy import Body, CallState, Limits
from langchain_hf_vlm._wire.retry import ScaleUpPolicy
from langchain_hf_vlm._wire.sse import EventTooLargeError, MalformedEventError
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APITimeoutError,
    IncompleteStreamError,
    ResponseTooLargeError,
)

TOKEN = "hf_CallSecretToken123456"


def call(**limits: float | None) -> CallState:
    headers = {"authorization": f"Bearer {TOKEN}"}
    return CallState(headers, ScaleUpPolicy(), 2, Limits(timeout=2.0, **limits))  # type: ignore[arg-type]


def test_a_body_past_its_limit_is_refused_naming_the_field() -> None:
    body = Body(10, "max_response_bytes")
    assert body.add(b"12345")
    with pytest.raises(ResponseTooLargeError, match="max_response_bytes") as info:
        body.add(b"123456")
    assert (info.value.limit, info.value.setting) == (10, "max_response_bytes")


def test_an_error_body_keeps_its_start() -> None:
    body = Body(4, None)
    assert not body.add(b"abcdef")
    assert body.data() == b"abcd"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    response = httpx.Response(200, headers={"content-length": str(10**9)})
    with pytest.raises(ResponseTooLargeError):
        call(max_response_bytes=1000).answer(response)
    gzip = httpx.Response(200, headers={"content-length": "5", "content-encoding": "gzip"})
    assert call(max_response_bytes=1000).answer(gzip).size == 0


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (EventTooLargeError(100), ResponseTooLargeError),
        (MalformedEventError(f"malformed stream event: 'Bearer {TOKEN}'"), IncompleteStreamError),
        (httpx.ReadError(f"reset while sending {TOKEN}"), APIConnectionError),
        (httpx.DecodingError("bad gzip"), ModelError),
    ],
)
def test_failures_become_package_errors_without_the_token(
    raised: Exception, expected: type[Exception]
) -> None:
    error = call().error(raised, delivered=False)
    assert isinstance(error, expected)
    assert isinstance(error, ModelError)
    assert TOKEN not in str(error)


def test_a_timeout_after_the_request_deadline_says_so() -> None:
    error = call(request_timeout=0.0).error(httpx.ReadTimeout("slow"), delivered=True)
    assert isinstance(error, APITimeoutError)
    assert error.phase == "request"
    assert "request_timeout=0s" in str(error)


def test_no_retry_wait_past_the_request_deadline() -> None:
    timeout = APITimeoutError("timed out", phase="first_byte")
    with pytest.raises(APITimeoutError):
        call(request_timeout=0.0).next_wait(timeout, timeout)
    assert call(request_timeout=100.0).next_wait(timeout, timeout) < 100
