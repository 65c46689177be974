"""HTTP error answers -> the exception the user catches."""

from __future__ import annotations

import json
import pickle
from types import SimpleNamespace
from typing import Any

import pytest
from huggingface_hub.errors import HfHubHTTPError
from langchain_core.exceptions import (
    ContextOverflowError,
    ModelAPIError,
    ModelAuthenticationError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
)

from langchain_hf_vlm import errors
from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire import failures as _error_mapping
from langchain_hf_vlm._wire.failures import (
    error_for_response,
    retry_after_seconds,
    server_message,
)
from langchain_hf_vlm._wire.redaction import Redactor
from langchain_hf_vlm.errors import (
    APIError,
    AuthenticationError,
    HuggingFaceVLMHTTPError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

REQUEST_URL = "http://127.0.0.1/v1/chat/completions"


def response(status: int, content: bytes = b"", headers: dict[str, str] | None = None) -> Any:
    return httpx.Response(
        status, request=httpx.Request("POST", REQUEST_URL), content=content, headers=headers
    )


def error(
    status: int, content: bytes | str | Any = b"", headers: dict[str, str] | None = None
) -> HuggingFaceVLMHTTPError:
    if not isinstance(content, (bytes, str)):
        content = json.dumps(content)
    raw = content.encode() if isinstance(content, str) else content
    return error_for_response(response(status, raw, headers), raw)


# ---------------------------------------------------------------- server_message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {
                "error": "Input validation error: `temperature` must be strictly positive",
                "error_type": "validation",
            },
            ("Input validation error: `temperature` must be strictly positive", "validation"),
            id="tgi-flat",
        ),
        pytest.param(
            {
                "error": {
                    "message": "Invalid image URL",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_image",
                }
            },
            ("Invalid image URL", "invalid_request_error"),
            id="openai-nested",
        ),
        pytest.param(
            {"error": {"message": "No such model", "code": 404}},
            ("No such model", "404"),
            id="openai-nested-code-only",
        ),
        pytest.param(
            {
                "object": "error",
                "message": "The model `x` does not exist.",
                "type": "NotFoundError",
                "code": 404,
            },
            ("The model `x` does not exist.", "NotFoundError"),
            id="vllm-flat",
        ),
        pytest.param({"detail": "Not Found"}, ("Not Found", None), id="fastapi-string"),
        pytest.param(
            {
                "detail": [
                    {"type": "missing", "loc": ["body", "messages"], "msg": "Field required"},
                    {
                        "type": "extra_forbidden",
                        "loc": ["body", "tool_prompt"],
                        "msg": "Extra inputs are not permitted",
                    },
                ]
            },
            (
                "body.messages: Field required; body.tool_prompt: Extra inputs are not permitted",
                None,
            ),
            id="fastapi-list",
        ),
        pytest.param(
            [{"error": "Model is overloaded", "error_type": "overloaded"}],
            ("Model is overloaded", "overloaded"),
            id="json-list",
        ),
        pytest.param([], (None, None), id="empty-json-list"),
        pytest.param("just a JSON string", ("just a JSON string", None), id="json-string"),
        pytest.param({"unexpected": 1}, (None, None), id="unknown-object"),
    ],
)
def test_server_message_json(body: Any, expected: tuple[str | None, str | None]) -> None:
    raw = json.dumps(body)
    assert server_message(raw.encode()) == expected
    assert server_message(raw) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"Internal Server Error\n", "Internal Server Error", id="plain-text"),
        pytest.param(
            b"<html><body>502 Bad Gateway</body></html>",
            "<html><body>502 Bad Gateway</body></html>",
            id="html",
        ),
        pytest.param(b"", None, id="empty"),
        pytest.param(b"  \n ", None, id="blank"),
        pytest.param(b"caf\xc3\xa9 \xff", "café \ufffd", id="bad-utf8"),
    ],
)
def test_server_message_text(body: bytes, expected: str | None) -> None:
    assert server_message(body) == (expected, None)


def test_server_message_is_truncated() -> None:
    message, _ = server_message(b"x" * 5000)
    assert message == "x" * 2000 + "... [truncated]"


# ---------------------------------------------------------------- error_for_response


@pytest.mark.parametrize(
    ("status", "cls", "core_cls", "retryable"),
    [
        (400, InvalidRequestError, ModelInvalidRequestError, False),
        (401, AuthenticationError, ModelAuthenticationError, False),
        (402, PermissionDeniedError, ModelPermissionDeniedError, False),
        (403, PermissionDeniedError, ModelPermissionDeniedError, False),
        (404, NotFoundError, ModelNotFoundError, False),
        (413, InvalidRequestError, ModelInvalidRequestError, False),
        (422, InvalidRequestError, ModelInvalidRequestError, False),
        (429, RateLimitError, ModelRateLimitError, True),
        (500, InternalServerError, ModelAPIError, True),
        (502, InternalServerError, ModelAPIError, True),
        (503, InternalServerError, ModelAPIError, True),
        (418, APIError, ModelAPIError, True),
    ],
)
def test_status_maps_to_class(
    status: int, cls: type[Exception], core_cls: type[Exception], retryable: bool
) -> None:
    exc = error(status, {"error": "something went wrong", "error_type": "kind"})
    assert type(exc) is cls
    assert isinstance(exc, core_cls)
    assert isinstance(exc, APIError) is (status >= 500 or status == 418)  # except APIError works
    assert isinstance(exc, ModelError)
    assert isinstance(exc, HfHubHTTPError)
    assert isinstance(exc, httpx.HTTPError)
    assert exc.is_retryable is retryable
    assert exc.status_code == status
    assert exc.response.status_code == status
    assert exc.server_message == "something went wrong"
    assert exc.error_type == "kind"
    reason = httpx.codes.get_reason_phrase(status)
    assert str(exc) == f"HTTP {status} {reason} from 127.0.0.1: something went wrong"


def test_message_with_request_id_and_no_body() -> None:
    exc = error(401, b"", {"x-request-id": "Root=1-abc"})
    assert exc.request_id == "Root=1-abc"
    assert exc.server_message is None
    assert str(exc) == "HTTP 401 Unauthorized from 127.0.0.1 (request id Root=1-abc)"


def test_message_with_request_id_and_body() -> None:
    exc = error(
        401, {"error": "Invalid credentials in Authorization header"}, {"X-Request-Id": "r1"}
    )
    assert str(exc) == (
        "HTTP 401 Unauthorized from 127.0.0.1: Invalid credentials in Authorization header "
        "(request id r1)"
    )
    assert exc.request_id == "r1"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(
            422,
            {
                "error": "Input validation error: `inputs` tokens + `max_new_tokens` must be "
                "<= 4096. Given: 4000 `inputs` tokens and 200 `max_new_tokens`",
                "error_type": "validation",
            },
            id="tgi-total-tokens",
        ),
        pytest.param(
            422,
            {
                "error": "Input validation error: `inputs` must have less than 4096 tokens. "
                "Given: 5000",
                "error_type": "validation",
            },
            id="tgi-input-length",
        ),
        pytest.param(
            400,
            {
                "object": "error",
                "message": "This model's maximum context length is 4096 tokens. However, you "
                "requested 5000 tokens (4800 in the messages, 200 in the completion).",
                "type": "BadRequestError",
                "code": 400,
            },
            id="vllm-flat",
        ),
        pytest.param(
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 4096 tokens. However, "
                    "your request has 5000 input tokens.",
                    "type": "BadRequestError",
                    "code": 400,
                }
            },
            id="vllm-nested",
        ),
        pytest.param(
            400,
            {
                "error": {
                    "message": "The decoder prompt (length 5000) is longer than the maximum "
                    "model length of 4096.",
                    "type": "BadRequestError",
                }
            },
            id="vllm-decoder-prompt",
        ),
    ],
)
def test_context_overflow(status: int, body: Any) -> None:
    exc = error(status, body)
    assert type(exc) is errors.ContextOverflowError
    assert isinstance(exc, ContextOverflowError)  # langchain-core's
    assert isinstance(exc, InvalidRequestError)
    assert isinstance(exc, ModelInvalidRequestError)
    assert isinstance(exc, HfHubHTTPError)
    assert exc.status_code == status


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (422, "Input validation error: `temperature` must be strictly positive"),
        (400, "Invalid image URL"),
        (500, "This model's maximum context length is 4096 tokens"),  # a 5xx stays a 5xx
    ],
)
def test_not_context_overflow(status: int, message: str) -> None:
    assert not isinstance(error(status, {"error": message}), ContextOverflowError)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        (" 12 ", 12.0),
        ("-3", 0.0),
        ("Tue, 14 Nov 2023 22:15:20 GMT", 120.0),
        ("Tue, 14 Nov 2023 22:00:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("", None),
    ],
)
def test_retry_after(monkeypatch: pytest.MonkeyPatch, header: str, expected: float | None) -> None:
    # 2023-11-14 22:13:20 UTC
    monkeypatch.setattr(_error_mapping, "time", SimpleNamespace(time=lambda: 1_700_000_000.0))
    exc = error(429, b"Too many requests", {"retry-after": header})
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == expected
    assert retry_after_seconds(header) == expected


def test_retry_after_absent() -> None:
    exc = error(429, b"")
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after is None
    assert retry_after_seconds(None) is None


def test_errors_survive_pickling() -> None:
    exc = error(
        429,
        {"error": {"message": "slow down", "type": "rate_limit"}},
        {"retry-after": "3", "x-request-id": "r9"},
    )
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is RateLimitError
    assert str(copy) == str(exc)
    assert (copy.status_code, copy.server_message, copy.error_type, copy.request_id) == (
        429,
        "slow down",
        "rate_limit",
        "r9",
    )
    assert copy.retry_after == 3.0


def test_context_overflow_keeps_its_old_name_with_a_deprecation_warning() -> None:
    exc = error(400, {"error": "This model's maximum context length is 4096 tokens"})
    with pytest.warns(DeprecationWarning, match="use ContextOverflowError") as info:
        from langchain_hf_vlm import ContextOverflow
    assert info[0].filename == __file__  # the warning points at the importing code
    with pytest.warns(DeprecationWarning, match="use ContextOverflowError"):
        assert errors.ContextOverflow is errors.ContextOverflowError
    assert isinstance(exc, ContextOverflow)
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchError'"):
        errors.NoSuchError  # noqa: B018
    with pytest.raises(ImportError):
        from langchain_hf_vlm import NoSuchError  # noqa: F401


def test_a_server_error_is_caught_as_api_error() -> None:
    with pytest.raises(APIError) as info:
        raise error(500, {"error": "boom"})
    assert type(info.value) is InternalServerError


# ---------------------------------------------------------------- llama.cpp, request ids, secrets

LLAMA_CPP_OVERFLOW = {
    "error": {
        "code": 400,
        "message": "request (10027 tokens) exceeds the available context size (2048 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 10027,
        "n_ctx": 2048,
    }
}


def test_llama_server_context_overflow() -> None:
    exc = error(400, LLAMA_CPP_OVERFLOW)
    assert isinstance(exc, ContextOverflowError)
    assert isinstance(exc, ContextOverflowError)
    assert exc.error_type == "exceed_context_size_error"
    assert "exceeds the available context size (2048 tokens)" in str(exc)


def test_context_overflow_by_type_alone() -> None:
    body = {"error": {"message": "too long", "type": "exceed_context_size_error"}}
    assert isinstance(error(400, body), ContextOverflowError)
    openai = {"error": {"message": "nope", "type": "invalid_request_error", "code": None}}
    assert not isinstance(error(400, openai), ContextOverflowError)


@pytest.mark.parametrize(
    "header", ["x-request-id", "request-id", "x-amzn-requestid", "x-amzn-trace-id", "cf-ray"]
)
def test_request_id_from_any_known_header(header: str) -> None:
    exc = error(503, {"error": "busy"}, {header: "rid-42"})
    assert exc.request_id == "rid-42"
    assert str(exc).endswith("(request id rid-42)")


SECRET = "hf_EchoedSecretToken1234567890"


def echo_error(status: int, body: bytes) -> HuggingFaceVLMHTTPError:
    request = httpx.Request(
        "POST", REQUEST_URL, headers={"authorization": f"Bearer {SECRET}", "x-api-key": SECRET}
    )
    answer = httpx.Response(status, request=request, content=body, headers={"x-request-id": "r1"})
    return error_for_response(answer, body, Redactor.from_headers(request.headers))


@pytest.mark.parametrize("status", [401, 503, 400, 500])
@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            json.dumps({"error": f"Invalid token in header Authorization: Bearer {SECRET}"}),
            id="tgi",
        ),
        pytest.param(
            json.dumps({"error": {"message": "bad", "headers": {"authorization": SECRET}}}),
            id="nested",
        ),
        pytest.param(f"<pre>Authorization: Bearer {SECRET}</pre>", id="plain"),
        pytest.param('{"detail": "echo hf\\u005f' + SECRET[3:] + '"}', id="unicode-escaped"),
    ],
)
def test_an_echoed_token_is_redacted_everywhere(status: int, body: str) -> None:
    exc = echo_error(status, body.encode())
    seen = [
        str(exc),
        repr(exc),
        str(exc.server_message),
        exc.response.text,
        str(exc.response.request.headers),
        str(exc.response.headers),
        repr(pickle.loads(pickle.dumps(exc))),
        str(exc.request_id),
    ]
    for text in seen:
        assert SECRET not in text
    assert exc.status_code == status
    assert exc.request_id == "r1"


def test_a_redacted_message_says_where_the_token_was() -> None:
    exc = echo_error(401, json.dumps({"error": f"bad token Bearer {SECRET}"}).encode())
    assert exc.server_message == "bad token [REDACTED]"


def test_the_error_holds_a_detached_decoded_body() -> None:
    import gzip

    body = gzip.compress(b'{"error": "busy"}')
    request = httpx.Request("POST", REQUEST_URL)
    answer = httpx.Response(
        503, request=request, content=body, headers={"content-encoding": "gzip"}
    )
    exc = error_for_response(answer, answer.content)
    assert exc.response.json() == {"error": "busy"}
    assert exc.server_message == "busy"
