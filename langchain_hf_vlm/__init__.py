"""LangChain chat model for Hugging Face vision-language models."""

from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM
from langchain_hf_vlm.documents import document_block, video_block
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    ContextOverflowError,
    HuggingFaceVLMError,
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
    "APIResponseError",
    "APITimeoutError",
    "AuthenticationError",
    "ChatHuggingFaceVLM",
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
    "document_block",
    "image_block",
    "video_block",
]
