"""Scaled-to-zero Inference Endpoints: which hosts may sleep, and the header that lets them wake.

An Inference Endpoint's proxy answers 503 while a replica starts, unless the request carries
``X-Scale-Up-Timeout``; then it holds the request for up to that many seconds. Endpoints are
``*.endpoints.huggingface.cloud`` hosts, which a loopback server cannot be, so the header is
checked here on requests captured by an in-process transport. The waiting itself is covered
over real HTTP in tests/protocol/test_faults.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._servers.dialects import resolve_endpoint

ENDPOINT = "https://abc123.us-east-1.aws.endpoints.huggingface.cloud"
COMPLETION = {
    "id": "c",
    "object": "chat.completion",
    "created": 0,
    "model": "m",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}
    ],
}


def _sent(model: ChatHuggingFaceVLM, monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """The requests one ``invoke`` puts on the wire, captured without a socket."""
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json=COMPLETION)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert model.model_copy(update={"http_client": client}).invoke("hi").content == "ok"
    return sent


@pytest.mark.parametrize(
    ("fields", "header"),
    [
        pytest.param({"base_url": ENDPOINT}, "108", id="endpoint-default-timeout"),
        pytest.param({"base_url": f"{ENDPOINT}/v1/"}, "108", id="endpoint-with-v1"),
        pytest.param({"base_url": ENDPOINT, "timeout": 10}, "9", id="endpoint-timeout-10"),
        pytest.param({"base_url": ENDPOINT, "timeout": 0.5}, "1", id="endpoint-tiny-timeout"),
        pytest.param({"base_url": ENDPOINT, "timeout": None}, "600", id="endpoint-no-timeout"),
        pytest.param(
            {"base_url": ENDPOINT, "wait_for_scale_up": False}, None, id="endpoint-opted-out"
        ),
        pytest.param({"base_url": "http://127.0.0.1:8080"}, None, id="local-server"),
        pytest.param(
            {"base_url": "http://127.0.0.1:8080", "wait_for_scale_up": True, "timeout": 10},
            "9",
            id="local-server-opted-in",
        ),
        pytest.param(
            {"base_url": "https://endpoints.huggingface.cloud.evil.example"},
            None,
            id="lookalike-host",
        ),
        pytest.param({"base_url": "https://someone-space.hf.space"}, None, id="space"),
        pytest.param({}, None, id="router"),
    ],
)
def test_scale_up_header_goes_to_endpoints_that_may_sleep(
    monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], header: str | None
) -> None:
    model = ChatHuggingFaceVLM(model="m", api_key=SecretStr("hf_test"), **fields)
    (request,) = _sent(model, monkeypatch)
    assert request.headers.get("x-scale-up-timeout") == header


def test_the_users_own_scale_up_header_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    model = ChatHuggingFaceVLM(
        model="m",
        base_url=ENDPOINT,
        api_key=SecretStr("hf_test"),
        default_headers={"x-scale-up-timeout": "30"},
    )
    (request,) = _sent(model, monkeypatch)
    assert request.headers.get_list("x-scale-up-timeout") == ["30"]


@pytest.mark.parametrize(
    ("base_url", "choice", "scales_to_zero"),
    [
        (ENDPOINT, None, True),
        (ENDPOINT.upper(), None, True),
        (ENDPOINT, False, False),
        ("http://127.0.0.1:8080", None, False),
        ("http://127.0.0.1:8080", True, True),
        ("https://router.huggingface.co/v1", None, False),
        (None, None, False),
    ],
)
def test_which_endpoints_may_be_scaled_to_zero(
    base_url: str | None, choice: bool | None, scales_to_zero: bool
) -> None:
    endpoint = resolve_endpoint(base_url, "auto", choice)
    assert endpoint.scale_up(10).asleep_when_503 is scales_to_zero
    assert endpoint.identified("tgi").scale_up(10).asleep_when_503 is scales_to_zero


def test_waiting_for_scale_up_needs_a_base_url() -> None:
    with pytest.raises(ValueError, match="wait_for_scale_up applies to an Inference Endpoint"):
        ChatHuggingFaceVLM(model="m", wait_for_scale_up=True)
