"""The rules of a model's family through the public class, over real HTTP: a request that
breaks one never reaches the server; ``adapt_to_model`` sends Gemma one turn per role;
``model_family`` names the family of a model served under another name."""

from __future__ import annotations

import base64

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from langchain_hf_vlm import InvalidContentError
from tests.servers.chat_server import ChatServer
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.pngs import tiny_png

PNG = "data:image/png;base64," + base64.b64encode(tiny_png(40, 30)).decode()
HISTORY: list[BaseMessage] = [
    SystemMessage("Be brief."),
    HumanMessage("Here is a picture."),
    HumanMessage(content=[{"type": "image_url", "image_url": {"url": PNG}}, "What is it?"]),
    AIMessage("A red rectangle."),
    HumanMessage("Thanks."),
]


def test_gemma_gets_one_turn_per_role_when_adapting(vllm: ChatServer) -> None:
    model = make_model(vllm, model="google/gemma-3-27b-it", adapt_to_model=True)
    answer = model.invoke(HISTORY)
    (request,) = vllm.requests
    assert [message["role"] for message in request.json["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
    ]
    assert request.json["messages"][1]["content"] == [
        {"type": "text", "text": "Here is a picture."},
        {"type": "image_url", "image_url": {"url": PNG}},
        {"type": "text", "text": "What is it?"},
    ]
    # the image still names the message and block it came from
    assert answer.response_metadata["images"] == [
        {"original": [40, 30], "sent": [40, 30], "message": 2, "block": 0}
    ]


def test_gemma_refuses_without_adapting_and_nothing_is_sent(vllm: ChatServer) -> None:
    model = make_model(vllm, model="google/gemma-3-27b-it")
    with pytest.raises(InvalidContentError, match="adapt_to_model=True") as info:
        model.invoke(HISTORY)
    assert info.value.message_index == 2
    assert vllm.requests == []


def test_adapting_streams_and_runs_async_alike(vllm: ChatServer) -> None:
    model = make_model(vllm, model="google/gemma-3-27b-it", adapt_to_model=True)
    list(model.stream(HISTORY))
    run_in_new_loop(model, lambda: model.ainvoke(HISTORY))
    assert [len(request.json["messages"]) for request in vllm.requests] == [4, 4]


def test_other_models_get_their_messages_as_given(vllm: ChatServer) -> None:
    make_model(vllm, model="Qwen/Qwen2.5-VL-7B-Instruct", adapt_to_model=True).invoke(HISTORY)
    assert len(vllm.requests[0].json["messages"]) == 5


def test_model_family_names_the_family_of_a_served_name(vllm: ChatServer) -> None:
    model = make_model(vllm, model="my-served-name", model_family="gemma-3")
    with pytest.raises(InvalidContentError, match=r"my-served-name \(gemma-3\)"):
        model.invoke(HISTORY)
    assert vllm.requests == []
    assert model.profile is not None and model.profile["max_input_tokens"] == 131_072
    # a per-call model= of another name is found by its own id
    model.invoke(HISTORY, model="Qwen/Qwen2.5-VL-7B-Instruct")
    assert vllm.requests[0].json["model"] == "Qwen/Qwen2.5-VL-7B-Instruct"
