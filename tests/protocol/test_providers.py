"""The router's answers about providers, over real HTTP against the loopback router."""

from __future__ import annotations

import pytest
from langchain_core.exceptions import ModelInvalidRequestError

from tests.servers.chat_server import ChatServer, Fault
from tests.support.loopback import make_model

NOT_ENABLED = (
    "The requested model 'Qwen/Qwen2.5-VL-7B-Instruct' is not supported by any provider you "
    "have enabled."
)


def test_no_enabled_provider_is_an_error_that_says_what_to_do() -> None:
    with ChatServer("router") as router:
        router.enqueue(Fault("status", status=400, message=NOT_ENABLED, shape="openai"))
        model = make_model(router, model="Qwen/Qwen2.5-VL-7B-Instruct")
        with pytest.raises(ModelInvalidRequestError) as info:
            model.invoke("hi")
    text = str(info.value)
    assert "'Qwen/Qwen2.5-VL-7B-Instruct'" in text
    assert "https://huggingface.co/settings/inference-providers" in text
    assert 'provider="..."' in text


def test_preferred_policy_reaches_the_router_as_a_suffix() -> None:
    with ChatServer("router") as router:
        make_model(router, model="Qwen/Qwen2.5-VL-7B-Instruct:preferred").invoke("hi")
        assert router.requests[-1].json["model"] == "Qwen/Qwen2.5-VL-7B-Instruct:preferred"
