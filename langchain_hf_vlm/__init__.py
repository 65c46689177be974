"""LangChain chat model for Hugging Face vision-language models."""

from typing import Any

from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM
from langchain_hf_vlm.documents import document_block, video_block
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ContextOverflowError,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
    InternalServerError,
    InvalidContentError,
    InvalidRequestError,
    MalformedResponseError,
    MissingTokenError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseTooLargeError,
)
from langchain_hf_vlm.images import image_block

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ChatHuggingFaceVLM",
    "ContextOverflowError",
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
    "document_block",
    "image_block",
    "video_block",
]


def __getattr__(name: str) -> Any:
    from langchain_hf_vlm.errors import deprecated_alias

    try:
        return deprecated_alias(name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
