"""LangChain chat model for Hugging Face vision-language models."""

from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    ContextOverflow,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
    InvalidContentError,
    InvalidRequestError,
    MalformedResponseError,
    MissingTokenError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from langchain_hf_vlm.images import image_block

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "ChatHuggingFaceVLM",
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
    "image_block",
]
