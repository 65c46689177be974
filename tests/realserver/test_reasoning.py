"""A thinking model on real servers: reasoning read, sent back and switched, asserted from the
server's side.

The tiny VLM thinks (``<think>{thought}</think>`` before its answer, tests/realserver/answers.py)
when the request's ``chat_template_kwargs`` set ``enable_thinking`` (what ``enable_thinking=True``
sends) or the last user text holds ``/think``. vLLM serves it with ``--reasoning-parser qwen3``
and ``enable_thinking`` off by default: switched on by the request, the reasoning arrives as a
field; by the soft switch, the parser stays off and the tags arrive in the content, split over
three stream chunks (``<think>``, the thought, ``</think>``). `transformers serve` has no
reasoning parser for this model: the tags arrive in the content.

The chat template renders a history message's ``reasoning_content`` as ``<think>...</think>``
(as GLM's and Kimi's do), so the prompt the server counts is longer by exactly those tokens when
the reasoning goes back, if the server hands it to the template: vLLM does; `transformers serve`
5.24 keeps only role, content and tool calls of a history message, so there the prompt is the
same either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.realserver.answers import (
    ANS_DEFAULT,
    ANS_TOOL_CALL,
    ANS_TOOL_RESULT,
    THINK_END,
    THINK_MARKER,
    THINK_START,
    THOUGHTS,
    TOOL_ARGS,
    TOOL_NAME,
    thinking,
)
from tests.realserver.tiny_server import TinyVLMServer
from tests.support.loopback import run_in_new_loop
from tests.support.messages import merge_chunks
from tests.support.realserver import make_model
from tests.support.recording_proxy import RecordingProxy

pytestmark = pytest.mark.realserver

REASONING = "The user wants the weather in Paris, so I call the tool."


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny in {city}."


@contextlib.contextmanager
def recording(server: TinyVLMServer) -> Iterator[RecordingProxy]:
    """A recording proxy in front of ``server`` for the length of the block."""
    recorder = RecordingProxy(server.url.removesuffix("/v1"))
    try:
        yield recorder
    finally:
        recorder.close()


def _thinking_history() -> list[BaseMessage]:
    """A question, the tool-call turn a thinking model wrote (v1 reasoning block), the result."""
    call = {"name": TOOL_NAME, "args": TOOL_ARGS, "id": "call_1", "type": "tool_call"}
    turn = AIMessage(content=[{"type": "reasoning", "reasoning": REASONING}], tool_calls=[call])
    return [
        HumanMessage("What's the weather in Paris?"),
        turn,
        ToolMessage("It's sunny, 21 C.", tool_call_id="call_1"),
    ]


def _loop(server: TinyVLMServer) -> tuple[dict[str, Any], list[int], BaseMessage]:
    """The history sent with its reasoning and without: what the first request carried, the
    prompt tokens the server counted for each, and the answer."""
    with recording(server) as proxy:
        model = make_model(server, base_url=proxy.url).bind_tools([get_weather])
        answer = model.invoke(_thinking_history())
        bare = model.invoke(_thinking_history(), reasoning_in_history="never")
        sent = [exchange.json["messages"][1] for exchange in proxy.chat_requests()]
    assert "reasoning_content" not in sent[1]
    counts = [message.usage_metadata for message in (answer, bare)]
    return sent[0], [usage["input_tokens"] for usage in counts if usage is not None], answer


@pytest.mark.vllm
def test_vllm_renders_the_reasoning_sent_back(vllm_server: TinyVLMServer) -> None:
    sent, (with_reasoning, without), answer = _loop(vllm_server)
    assert sent["reasoning_content"] == REASONING
    assert sent["tool_calls"][0]["function"]["name"] == TOOL_NAME
    assert answer.content == ANS_TOOL_RESULT
    rendered = httpx.post(
        vllm_server.url.removesuffix("/v1") + "/tokenize",
        json={"model": vllm_server.model, "prompt": f"<think>{REASONING}</think>"},
        timeout=60,
    ).json()["count"]
    assert with_reasoning - without == rendered > 0


def test_transformers_serve_drops_the_reasoning_sent_back(tiny_vlm: TinyVLMServer) -> None:
    sent, (with_reasoning, without), answer = _loop(tiny_vlm)
    assert sent["reasoning_content"] == REASONING
    assert answer.content == ANS_TOOL_RESULT
    assert with_reasoning == without


# ------------------------------------------------------------- the model thinks


THINK = {"enable_thinking": True}


@pytest.fixture(params=["transformers", pytest.param("vllm", marks=pytest.mark.vllm)])
def server(request: pytest.FixtureRequest) -> TinyVLMServer:
    """The thinking model on `transformers serve`, then (in the vLLM tier) on vLLM."""
    name = "tiny_vlm" if request.param == "transformers" else "vllm_server"
    served: TinyVLMServer = request.getfixturevalue(name)
    return served


def _reasoning(message: BaseMessage) -> list[str]:
    return [block["reasoning"] for block in message.content_blocks if block["type"] == "reasoning"]


def _assert_thought(message: BaseMessage, answer: str) -> None:
    """``message`` is ``answer`` after its thought: the thought as reasoning, never as text."""
    assert message.content == answer
    assert message.additional_kwargs["reasoning_content"] == THOUGHTS[answer]
    assert _reasoning(message) == [THOUGHTS[answer]]


def _assert_streamed(chunks: list[AIMessageChunk], answer: str) -> None:
    """The thought arrived as reasoning chunks, all before the answer's text; no tag as text."""
    kinds = [
        "reasoning" if _reasoning(chunk) else "text"
        for chunk in chunks
        if chunk.text or _reasoning(chunk)
    ]
    assert "".join(chunk.text for chunk in chunks) == answer
    assert "".join(part for chunk in chunks for part in _reasoning(chunk)) == THOUGHTS[answer]
    assert kinds == sorted(kinds)  # every "reasoning" before every "text"
    _assert_thought(merge_chunks(chunks), answer)


def _all_four(
    model: ChatHuggingFaceVLM, question: str
) -> tuple[list[BaseMessage], list[list[AIMessageChunk]]]:
    """invoke and ainvoke answers; stream and astream chunks."""

    async def both_async() -> tuple[BaseMessage, list[AIMessageChunk]]:
        return await model.ainvoke(question), [chunk async for chunk in model.astream(question)]

    invoked, streamed = model.invoke(question), list(model.stream(question))
    ainvoked, astreamed = run_in_new_loop(model, both_async)
    return [invoked, ainvoked], [streamed, astreamed]


def test_thinking_switched_on_by_the_model_and_by_the_call(server: TinyVLMServer) -> None:
    answers, streams = _all_four(make_model(server, enable_thinking=True), "Hello")
    for answer in answers:
        _assert_thought(answer, ANS_DEFAULT)
    for chunks in streams:
        _assert_streamed(chunks, ANS_DEFAULT)
    model = make_model(server)
    _assert_thought(model.invoke("Hello", enable_thinking=True), ANS_DEFAULT)
    plain = model.invoke("Hello")  # unset: nothing sent, the server's default (off) holds
    assert (plain.content, plain.additional_kwargs, _reasoning(plain)) == (ANS_DEFAULT, {}, [])


def test_tags_in_the_content_are_split_off(server: TinyVLMServer) -> None:
    """The soft switch: the tags come in the content (on vLLM too: its parser is off for the
    request), as three stream chunks; the package splits them off in every entry point."""
    question = f"Hello {THINK_MARKER}"
    with recording(server) as proxy:
        answers, streams = _all_four(make_model(server, base_url=proxy.url), question)
        exchanges = proxy.chat_requests()
    # what the server sent: the tags in the content, and streamed in more than one event
    assert thinking(ANS_DEFAULT) == exchanges[0].json_answer()["choices"][0]["message"]["content"]
    deltas = [
        event["choices"][0]["delta"].get("content") or ""
        for event in exchanges[1].events()
        if event.get("choices")
    ]
    assert "".join(deltas) == thinking(ANS_DEFAULT)
    assert len([delta for delta in deltas if delta]) > 1
    for answer in answers:
        _assert_thought(answer, ANS_DEFAULT)
    for chunks in streams:
        _assert_streamed(chunks, ANS_DEFAULT)


def test_reasoning_effort_as_each_server_reads_it(server: TinyVLMServer) -> None:
    """vLLM 0.32 turns any effort but "none" into the template's ``enable_thinking`` (and its
    parser's); `transformers serve` 5.24 lists ``reasoning_effort`` among the fields it ignores."""
    model = make_model(server, reasoning_effort="low")
    answer = model.invoke("Hello")
    if server.name == "vLLM":
        _assert_thought(answer, ANS_DEFAULT)
        answer = model.invoke("Hello", reasoning_effort="none")
    assert (answer.content, answer.additional_kwargs, _reasoning(answer)) == (ANS_DEFAULT, {}, [])


@pytest.mark.vllm
def test_vllm_counts_the_reasoning_tokens(vllm_server: TinyVLMServer) -> None:
    answer = make_model(vllm_server, enable_thinking=True).invoke("Hello")
    assert answer.usage_metadata is not None
    # the thought is one token of the tiny model's vocabulary
    assert answer.usage_metadata["output_token_details"] == {"reasoning": 1}


def test_the_peers_on_the_same_thinking_server(server: TinyVLMServer) -> None:
    """ChatOpenAI pointed at the same server: the tags stay in its answer's text, and a
    reasoning field (vLLM's parser) is dropped."""
    from langchain_openai import ChatOpenAI

    peer = ChatOpenAI(
        base_url=server.url,
        api_key=SecretStr("unused"),
        model=server.model,
        max_completion_tokens=24,
        temperature=0,
    )
    tagged = peer.invoke(f"Hello {THINK_MARKER}")
    assert tagged.content == thinking(ANS_DEFAULT)
    switched = peer.invoke("Hello", extra_body={"chat_template_kwargs": THINK})
    assert _reasoning(switched) == [] and "reasoning_content" not in switched.additional_kwargs
    ours = make_model(server)
    _assert_thought(ours.invoke(f"Hello {THINK_MARKER}"), ANS_DEFAULT)
    _assert_thought(ours.invoke("Hello", enable_thinking=True), ANS_DEFAULT)


def test_agent_loop_on_a_thinking_model(server: TinyVLMServer) -> None:
    """LangChain's agent with a tool, on a thinking model: the tool-call turn's reasoning goes
    back with the next request, and the last answer's thought is reasoning. On vLLM the
    server's own prompt count shows the template rendered the reasoning sent back."""
    from langchain.agents import create_agent

    with recording(server) as proxy:
        model = make_model(server, base_url=proxy.url, enable_thinking=True)
        agent = create_agent(model, tools=[get_weather])
        result = agent.invoke({"messages": [HumanMessage("What's the weather in Paris?")]})
        messages = result["messages"]
        bare = model.bind_tools([get_weather]).invoke(messages[:-1], reasoning_in_history="never")
        sent = [exchange.json["messages"] for exchange in proxy.chat_requests()]
    turn, tool_result, last = messages[1], messages[2], messages[-1]
    assert [m.type for m in messages] == ["human", "ai", "tool", "ai"]
    assert turn.tool_calls[0]["name"] == TOOL_NAME and turn.tool_calls[0]["args"] == TOOL_ARGS
    assert _reasoning(turn) == [THOUGHTS[ANS_TOOL_CALL]]
    assert tool_result.content == "It is sunny in Paris."
    _assert_thought(last, ANS_TOOL_RESULT)
    assert len(sent) == 2 + 1  # the agent's two requests, then the bare replay
    assert sent[1][1]["reasoning_content"] == THOUGHTS[ANS_TOOL_CALL]
    assert "reasoning_content" not in sent[2][1]
    assert last.usage_metadata is not None and bare.usage_metadata is not None
    grown = last.usage_metadata["input_tokens"] - bare.usage_metadata["input_tokens"]
    if server.name == "vLLM":
        assert grown == _tokens(server, f"{THINK_START}{THOUGHTS[ANS_TOOL_CALL]}{THINK_END}") > 0
    else:  # `transformers serve` keeps no reasoning of a history message
        assert grown == 0


def _tokens(server: TinyVLMServer, text: str) -> int:
    """How many tokens vLLM makes of ``text`` (its /tokenize endpoint)."""
    reply = httpx.post(
        server.url.removesuffix("/v1") + "/tokenize",
        json={"model": server.model, "prompt": text},
        timeout=60,
    )
    count: int = reply.json()["count"]
    return count
