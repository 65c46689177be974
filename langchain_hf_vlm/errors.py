"""Exceptions raised by ChatHuggingFaceVLM.

HTTP failures are raised as langchain-core's standard model errors, each also a subclass of
huggingface_hub's ``HfHubHTTPError`` so that code catching either keeps working. Every HTTP
error carries ``status_code``, the server's own message (``server_message``) and the request
id (``request_id``) when the server sent one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from huggingface_hub.errors import HfHubHTTPError
from langchain_core.exceptions import (
    ContextOverflowError,
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


class InvalidContentError(ValueError):
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


class HuggingFaceVLMHTTPError(HfHubHTTPError, ModelError):
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
        self.status_code: int = response.status_code
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


class ContextOverflow(InvalidRequestError, ContextOverflowError):
    """The server said the input does not fit the model's context."""


class NotFoundError(HuggingFaceVLMHTTPError, ModelNotFoundError):
    """404: the model (or route) is not served there."""


class RateLimitError(HuggingFaceVLMHTTPError, ModelRateLimitError):
    """429: too many requests; ``retry_after`` holds the server's requested wait, if any."""

    retry_after: float | None = None


class APIError(HuggingFaceVLMHTTPError, ModelAPIError):
    """5xx or any other unexpected status: the server failed to answer."""


class APIConnectionError(ModelConnectionError):
    """The server could not be reached, or the connection broke before an answer."""


class APITimeoutError(ModelTimeoutError):
    """The request timed out; ``phase`` says where: connect, first byte, or between chunks."""

    def __init__(
        self, message: str, *, phase: Literal["connect", "first_byte", "between_chunks", "write"]
    ) -> None:
        super().__init__(message)
        self.phase = phase


class IncompleteStreamError(ModelAPIError):
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


class MalformedResponseError(ModelAPIError):
    """The server answered with success, but not with a chat completion one can read: no
    choices, a choice or content of the wrong type, JSON nested too deeply.

    Attributes:
        request_id: The request id the server sent with the answer, if any.
    """

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message if request_id is None else f"{message} (request id {request_id})")
        self.request_id = request_id


class MissingTokenError(ModelAuthenticationError, ValueError):
    """No Hugging Face token was found for a request that needs one."""


__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ContextOverflow",
    "HuggingFaceVLMHTTPError",
    "IncompleteStreamError",
    "InvalidContentError",
    "InvalidRequestError",
    "MalformedResponseError",
    "MissingTokenError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
]
