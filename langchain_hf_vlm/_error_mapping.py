"""HTTP error answers, error events and transport failures to the package's exceptions,
whatever shape the server gave them. Pure: no I/O."""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.exceptions import ModelError

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
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
    r"longer than the model'?s? (maximum|max)|exceeds? the (model'?s? )?max",
    re.IGNORECASE,
)
_MAX_MESSAGE = 2000


def server_message(body: bytes | str) -> tuple[str | None, str | None]:
    """The (message, error type) a server put in an error body of any known shape."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        payload: Any = json.loads(text)
    except ValueError:
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


def error_for_response(response: httpx.Response, body: bytes) -> HuggingFaceVLMHTTPError:
    """Build the exception for an HTTP error answer whose body has been read."""
    message, error_type = server_message(body)
    status = response.status_code
    cls = _BY_STATUS.get(status, InternalServerError if status >= 500 else APIError)
    if cls is InvalidRequestError and message and _CONTEXT_OVERFLOW.search(message):
        cls = ContextOverflowError
    reason = response.reason_phrase or ""
    text = f"HTTP {status} {reason}".rstrip() + f" from {response.request.url.host}"
    if message:
        text += f": {message}"
    request_id = response.headers.get("x-request-id")
    if request_id:
        text += f" (request id {request_id})"
    error = cls(text, response=response, server_message=message, error_type=error_type)
    if isinstance(error, RateLimitError):
        error.retry_after = retry_after_seconds(response.headers.get("retry-after"))
    return error


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


def stream_event_error(payload: Mapping[str, Any]) -> IncompleteStreamError:
    """The error for an error event inside a stream (vLLM, TGI and the router send them)."""
    message, _ = message_from_payload(payload)
    error = payload.get("error")
    status = None
    if isinstance(error, Mapping):
        for key in ("http_status_code", "status_code", "code"):
            if isinstance(error.get(key), int):
                status = int(error[key])
                break
    return IncompleteStreamError(
        f"the server reported an error in the stream: {message or payload}",
        status_code=status,
        server_message=message,
    )


def answer_body(response: httpx.Response, content: bytes) -> dict[str, Any]:
    """The JSON object of a successful answer; an error in a 200 answer raises."""
    try:
        body = json.loads(content)
    except ValueError:
        raise APIError(
            f"the server answered with non-JSON content: {content[:200]!r}", response=response
        ) from None
    if isinstance(body, dict) and "error" in body and "choices" not in body:
        message, error_type = message_from_payload(body)
        raise APIError(
            f"the server answered HTTP {response.status_code} with an error: {message}",
            response=response,
            server_message=message,
            error_type=error_type,
        )
    if not isinstance(body, dict):
        raise APIError(f"unexpected answer: {content[:200]!r}", response=response)
    return body
