"""Reasoning models over real HTTP against the loopback server: reasoning read from fields and
from ``<think>`` tags (invoke, ainvoke, stream, astream), sent back in agent loops, and the
controls written as each dialect reads them."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.servers.chat_server import ChatReply, ChatServer, Stream
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.messages import merge_chunks

TAGGED = "<think>plan</think>The square is red."


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return f"Sunny in {city}"


def _all_four(model: ChatHuggingFaceVLM, question: str = "colour?") -> list[BaseMessage]:
    """The answer by invoke, ainvoke, stream and astream (merged), in that order."""

    async def both_async() -> list[BaseMessage]:
        answer = await model.ainvoke(question)
        return [answer, merge_chunks([chunk async for chunk in model.astream(question)])]

    invoked = model.invoke(question)
    streamed = merge_chunks(model.stream(question))
    ainvoked, astreamed = run_in_new_loop(model, both_async)
    return [invoked, ainvoked, streamed, astreamed]


def test_tags_are_split_off_in_every_entry_point(server: ChatServer) -> None:
    server.enqueue(ChatReply(content=TAGGED, repeat=4))
    for answer in _all_four(make_model(server)):
        assert answer.content == "The square is red."
        assert answer.additional_kwargs["reasoning_content"] == "plan"
        assert [block["type"] for block in answer.content_blocks] == ["reasoning", "text"]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_reasoning_fields_in_every_entry_point(server: ChatServer) -> None:
    server.enqueue(
        ChatReply(content="Red.", reasoning="plan", repeat=2),
        ChatReply(content="Red.", reasoning="plan", reasoning_field="reasoning_content", repeat=2),
    )
    for answer in _all_four(make_model(server)):
        assert (answer.content, answer.additional_kwargs) == ("Red.", {"reasoning_content": "plan"})


@pytest.mark.parametrize("dialect", ["transformers"])
def test_qwen3_thinking_lone_closing_tag(server: ChatServer) -> None:
    server.enqueue(ChatReply(content="It is a red square.\n</think>\n\nRed.", repeat=4))
    for answer in _all_four(make_model(server, think_tags="open")):
        assert answer.content == "Red."
        assert answer.additional_kwargs["reasoning_content"] == "It is a red square.\n"


@pytest.mark.parametrize("dialect", ["vllm"])
def test_tags_split_mid_tag_stream_as_reasoning_chunks(server: ChatServer) -> None:
    pieces = ["<th", "ink>pl", "an</th", "ink>\n\nThe square", " is red."]
    server.enqueue(Stream(deltas=[{"content": piece} for piece in pieces]))
    chunks = list(make_model(server).stream("colour?"))
    reasoning = [chunk for chunk in chunks if chunk.additional_kwargs.get("reasoning_content")]
    assert [chunk.content_blocks for chunk in reasoning] == [
        [{"type": "reasoning", "reasoning": "pl"}],
        [{"type": "reasoning", "reasoning": "an"}],
    ]
    assert [chunk.content for chunk in chunks if chunk.content] == ["The square", " is red."]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_output_version_v1(server: ChatServer) -> None:
    server.enqueue(ChatReply(content=TAGGED, repeat=2))
    model = make_model(server, output_version="v1")
    for answer in (model.invoke("colour?"), merge_chunks(model.stream("colour?"))):
        assert [block["type"] for block in answer.content] == ["reasoning", "text"]  # type: ignore[index]


@pytest.mark.parametrize("dialect", ["transformers"])
def test_prose_about_the_tag_is_left_alone(server: ChatServer) -> None:
    text = "Put your plan in <think></think> tags."
    server.enqueue(ChatReply(content=text, repeat=4))
    for answer in _all_four(make_model(server)):
        assert (answer.content, answer.additional_kwargs) == (text, {})


# ---------------------------------------------------------------- sent back


def _call(arguments: Any) -> dict[str, Any]:
    return {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }


@pytest.mark.parametrize("dialect", ["vllm", "router"])
def test_agent_loop_sends_the_tool_turn_reasoning_back(server: ChatServer) -> None:
    from langchain.agents import create_agent

    server.enqueue(
        ChatReply(
            content=None, reasoning="I need the weather.", tool_calls=[_call('{"city": "Paris"}')]
        ),
        ChatReply(content="<think>It is sunny.</think>Sunny in Paris."),
    )
    agent = create_agent(make_model(server, backend=server.dialect), tools=[get_weather])
    result = agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})
    assert result["messages"][-1].content == "Sunny in Paris."
    assert result["messages"][-1].additional_kwargs == {"reasoning_content": "It is sunny."}
    history = server.requests[-1].json["messages"]
    assert history[1]["reasoning_content"] == "I need the weather."
    assert history[1]["tool_calls"][0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize("dialect", ["vllm"])
def test_streamed_tool_turn_reasoning_goes_back(server: ChatServer) -> None:
    server.enqueue(
        ChatReply(
            content=None, reasoning="I need the weather.", tool_calls=[_call('{"city": "Paris"}')]
        ),
        ChatReply(content="Sunny."),
    )
    model = make_model(server).bind_tools([get_weather])
    turn = merge_chunks(model.stream("Weather in Paris?"))
    model.invoke(
        [HumanMessage("Weather in Paris?"), turn, ToolMessage("Sunny", tool_call_id="call_1")]
    )
    assert server.requests[-1].json["messages"][1]["reasoning_content"] == "I need the weather."


@pytest.mark.parametrize("dialect", ["vllm"])
@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        ("tool_turns", ["tool", None, None]),
        ("always", ["tool", None, "plain"]),
        ("never", [None] * 3),
    ],
)
def test_reasoning_in_history_setting(
    server: ChatServer, setting: str, sent: list[str | None]
) -> None:
    history = [
        HumanMessage("Weather?"),
        AIMessage(
            "",
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
            additional_kwargs={"reasoning_content": "tool"},
        ),
        ToolMessage("Sunny", tool_call_id="call_1"),
        AIMessage(
            content=[
                {"type": "reasoning", "reasoning": "plain"},
                {"type": "text", "text": "Sunny."},
            ]
        ),
        HumanMessage("Thanks"),
    ]
    make_model(server, reasoning_in_history=setting).invoke(history)
    by_model = [m.get("reasoning_content") for m in server.requests[-1].json["messages"][1:4]]
    make_model(server).invoke(history, reasoning_in_history=setting)
    by_call = [m.get("reasoning_content") for m in server.requests[-1].json["messages"][1:4]]
    assert by_model == by_call == sent


@pytest.mark.parametrize("dialect", ["tgi"])
def test_tgi_gets_no_reasoning_field(server: ChatServer) -> None:
    turn = AIMessage(
        "",
        tool_calls=[{"name": "get_weather", "args": {}, "id": "0"}],
        additional_kwargs={"reasoning_content": "tool"},
    )
    make_model(server).invoke(
        [HumanMessage("Weather?"), turn, ToolMessage("Sunny", tool_call_id="0")]
    )
    assert "reasoning_content" not in server.requests[-1].json["messages"][1]


# ---------------------------------------------------------------- controls


def _sent(
    server: ChatServer, keys: tuple[str, ...] = ("reasoning_effort", "chat_template_kwargs")
) -> dict[str, Any]:
    body = server.requests[-1].json
    return {key: body[key] for key in keys if key in body}


@pytest.mark.parametrize("dialect", ["vllm", "router", "tgi", "transformers"])
def test_unset_controls_send_nothing(server: ChatServer) -> None:
    make_model(server, backend="router" if server.dialect == "router" else "auto").invoke("hi")
    assert _sent(server) == {}


@pytest.mark.parametrize("dialect", ["vllm"])
def test_vllm_controls_per_model_and_per_call(server: ChatServer) -> None:
    model = make_model(server, reasoning_effort="low", enable_thinking=True)
    model.invoke("hi")
    thinking_on = {"enable_thinking": True, "thinking": True}
    assert _sent(server) == {"reasoning_effort": "low", "chat_template_kwargs": thinking_on}
    model.invoke("hi", enable_thinking=False, reasoning_effort=None)
    assert _sent(server) == {"chat_template_kwargs": {"enable_thinking": False, "thinking": False}}
    list(model.stream("hi", reasoning_effort="high"))
    assert _sent(server) == {"reasoning_effort": "high", "chat_template_kwargs": thinking_on}


@pytest.mark.parametrize("dialect", ["vllm"])
def test_chat_template_kwargs_of_extra_body_are_merged(server: ChatServer) -> None:
    model = make_model(server, enable_thinking=False, extra_body={"chat_template_kwargs": {"x": 1}})
    model.invoke("hi")
    assert _sent(server)["chat_template_kwargs"] == {
        "x": 1,
        "enable_thinking": False,
        "thinking": False,
    }
    requests = len(server.requests)
    with pytest.raises(ValueError, match=r"contradict \['enable_thinking'\]"):
        model.invoke("hi", chat_template_kwargs={"enable_thinking": True})
    with pytest.raises(ValueError, match=r"contradict \['reasoning_effort'\]"):
        make_model(server, reasoning_effort="high", extra_body={"reasoning_effort": "low"}).invoke(
            "hi"
        )
    with pytest.raises(
        ValueError, match="enable_thinking=False contradicts reasoning_effort='low'"
    ):
        make_model(server, enable_thinking=False).invoke("hi", reasoning_effort="low")
    assert len(server.requests) == requests  # refused before sending


@pytest.mark.parametrize("dialect", ["router"])
def test_router_switches_thinking_with_reasoning_effort(server: ChatServer) -> None:
    make_model(server, backend="router", enable_thinking=False).invoke("hi")
    assert _sent(server) == {"reasoning_effort": "none"}
    make_model(server, backend="router", reasoning_effort="xhigh").invoke("hi")
    assert _sent(server) == {"reasoning_effort": "xhigh"}


@pytest.mark.parametrize("dialect", ["tgi"])
def test_tgi_refuses_controls_before_sending(server: ChatServer) -> None:
    with pytest.raises(ValueError, match="tgi has no reasoning_effort"):
        make_model(server, reasoning_effort="low").invoke("hi")
    with pytest.raises(ValueError, match="tgi has no thinking switch"):
        make_model(server).invoke("hi", enable_thinking=False)
    assert server.requests == []


def test_streamed_reasoning_is_reasoning_not_text(server: ChatServer) -> None:
    server.enqueue(ChatReply(content=TAGGED))
    chunks = list(make_model(server).stream("colour?"))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert "plan" not in "".join(chunk.text for chunk in chunks)
