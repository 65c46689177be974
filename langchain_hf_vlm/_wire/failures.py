"""HTTP error answers, error events and transport failures to the package's exceptions,
whatever shape the server gave them. Pure: no I/O.

Every error carries the status, the server's own message and the request id where there was
one; the request's secrets (see :mod:`_wire.redaction`) are removed from all of them, and the
error keeps a detached copy of the response (redacted body and headers), never the live one.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.exceptions import ModelError

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.json_limits import JSONTooDeepError, loads
from langchain_hf_vlm._wire.redaction import NO_SECRETS, Redactor
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    ContextOverflowError,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

_BY_STATUS: dict[int, type[HuggingFaceVLMHTTPError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
}
_CONTEXT_OVERFLOW = re.compile(
    r"context length|context window|maximum context|too many tokens|prompt is too long|"
    r"input is too long|`?inputs?`? tokens \+ `?max_new_tokens`? must be|"
    r"`?inputs?`? must have less than \d+ tokens|"
    r"decoder prompt \(length \d+\) is longer than the maximum model length|"
    r"longer than the model'?s? (maximum|max)|exceeds? the (model'?s? )?max|"
    r"exceeds the available context size",
    re.IGNORECASE,
)
_CONTEXT_OVERFLOW_TYPES = frozenset({"exceed_context_size_error", "context_length_exceeded"})
"""Error types (or codes) that say so without words: llama.cpp's ``llama-server``, OpenAI."""
_NO_ENABLED_PROVIDER = re.compile(r"not supported by any provider you have enabled", re.I)
"""The router's 400 for a model that none of the user's enabled providers serves."""
ENABLE_A_PROVIDER = (
    "enable a provider that serves this model at "
    "https://huggingface.co/settings/inference-providers (the model's page lists them), "
    'or name one with provider="..."'
)
REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amzn-trace-id",
    "x-amz-cf-id",
    "x-correlation-id",
    "cf-ray",
)
"""Where servers and the proxies in front of them put the id of a request, most specific first."""
_MAX_MESSAGE = 2000
ERROR_BODY_BYTES = 64 * 1024
"""What is read, and kept, of an error answer: its message comes first."""
_MESSAGE_FIELD = re.compile(r'"(message|error|detail)"\s*:\s*("(?:[^"\\]|\\.){0,2000}")')


def server_message(body: bytes | str) -> tuple[str | None, str | None]:
    """The (message, error type) a server put in an error body of any known shape."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload: Any = loads(text)
    except ValueError:
        # Not JSON, or JSON cut off where reading stopped (a huge error body): its message
        # field usually comes first.
        field = _MESSAGE_FIELD.search(text)
        if field is not None:
            try:
                return _truncate(loads(field.group(2))), None
            except ValueError:
                pass
        stripped = text.strip()
        return (_truncate(stripped) if stripped else None), None
    return message_from_payload(payload)


def message_from_payload(payload: Any) -> tuple[str | None, str | None]:
    """The (message, error type) of a parsed error payload: TGI, OpenAI, FastAPI or a list."""
    if isinstance(payload, list) and payload:
        return message_from_payload(payload[0])
    if isinstance(payload, str):
        return _truncate(payload), None
    if not isinstance(payload, Mapping):
        return None, None
    error = payload.get("error")
    if isinstance(error, Mapping):
        message, _ = message_from_payload(error)
        kind = error.get("type") or error.get("code")
        return message, (str(kind) if kind is not None else None)
    if isinstance(error, str):
        kind = payload.get("error_type") or payload.get("type")
        return _truncate(error), (str(kind) if kind is not None else None)
    if "message" in payload and isinstance(payload["message"], str):
        kind = payload.get("type") or payload.get("code")
        return _truncate(payload["message"]), (str(kind) if kind is not None else None)
    detail = payload.get("detail")
    if isinstance(detail, str):
        return _truncate(detail), None
    if isinstance(detail, list):
        return _truncate("; ".join(_fastapi_item(item) for item in detail)), None
    return None, None


def _fastapi_item(item: Any) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    location = ".".join(str(part) for part in item.get("loc", ()))
    return f"{location}: {item.get('msg', '')}" if location else str(item.get("msg", ""))


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "... [truncated]"


_BODY_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def request_id(headers: Mapping[str, str]) -> str | None:
    """The request id among response headers, if any."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def is_context_overflow(message: str | None, error_type: str | None) -> bool:
    """Whether a rejection says that the input does not fit the model's context."""
    if error_type is not None and error_type.lower() in _CONTEXT_OVERFLOW_TYPES:
        return True
    return bool(message) and _CONTEXT_OVERFLOW.search(message or "") is not None


def error_for_response(
    response: httpx.Response, body: bytes, redact: Redactor = NO_SECRETS
) -> HuggingFaceVLMHTTPError:
    """Build the exception for an HTTP error answer whose body (or its start) has been read.

    ``redact`` removes the request's secrets from everything the error holds.
    """
    body = redact.data(body)
    message, error_type = server_message(body)
    message = redact(message) if message else message  # a secret written with \u escapes
    status = response.status_code
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIResponseError)
    if cls is InvalidRequestError and is_context_overflow(message, error_type):
        cls = ContextOverflowError
    reason = redact(response.reason_phrase or "")
    text = f"HTTP {status} {reason}".rstrip()
    if message:
        text += f": {message}"
        if _NO_ENABLED_PROVIDER.search(message):
            text += f" To fix it: {ENABLE_A_PROVIDER}."
    rid = request_id(response.headers)
    if rid:
        text += f" (request id {redact(rid)})"
    error = cls(
        text,
        response=_detached(response, body, redact),
        server_message=message,
        error_type=error_type,
    )
    error.request_id = redact(rid) if rid else None
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after_seconds(response.headers.get("retry-after"))
    return error


def _detached(response: httpx.Response, body: bytes, redact: Redactor) -> httpx.Response:
    """A copy of ``response`` that holds no connection and no secret: errors outlive requests,
    get logged, pickled and printed whole."""
    request = response.request
    headers = {
        name: value
        for name, value in redact.headers(response.headers).items()
        if name.lower() not in _BODY_FRAMING  # the copy holds the body as read and decoded
    }
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=httpx.Request(
            request.method, redact(str(request.url)), headers=redact.headers(request.headers)
        ),
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Parse ``Retry-After`` as seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def transport_error(
    exc: Exception, phase_read: Literal["first_byte", "between_chunks"]
) -> ModelError:
    """An httpx exception as the package's error; other exceptions pass through unchanged."""
    if isinstance(exc, httpx.TimeoutException):
        phase: Literal["connect", "first_byte", "between_chunks", "write"]
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            phase = "connect"
        elif isinstance(exc, httpx.WriteTimeout):
            phase = "write"
        else:
            phase = phase_read
        words = {
            "connect": "connecting to the server",
            "write": "sending the request",
            "first_byte": "waiting for the first byte of the answer",
            "between_chunks": "waiting for the next chunk of the stream",
        }[phase]
        error: ModelError = APITimeoutError(f"timed out {words}", phase=phase)
    elif isinstance(exc, httpx.TransportError):
        error = APIConnectionError(f"connection failed: {type(exc).__name__}: {exc}")
    else:
        raise exc
    error.__cause__ = exc
    return error


def stream_event_error(
    payload: Mapping[str, Any], redact: Redactor = NO_SECRETS
) -> IncompleteStreamError:
    """The error for an error event inside a stream (vLLM, TGI, the router and OpenRouter send
    them; OpenRouter's also carries ``choices``)."""
    message, _ = message_from_payload(payload)
    message = redact(message) if message else message
    error = payload.get("error")
    status = None
    if isinstance(error, Mapping):
        for key in ("http_status_code", "status_code", "code"):
            if isinstance(error.get(key), int):
                status = int(error[key])
                break
    shown = message or redact(str(payload)[:_MAX_MESSAGE])
    return IncompleteStreamError(
        f"the server reported an error in the stream: {shown}",
        status_code=status,
        server_message=message,
    )


def answer_body(
    response: httpx.Response, content: bytes, redact: Redactor = NO_SECRETS
) -> dict[str, Any]:
    """The JSON object of a successful answer; an error in a 200 answer raises (with a
    detached copy of the response, as :func:`error_for_response`)."""
    try:
        body = loads(content)
    except JSONTooDeepError as exc:
        raise _answer_error(response, content, redact, f"the server's answer is {exc}") from None
    except ValueError:
        shown = f"the server answered with non-JSON content: {redact(repr(content[:200]))}"
        raise _answer_error(response, content, redact, shown) from None
    if isinstance(body, dict) and body.get("error"):
        message, error_type = message_from_payload(body)
        message = redact(message) if message else message
        text = f"the server answered HTTP {response.status_code} with an error: {message}"
        raise _answer_error(response, content, redact, text, message, error_type)
    if not isinstance(body, dict):
        text = f"unexpected answer: {redact(repr(content[:200]))}"
        raise _answer_error(response, content, redact, text)
    return body


def _answer_error(
    response: httpx.Response,
    content: bytes,
    redact: Redactor,
    text: str,
    message: str | None = None,
    error_type: str | None = None,
) -> APIResponseError:
    rid = request_id(response.headers)
    if rid:
        text += f" (request id {redact(rid)})"
    error = APIResponseError(
        text,
        response=_detached(response, redact.data(content[:ERROR_BODY_BYTES]), redact),
        server_message=message,
        error_type=error_type,
    )
    error.request_id = redact(rid) if rid else None
    return error
