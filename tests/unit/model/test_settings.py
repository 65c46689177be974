"""Settings a ChatOpenAI user reads correctly: ``n`` (all choices kept, or refused where one
is read), the whole-call deadline and the scale-up wait under names of their own."""

from __future__ import annotations

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._answers.answer import chat_result
from langchain_hf_vlm._model import invoke
from langchain_hf_vlm._servers.dialects import resolve_endpoint

ENDPOINT = "https://abc123.us-east-1.aws.endpoints.huggingface.cloud"


def _model(**fields: object) -> ChatHuggingFaceVLM:
    return ChatHuggingFaceVLM(model="m", api_key=SecretStr("hf_x"), **fields)  # type: ignore[arg-type]


def _body(model: ChatHuggingFaceVLM, *, stream: bool, **kwargs: object) -> bytes:
    request = invoke.prepare(
        model._parts(), [HumanMessage("hi")], None, kwargs, stream=stream
    ).request
    return request.body


def test_n_is_sent_and_every_choice_is_kept() -> None:
    assert b'"n":2' in _body(_model(n=2), stream=False)
    assert b'"n":3' in _body(_model(), stream=False, n=3)
    assert b'"n"' not in _body(_model(), stream=False)
    answer = {
        "id": "x",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": f"answer {i}"}}
            for i in range(2)
        ],
    }
    result = chat_result(answer)
    assert [g.message.text for g in result.generations] == ["answer 0", "answer 1"]


def test_n_with_streaming_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match=r"n=2 asks for 2 choices, but streaming=True carries one"):
        _model(n=2, streaming=True)
    _model(n=1, streaming=True)


def test_n_in_a_streamed_call_is_refused_before_sending() -> None:
    with pytest.raises(ValueError, match=r"n=2 asks for 2 choices, but a stream carries one"):
        _body(_model(), stream=True, n=2)
    with pytest.raises(ValueError, match=r"n=3 asks for 3 choices"):
        _body(_model(n=3), stream=True)
    assert b'"n":1' in _body(_model(), stream=True, n=1)


def test_n_in_extra_body_is_refused() -> None:
    with pytest.raises(ValueError, match=r"extra_body repeats \['n'\]"):
        _model(extra_body={"n": 2})


def test_total_timeout_is_the_whole_call_and_request_timeout_is_gone_as_a_field() -> None:
    fields = ChatHuggingFaceVLM.model_fields
    assert "total_timeout" in fields and "request_timeout" not in fields
    model = _model(total_timeout=30, timeout=5)
    assert (model.total_timeout, model.timeout) == (30, 5)


@pytest.mark.parametrize(
    ("timeout", "scale_up_timeout", "header", "budget"),
    [
        (120.0, 600.0, 108, 600.0),  # the proxy holds less than the client waits for a byte
        (120.0, 30.0, 30, 30.0),
        (None, 300.0, 300, 300.0),
        (0.5, 600.0, 1, 600.0),
    ],
)
def test_the_scale_up_wait_is_its_own_setting(
    timeout: float | None, scale_up_timeout: float, header: int, budget: float
) -> None:
    model = _model(base_url=ENDPOINT, timeout=timeout, scale_up_timeout=scale_up_timeout)
    request = invoke.prepare(model._parts(), [HumanMessage("hi")], None, {}, stream=False).request
    assert request.headers["X-Scale-Up-Timeout"] == str(header)
    assert request.scale_up.wait_budget == budget
    policy = resolve_endpoint(ENDPOINT, "auto").scale_up(timeout, scale_up_timeout)
    assert policy == request.scale_up


def test_no_public_property_hands_out_a_private_type() -> None:
    """The live parts (endpoint, media pipeline, HTTP sender) are private; the public surface
    beyond BaseChatModel is the fields and documented methods."""
    model = _model()
    for name in ("endpoint", "images", "transport"):
        assert not hasattr(model, name), name
    public = {
        name
        for cls in ChatHuggingFaceVLM.__mro__[: ChatHuggingFaceVLM.__mro__.index(BaseChatModel)]
        for name, value in vars(cls).items()
        if not name.startswith("_") and isinstance(value, property)
    }
    assert public == {"lc_secrets"}
