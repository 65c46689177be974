"""What a model pickles (Ray, Dask, multiprocessing, Spark): its configuration. Not its
connections or image cache (rebuilt on first use), nor a token it read from the environment
(the unpickled model reads its own worker's). A model holding the user's HTTP clients refuses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_hf_vlm._request.auth import token_from_env

if TYPE_CHECKING:
    from langchain_hf_vlm.chat_models import ChatHuggingFaceVLM

_LIVE_PARTS = ("_transport", "_images")


def state_to_pickle(llm: ChatHuggingFaceVLM, state: dict[Any, Any]) -> dict[Any, Any]:
    """``state`` (pydantic's ``__getstate__``) without the live parts and the ambient token."""
    if llm.http_client is not None or llm.http_async_client is not None:
        raise TypeError(
            "a ChatHuggingFaceVLM holding http_client or http_async_client cannot be "
            "pickled (HTTP clients cannot travel); build the model on the worker, or "
            "configure proxies and certificates through HTTPS_PROXY and SSL_CERT_FILE"
        )
    private = dict(state["__pydantic_private__"] or {})
    private.update(dict.fromkeys(_LIVE_PARTS))
    fields = dict(state["__dict__"])
    if "api_key" not in llm.model_fields_set:  # from the environment: the worker's own
        fields["api_key"] = None
    return {**state, "__dict__": fields, "__pydantic_private__": private}


def read_own_token(llm: ChatHuggingFaceVLM) -> None:
    """After unpickling: a token that came from the environment comes from this one."""
    if "api_key" not in llm.model_fields_set:
        llm.__dict__["api_key"] = token_from_env()
