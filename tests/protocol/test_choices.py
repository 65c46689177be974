"""``n`` as ChatOpenAI handles it, on a real socket: every choice the server answers is kept in
``generations``; a stream, which carries one, is refused before anything is sent."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage
from langchain_core.outputs import ChatGeneration

from tests.servers.chat_server import ChatServer
from tests.support.loopback import make_model


def test_every_choice_is_kept_in_generations(vllm: ChatServer) -> None:
    model = make_model(vllm, n=2)
    result = model.generate([[HumanMessage("hi")]])
    (generations,) = result.generations
    assert len(generations) == 2
    first = generations[0]
    assert isinstance(first, ChatGeneration)
    assert model.invoke("hi").text == first.message.text  # invoke: the first
    assert [r.json["n"] for r in vllm.requests] == [2, 2]


def test_several_choices_in_a_stream_are_refused_before_sending(vllm: ChatServer) -> None:
    model = make_model(vllm)
    with pytest.raises(ValueError, match=r"n=2 asks for 2 choices, but a stream carries one"):
        list(model.stream("hi", n=2))
    with pytest.raises(ValueError, match=r"but streaming=True carries one"):
        make_model(vllm, n=2, streaming=True)
    assert vllm.requests == []
