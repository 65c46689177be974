"""Exceptions raised by ChatHuggingFaceVLM.

Every error the package raises is a :class:`HuggingFaceVLMError`, and also an instance of the
langchain-core error (``Model...Error``) or built-in error that says what kind it is, so that
code written against LangChain's errors, or catching ``ValueError`` for bad input, keeps
working. HTTP error answers are also huggingface_hub's ``HfHubHTTPError``; each carries
``status_code``, the server's own message (``server_message``) and the request id
(``request_id``) when the server sent one. Errors of a request name its method, URL (never the
token or query values) and how many attempts were made.

The tree (langchain-core, huggingface_hub and built-in bases in brackets)::

    HuggingFaceVLMError                  every error of the package [Exception]
    ├── InvalidContentError              bad input, raised before anything is sent [ValueError]
    ├── MissingTokenError                no token for a server that needs one, raised before
    │                                    sending [ModelAuthenticationError, ValueError]
    ├── APIConnectionError               unreachable, connection broke [ModelConnectionError]
    ├── APITimeoutError                  with ``phase`` [ModelTimeoutError]
    ├── HuggingFaceVLMHTTPError          an HTTP error answer [HfHubHTTPError, ModelError]
    │   ├── AuthenticationError          401 [ModelAuthenticationError]
    │   ├── PermissionDeniedError        402, 403 [ModelPermissionDeniedError]
    │   ├── InvalidRequestError          400, 413, 422 [ModelInvalidRequestError]
    │   │   └── ContextOverflowError     the input does not fit [ContextOverflowError]
    │   ├── NotFoundError                404 [ModelNotFoundError]
    │   ├── RateLimitError               429, with ``retry_after`` [ModelRateLimitError]
    │   └── APIResponseError             (also an APIError) another status, an error in a
    │       │                            2xx answer, a redirect loop
    │       └── InternalServerError      5xx: the server failed to answer
    └── APIError                         the server failed, or its answer cannot be used
        │                                [ModelAPIError]
        ├── APIResponseError             (above)
        ├── MalformedResponseError       a 2xx answer that is no chat completion
        ├── ResponseTooLargeError        larger than the model's read limits
        └── IncompleteStreamError        stream broke off, with ``partial_message``

``MissingTokenError`` is not an ``AuthenticationError``: that is a server's 401 answer, with
a ``response``; a missing token is found before any request. Both are langchain-core's
``ModelAuthenticationError``: ``except ModelAuthenticationError`` catches either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from huggingface_hub.errors import HfHubHTTPError
from langchain_core.exceptions import (
    ContextOverflowError as _CoreContextOverflowError,
)
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelError,
    ModelInvalidRequestError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)

if TYPE_CHECKING:
    from langchain_core.messages import AIMessageChunk

    from langchain_hf_vlm._http import httpx


class HuggingFaceVLMError(Exception):
    """The root of every error ChatHuggingFaceVLM raises: ``except HuggingFaceVLMError``
    catches all of them (see the tree in this module's documentation)."""


class InvalidContentError(HuggingFaceVLMError, ValueError):
    """A message or content block cannot be sent; raised before anything goes on the wire.

    Attributes:
        message_index: Index of the offending message in the input list, if known.
        block_index: Index of the offending content block in that message, if known.
        image_number: For an image that cannot be prepared, its position (1-based) among the
            request's images.
    """

    def __init__(
        self,
        problem: str,
        *,
        message_index: int | None = None,
        block_index: int | None = None,
        image_number: int | None = None,
    ) -> None:
        self.problem = problem
        self.message_index = message_index
        self.block_index = block_index
        self.image_number = image_number
        where = []
        if message_index is not None:
            where.append(f"message {message_index}")
        if block_index is not None:
            where.append(f"content block {block_index}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + problem)


class APIError(HuggingFaceVLMError, ModelAPIError):
    """The server failed, or answered with something that cannot be used: an HTTP status
    without a class of its own (:class:`APIResponseError`, :class:`InternalServerError`), an
    answer that is no chat completion (:class:`MalformedResponseError`), too large
    (:class:`ResponseTooLargeError`), or a stream that broke off (:class:`IncompleteStreamError`).

    Attributes:
        status_code: The HTTP status the server answered or reported, if any.
        server_message: The server's own message, if any.
        request_id: The request id the server sent, if any.
    """

    status_code: int | None = None
    server_message: str | None = None
    request_id: str | None = None


class HuggingFaceVLMHTTPError(HfHubHTTPError, HuggingFaceVLMError, ModelError):
    """Base class of every error answered by the server with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        server_message: str | None = None,
        error_type: str | None = None,
    ) -> None:
        super().__init__(message, response=response, server_message=server_message)
        self.status_code: int | None = response.status_code
        self.error_type = error_type

    def __reduce_ex__(self, protocol: Any) -> Any:
        # The state carries what __init__ cannot rebuild (error_type, retry_after).
        args = (type(self), str(self), self.response, self.server_message)
        return (_rebuild_http_error, args, dict(self.__dict__))


def _rebuild_http_error(
    cls: type[HuggingFaceVLMHTTPError], message: str, response: Any, server_message: str | None
) -> HuggingFaceVLMHTTPError:
    return cls(message, response=response, server_message=server_message)


class AuthenticationError(HuggingFaceVLMHTTPError, ModelAuthenticationError):
    """401: the token is missing, wrong or expired."""


class PermissionDeniedError(HuggingFaceVLMHTTPError, ModelPermissionDeniedError):
    """403 (and 402, out of credits): the credentials are valid but not allowed this request."""


class InvalidRequestError(HuggingFaceVLMHTTPError, ModelInvalidRequestError):
    """400, 413, 422: the server rejected the request as invalid."""


class ContextOverflowError(InvalidRequestError, _CoreContextOverflowError):
    """The server said the input does not fit the model's context."""


class NotFoundError(HuggingFaceVLMHTTPError, ModelNotFoundError):
    """404: the model (or route) is not served there."""


class RateLimitError(HuggingFaceVLMHTTPError, ModelRateLimitError):
    """429: too many requests; ``retry_after`` holds the server's requested wait, if any."""

    retry_after: float | None = None


class APIResponseError(HuggingFaceVLMHTTPError, APIError):
    """An unexpected answer, with its HTTP response: a status without a class of its own, an
    error written in a 2xx answer, content that is not JSON, a redirect loop; the base of
    :class:`InternalServerError`."""


class InternalServerError(APIResponseError):
    """5xx: the server failed to answer (after the retries of 502, 503 and 504)."""


class APIConnectionError(HuggingFaceVLMError, ModelConnectionError):
    """The server could not be reached, or the connection broke before an answer."""


class APITimeoutError(HuggingFaceVLMError, ModelTimeoutError):
    """The request timed out; ``phase`` says where: connect, first byte, between chunks (no
    data event within ``timeout``), or ``request`` (the call outlasted ``total_timeout``)."""

    def __init__(
        self,
        message: str,
        *,
        phase: Literal["connect", "first_byte", "between_chunks", "write", "request"],
    ) -> None:
        super().__init__(message)
        self.phase = phase


class IncompleteStreamError(APIError):
    """A stream broke off, or reported an error, after output had begun.

    Attributes:
        partial_message: Everything received before the failure, merged into one chunk.
        status_code: The status the server reported in its error event, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        partial_message: AIMessageChunk | None = None,
        status_code: int | None = None,
        server_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.partial_message = partial_message
        self.status_code = status_code
        self.server_message = server_message

    @property
    def partial_text(self) -> str:
        """The text content received before the failure."""
        return self.partial_message.text if self.partial_message is not None else ""


class MalformedResponseError(APIError):
    """The server answered with success, but not with a chat completion one can read: no
    choices, a choice or content of the wrong type, JSON nested too deeply.

    Attributes:
        request_id: The request id the server sent with the answer, if any.
    """

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message if request_id is None else f"{message} (request id {request_id})")
        self.request_id = request_id


class ResponseTooLargeError(APIError):
    """The answer, one stream event, or the whole stream is larger than the model allows;
    reading stopped there.

    Attributes:
        limit: The limit in bytes.
        setting: The model field that sets it.
    """

    def __init__(self, message: str, *, limit: int, setting: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.setting = setting


class MissingTokenError(HuggingFaceVLMError, ModelAuthenticationError, ValueError):
    """No token was found for a request that needs one; raised before anything is sent."""


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseError",
    "APITimeoutError",
    "AuthenticationError",
    "ContextOverflowError",
    "HuggingFaceVLMError",
    "HuggingFaceVLMHTTPError",
    "IncompleteStreamError",
    "InternalServerError",
    "InvalidContentError",
    "InvalidRequestError",
    "MalformedResponseError",
    "MissingTokenError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseTooLargeError",
]
