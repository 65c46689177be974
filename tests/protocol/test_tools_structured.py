"""Tool calling, structured output and agents over real HTTP, per dialect."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.exceptions import ModelRefusalError, OutputParserException
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from pydantic import BaseModel
from typing_extensions import TypedDict

from tests.servers.chat_server import ChatReply, ChatServer, Stream
from tests.support.loopback import make_model


@tool
def get_weather(city: str) -> str:
    """Get the weather for a city."""
    return f"Sunny in {city}"


class Person(BaseModel):
    """A person."""

    name: str
    age: int


class PersonDict(TypedDict):
    """A person."""

    name: str
    age: int


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def _merge(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    first, *rest = chunks
    merged = first + rest if rest else first
    assert isinstance(merged, AIMessageChunk)
    return merged


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        (None, None),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "required"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (True, {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_bind_tools_request_json(server: ChatServer, choice: Any, wire: Any) -> None:
    server.enqueue(ChatReply(content="fine"))
    make_model(server).bind_tools([get_weather], tool_choice=choice).invoke("weather?")
    body = server.requests[-1].json
    assert body["tools"] == [WEATHER_TOOL]
    assert body.get("tool_choice") == wire


def test_bad_tool_choice_is_a_clear_error(server: ChatServer) -> None:
    model = make_model(server)
    with pytest.raises(ValueError, match="nor one of the bound tools"):
        model.bind_tools([get_weather], tool_choice="get_time")
    with pytest.raises(ValueError, match="exactly one tool"):
        model.bind_tools([get_weather, WEATHER_TOOL], tool_choice=True)


@pytest.mark.parametrize("dialect", ["tgi"])
@pytest.mark.parametrize(
    "arguments", [{"city": "Paris"}, '{"city": "Paris"}'], ids=["object", "string"]
)
def test_tgi_tool_call_formats_are_parsed(server: ChatServer, arguments: Any) -> None:
    call = {
        "id": "0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": arguments},
    }
    server.enqueue(ChatReply(content=None, tool_calls=[call, {**call}], finish_reason="stop"))
    answer = make_model(server).bind_tools([get_weather]).invoke("weather?")
    assert [c["args"] for c in answer.tool_calls] == [{"city": "Paris"}, {"city": "Paris"}]
    ids = [c["id"] for c in answer.tool_calls]
    assert len(set(ids)) == 2
    assert all(ids)
    assert answer.response_metadata["finish_reason"] == "stop"


@pytest.mark.parametrize("dialect", ["tgi"])
@pytest.mark.parametrize(
    ("name", "arguments", "text"),
    [
        ("notify_error", {"error": "I cannot do that"}, "I cannot do that"),
        ("no_tool", {"content": "Just text"}, "Just text"),
    ],
)
def test_tgi_pseudo_tools_become_text(
    server: ChatServer, name: str, arguments: dict[str, str], text: str
) -> None:
    call = {"id": "0", "type": "function", "function": {"name": name, "arguments": arguments}}
    server.enqueue(ChatReply(content=None, tool_calls=[call]))
    answer = make_model(server).bind_tools([get_weather]).invoke("weather?")
    assert answer.content == text
    assert answer.tool_calls == []


@pytest.mark.parametrize("dialect", ["vllm"])
def test_invalid_arguments_go_to_invalid_tool_calls(server: ChatServer) -> None:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": '},
    }
    server.enqueue(ChatReply(content=None, tool_calls=[call], finish_reason="tool_calls"))
    answer = make_model(server).bind_tools([get_weather]).invoke("weather?")
    assert answer.tool_calls == []
    assert answer.invalid_tool_calls[0]["args"] == '{"city": '
    assert answer.invalid_tool_calls[0]["name"] == "get_weather"


@pytest.mark.parametrize("dialect", ["vllm", "tgi"])
def test_streamed_fragments_merge_like_the_plain_answer(server: ChatServer) -> None:
    fragments = ['{"ci', 'ty": "Pa', 'ris"', "}"]
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": None}]
    deltas.append(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "0",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": fragments[0]},
                }
            ]
        }
    )
    deltas += [
        {"tool_calls": [{"index": 0, "id": "0", "function": {"arguments": part}}]}
        for part in fragments[1:]
    ]
    server.enqueue(Stream(deltas=deltas, finish_reason="tool_calls"))
    merged = _merge(list(make_model(server).bind_tools([get_weather]).stream("weather?")))
    assert [(c["name"], c["args"]) for c in merged.tool_calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert merged.tool_calls[0]["id"]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_streamed_invalid_arguments_are_invalid_tool_calls(server: ChatServer) -> None:
    # LangChain's chunk merging repairs *truncated* JSON (parse_partial_json) for every
    # integration; arguments that are not JSON at all stay invalid.
    deltas = [
        {"role": "assistant"},
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": Par'},
                }
            ]
        },
        {"tool_calls": [{"index": 0, "function": {"arguments": "is}"}}]},
    ]
    server.enqueue(Stream(deltas=deltas, finish_reason="tool_calls"))
    merged = _merge(list(make_model(server).bind_tools([get_weather]).stream("weather?")))
    assert merged.tool_calls == []
    assert merged.invalid_tool_calls[0]["args"] == '{"city": Paris}'


@pytest.mark.parametrize("dialect", ["vllm", "tgi"])
def test_tool_history_round_trip(server: ChatServer) -> None:
    history = [
        HumanMessage("weather in Paris?"),
        AIMessage(
            content="",
            tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
        ),
        ToolMessage(
            content=[
                {"type": "text", "text": "Sunny"},
                {"type": "image_url", "image_url": {"url": "https://example.com/map.png"}},
            ],
            tool_call_id="call_1",
        ),
    ]
    make_model(server).bind_tools([get_weather]).invoke(history)
    sent = server.requests[-1].json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
            }
        ],
    }
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "Sunny"}
    assert sent[3]["role"] == "user"
    assert sent[3]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/map.png"},
    }


# ---- structured output


@pytest.mark.parametrize("dialect", ["vllm", "router", "transformers"])
def test_json_schema_reaches_openai_servers_unchanged(server: ChatServer) -> None:
    server.enqueue(ChatReply(content='{"name": "Ada", "age": 36}'))
    person = make_model(server).with_structured_output(Person).invoke("who?")
    assert person == Person(name="Ada", age=36)
    response_format = server.requests[-1].json["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Person"
    assert response_format["json_schema"]["schema"]["properties"] == {
        "name": {"type": "string"},
        "age": {"type": "integer"},
    }


@pytest.mark.parametrize("dialect", ["tgi"])
@pytest.mark.parametrize("backend", ["tgi", "auto"])
def test_json_schema_reaches_tgi_as_grammar(server: ChatServer, backend: str) -> None:
    server.enqueue(ChatReply(content='{"name": "Ada", "age": 36}'))
    model = make_model(server, backend=backend)
    assert model.with_structured_output(PersonDict).invoke("who?") == {"name": "Ada", "age": 36}
    chat_posts = [r for r in server.requests if r.method == "POST"]
    response_format = chat_posts[-1].json["response_format"]
    assert response_format["type"] == "json_object"
    assert response_format["value"]["properties"] == {
        "name": {"type": "string"},
        "age": {"type": "integer"},
    }
    if backend == "auto":  # identified once through TGI's /info
        assert [r.path for r in server.requests if r.method == "GET"] == ["/info"]


@pytest.mark.parametrize("dialect", ["vllm"])
def test_auto_detection_leaves_other_servers_in_openai_shape(server: ChatServer) -> None:
    server.enqueue(
        ChatReply(content='{"name": "Ada", "age": 36}'),
        ChatReply(content='{"name": "B", "age": 1}'),
    )
    model = make_model(server, backend="auto")
    structured = model.with_structured_output(Person)
    structured.invoke("who?")
    structured.invoke("who?")
    posts = [r for r in server.requests if r.method == "POST"]
    assert all(r.json["response_format"]["type"] == "json_schema" for r in posts)
    assert [r.path for r in server.requests if r.method == "GET"] == ["/info"]


@pytest.mark.parametrize("dialect", ["tgi"])
def test_tgi_never_gets_response_format_with_tools(server: ChatServer) -> None:
    model = make_model(server).bind_tools(
        [get_weather],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
    )
    with pytest.raises(ValueError, match="cannot combine response_format with tools"):
        model.invoke("hi")
    assert server.requests == []


@pytest.mark.parametrize("dialect", ["vllm"])
def test_function_calling_and_json_mode(server: ChatServer) -> None:
    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "Person", "arguments": '{"name": "Ada", "age": 36}'},
    }
    server.enqueue(
        ChatReply(content=None, tool_calls=[call]), ChatReply(content='{"name": "Bo", "age": 2}')
    )
    model = make_model(server)
    assert model.with_structured_output(Person, method="function_calling").invoke("x") == Person(
        name="Ada", age=36
    )
    assert server.requests[-1].json["tool_choice"] == {
        "type": "function",
        "function": {"name": "Person"},
    }
    assert model.with_structured_output(PersonDict, method="json_mode").invoke("x") == {
        "name": "Bo",
        "age": 2,
    }
    assert server.requests[-1].json["response_format"] == {"type": "json_object"}


@pytest.mark.parametrize("dialect", ["vllm"])
def test_unparseable_answer_carries_the_raw_text(server: ChatServer) -> None:
    server.enqueue(ChatReply(content="not json at all"), ChatReply(content="still not json"))
    model = make_model(server)
    with pytest.raises(OutputParserException) as info:
        model.with_structured_output(Person).invoke("x")
    assert info.value.llm_output == "not json at all"
    raw = model.with_structured_output(Person, include_raw=True).invoke("x")
    assert raw["parsed"] is None
    assert isinstance(raw["parsing_error"], OutputParserException)
    assert raw["raw"].content == "still not json"


@pytest.mark.parametrize("dialect", ["vllm"])
def test_refusal_raises_model_refusal_error(server: ChatServer) -> None:
    server.enqueue(ChatReply(content=None, extra_message={"refusal": "I will not"}))
    with pytest.raises(ModelRefusalError, match="I will not"):
        make_model(server).with_structured_output(Person).invoke("x")


# ---- agents


@pytest.mark.parametrize("dialect", ["vllm", "tgi"])
def test_create_agent_runs_a_tool_loop(server: ChatServer) -> None:
    from langchain.agents import create_agent

    call = {
        "id": "0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
    }
    server.enqueue(
        ChatReply(content=None, tool_calls=[call]), ChatReply(content="It is sunny in Paris.")
    )
    agent = create_agent(make_model(server), tools=[get_weather])
    result = agent.invoke({"messages": [HumanMessage("Weather in Paris?")]})
    messages = result["messages"]
    assert isinstance(messages[-2], ToolMessage)
    assert messages[-2].content == "Sunny in Paris"
    assert messages[-1].content == "It is sunny in Paris."
    tool_turn = server.requests[-1].json["messages"]
    assert tool_turn[-1] == {
        "role": "tool",
        "tool_call_id": messages[1].tool_calls[0]["id"],
        "content": "Sunny in Paris",
    }


@pytest.mark.parametrize("dialect", ["vllm"])
def test_langgraph_messages_stream_mode_streams_tokens(server: ChatServer) -> None:
    from langchain.agents import create_agent

    agent = create_agent(make_model(server), tools=[get_weather])
    tokens = [
        chunk.content
        for chunk, _ in agent.stream(
            {"messages": [HumanMessage("one two three")]}, stream_mode="messages"
        )
        if isinstance(chunk, AIMessageChunk) and chunk.content
    ]
    assert len(tokens) >= 3
    assert "".join(tokens) == "images=0; text=one two three"
    assert server.requests[-1].json["stream"] is True
    assert json.loads(server.requests[-1].body)["tools"][0]["function"]["name"] == "get_weather"
