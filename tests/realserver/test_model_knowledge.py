"""What the package knows of its model, against real servers: the profile refreshed from each
(vLLM's ``/v1/models``; ``transformers serve`` says nothing), and the token estimate beside
the server's own ``prompt_tokens``."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from tests.realserver.tiny_server import TinyVLMServer
from tests.realserver.vllm_server import MAX_MODEL_LEN
from tests.support.realserver import make_model

pytestmark = pytest.mark.realserver


def test_refresh_reads_what_each_server_says(real_server: TinyVLMServer) -> None:
    with make_model(real_server) as model:
        before = dict(model.profile or {})
        profile = model.refresh_profile()
    assert profile is not None
    if real_server.name == "transformers serve":
        assert profile == before  # no route describes the model; the guess stands
        assert profile["structured_output"] is False
    else:
        assert profile["max_input_tokens"] == MAX_MODEL_LEN
        assert profile["structured_output"] is True  # identified as vLLM


@pytest.mark.vllm
async def test_async_refresh_on_vllm(vllm_server: TinyVLMServer) -> None:
    async with make_model(vllm_server) as model:
        profile = await model.arefresh_profile()
    assert profile is not None and profile["max_input_tokens"] == MAX_MODEL_LEN


def test_text_estimate_is_within_the_measured_error_of_the_servers_count(
    tiny_vlm: TinyVLMServer,
) -> None:
    conversation = [
        SystemMessage("You are terse."),
        HumanMessage("What is the capital of France? Answer in one word."),
        AIMessage("Paris."),
        HumanMessage("And the capital of Italy, in one word too?"),
    ]
    with make_model(tiny_vlm) as model:
        served = model.invoke(conversation).usage_metadata
        estimate = model.get_num_tokens_from_messages(conversation)
    assert served is not None
    assert 0.5 * served["input_tokens"] <= estimate <= 2 * served["input_tokens"]
