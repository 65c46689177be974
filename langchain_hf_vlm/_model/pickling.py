"""What a model pickles (Ray, Dask, multiprocessing, Spark): its configuration. Not its
connections or image cache (rebuilt on first use), nor a token it read from the environment
(the unpickled model reads its own worker's). A model holding the user's HTTP clients refuses.
"""

from __future__ import annotations

from typing import Any

LIVE_PARTS = ("_transport", "_images")
"""The private attributes rebuilt on first use after unpickling."""


def state_to_pickle(
    state: dict[Any, Any], *, holds_clients: bool, api_key_given: bool
) -> dict[Any, Any]:
    """``state`` (pydantic's ``__getstate__``) without the live parts and the ambient token."""
    if holds_clients:
        raise TypeError(
            "a ChatHuggingFaceVLM holding http_client or http_async_client cannot be "
            "pickled (HTTP clients cannot travel); build the model on the worker, or "
            "configure proxies and certificates through HTTPS_PROXY and SSL_CERT_FILE"
        )
    private = dict(state["__pydantic_private__"] or {})
    private.update(dict.fromkeys(LIVE_PARTS))
    fields = dict(state["__dict__"])
    if not api_key_given:  # from the environment: the worker's own
        fields["api_key"] = None
    return {**state, "__dict__": fields, "__pydantic_private__": private}
