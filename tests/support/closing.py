"""Models the test helpers build are closed after each test (root conftest), in the test's
event loop, where their async clients live: an async client left open past its loop warns when
it is collected, and ``filterwarnings = error`` makes that a failure of whichever test runs then.
"""

from __future__ import annotations

from langchain_hf_vlm import ChatHuggingFaceVLM

_MADE: list[ChatHuggingFaceVLM] = []


def closed_after_the_test(model: ChatHuggingFaceVLM) -> ChatHuggingFaceVLM:
    """``model``, to be closed when the running test ends."""
    _MADE.append(model)
    return model


async def close_made_models() -> None:
    """Close every model registered since the last call."""
    while _MADE:
        await _MADE.pop().aclose()
