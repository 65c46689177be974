"""The request body: exactly the parameters that were set, and nothing else; its bytes."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest

from langchain_hf_vlm._media.refs import ImageRef, Slot, WirePart, json_size
from langchain_hf_vlm._request.body import SAMPLING_PARAMETERS, body_bytes, build_payload
from langchain_hf_vlm._servers.dialects import DIALECTS

MESSAGES = [{"role": "user", "content": "Hi"}]


def build(
    parameters: dict[str, Any] | None = None,
    *,
    extra_body: dict[str, Any] | None = None,
    call_kwargs: dict[str, Any] | None = None,
    stream: bool = False,
    stream_usage: bool = True,
    dialect: str = "openai",
) -> dict[str, Any]:
    return build_payload(
        model="org/vlm",
        messages=MESSAGES,
        parameters=parameters or {},
        extra_body=extra_body or {},
        call_kwargs=call_kwargs or {},
        stream=stream,
        stream_usage=stream_usage,
        dialect=DIALECTS[dialect],
    )


def wire(body: dict[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def test_nothing_set_sends_model_and_messages_only() -> None:
    assert wire(build()) == '{"model":"org/vlm","messages":[{"role":"user","content":"Hi"}]}'


def test_every_parameter_is_sent_exactly_as_given() -> None:
    parameters = {
        "temperature": 0,
        "max_tokens": 100,
        "top_p": 0.0,
        "seed": 0,
        "stop": ["\n\n", "END"],
        "frequency_penalty": 0.0,
        "presence_penalty": -0.5,
        "logprobs": False,
        "top_logprobs": 0,
    }
    assert set(parameters) == set(SAMPLING_PARAMETERS)
    body = build(parameters)
    assert wire(body) == (
        '{"model":"org/vlm","messages":[{"role":"user","content":"Hi"}],'
        '"temperature":0,"max_tokens":100,"top_p":0.0,"seed":0,"stop":["\\n\\n","END"],'
        '"frequency_penalty":0.0,"presence_penalty":-0.5,"logprobs":false,"top_logprobs":0}'
    )


@pytest.mark.parametrize("name", SAMPLING_PARAMETERS)
def test_unset_parameter_is_absent(name: str) -> None:
    body = build({name: None, "temperature": 0.2 if name != "temperature" else None})
    assert name not in body
    assert list(body)[:2] == ["model", "messages"]


def test_model_is_the_first_key_whatever_the_order_of_sources() -> None:
    body = build(
        {"temperature": 0.1},
        extra_body={"top_k": 4},
        call_kwargs={"tools": [], "seed": 3},
        stream=True,
    )
    assert list(body) == [
        "model",
        "messages",
        "temperature",
        "top_k",
        "tools",
        "seed",
        "stream",
        "stream_options",
    ]


def test_precedence_call_kwargs_over_extra_body_over_fields() -> None:
    body = build(
        {"temperature": 0.7, "max_tokens": 50, "seed": 1},
        extra_body={"temperature": 0.5, "top_k": 20, "repetition_penalty": 1.1, "seed": 2},
        call_kwargs={"temperature": 0, "max_tokens": 10},
    )
    assert body == {
        "model": "org/vlm",
        "messages": MESSAGES,
        "temperature": 0,
        "max_tokens": 10,
        "seed": 2,
        "top_k": 20,
        "repetition_penalty": 1.1,
    }


def test_extra_body_goes_top_level() -> None:
    body = build(extra_body={"chat_template_kwargs": {"enable_thinking": False}, "top_k": 5})
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["top_k"] == 5
    assert "extra_body" not in body


def test_empty_stop_is_not_sent() -> None:
    assert "stop" not in build({"stop": []})
    assert "stop" not in build({"stop": ["x"]}, call_kwargs={"stop": []})
    assert build({"stop": []}, call_kwargs={"stop": ["END"]})["stop"] == ["END"]
    assert build_payload.__doc__ is not None
    assert "transformers serve" in build_payload.__doc__
    assert "stop=[]" in build_payload.__doc__


def test_langchain_internal_kwargs_are_not_sent() -> None:
    body = build(
        call_kwargs={"ls_structured_output_format": {"schema": {}}, "stream_usage": True, "n": 1}
    )
    assert body == {"model": "org/vlm", "messages": MESSAGES, "n": 1}


@pytest.mark.parametrize(
    ("stream", "stream_usage", "expected"),
    [
        (False, True, {}),
        (False, False, {}),
        (True, False, {"stream": True}),
        (True, True, {"stream": True, "stream_options": {"include_usage": True}}),
    ],
)
def test_stream_and_stream_options(
    stream: bool, stream_usage: bool, expected: dict[str, Any]
) -> None:
    body = build(stream=stream, stream_usage=stream_usage)
    assert body == {"model": "org/vlm", "messages": MESSAGES, **expected}


def test_stream_options_never_go_out_without_stream() -> None:
    # vLLM answers 400 to stream_options with stream=false.
    body = build(
        extra_body={"stream_options": {"continuous_usage_stats": True}, "stream": True},
        stream=False,
    )
    assert body == {"model": "org/vlm", "messages": MESSAGES}


def test_user_stream_options_are_merged_when_streaming() -> None:
    body = build(extra_body={"stream_options": {"continuous_usage_stats": True}}, stream=True)
    assert body["stream_options"] == {"continuous_usage_stats": True, "include_usage": True}


@pytest.mark.parametrize("top_p", [1.0, 1])
@pytest.mark.parametrize("per_call", [False, True])
def test_tgi_rejects_top_p_one(top_p: float, per_call: bool) -> None:
    parameters = {} if per_call else {"top_p": top_p}
    call_kwargs = {"top_p": top_p} if per_call else {}
    with pytest.raises(ValueError, match=r"^tgi rejects top_p=1\.0 .*leave top_p unset"):
        build(parameters, call_kwargs=call_kwargs, dialect="tgi")


@pytest.mark.parametrize("dialect", ["router", "vllm", "openai"])
def test_other_servers_get_top_p_one(dialect: str) -> None:
    assert build({"top_p": 1.0}, dialect=dialect)["top_p"] == 1.0


def test_tgi_gets_top_p_below_one() -> None:
    assert build({"top_p": 0.95}, dialect="tgi")["top_p"] == 0.95


SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
JSON_SCHEMA_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "Person", "schema": SCHEMA, "strict": True},
}


@pytest.mark.parametrize(
    ("dialect", "given", "sent"),
    [
        pytest.param("openai", JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT, id="openai-json-schema"),
        pytest.param("router", JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT, id="router-json-schema"),
        pytest.param("vllm", JSON_SCHEMA_FORMAT, JSON_SCHEMA_FORMAT, id="vllm-json-schema"),
        pytest.param(
            "tgi", JSON_SCHEMA_FORMAT, {"type": "json_object", "value": SCHEMA}, id="tgi-grammar"
        ),
        pytest.param(
            "tgi",
            {"type": "json_object"},
            {"type": "json_object", "value": {"type": "object"}},
            id="tgi-json-mode",
        ),
        pytest.param("vllm", {"type": "json_object"}, {"type": "json_object"}, id="vllm-json-mode"),
    ],
)
def test_response_format_per_dialect(
    dialect: str, given: dict[str, Any], sent: dict[str, Any]
) -> None:
    body = build(call_kwargs={"response_format": given}, dialect=dialect)
    assert body == {"model": "org/vlm", "messages": MESSAGES, "response_format": sent}


TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


def test_tgi_refuses_response_format_with_tools() -> None:
    with pytest.raises(ValueError, match="tgi cannot combine response_format with tools"):
        build(call_kwargs={"tools": [TOOL], "response_format": JSON_SCHEMA_FORMAT}, dialect="tgi")


def test_tgi_drops_an_empty_tool_list_next_to_response_format() -> None:
    # An agent's ProviderStrategy binds response_format with possibly no tools.
    body = build(
        call_kwargs={"tools": [], "tool_choice": "auto", "response_format": JSON_SCHEMA_FORMAT},
        dialect="tgi",
    )
    assert body == {
        "model": "org/vlm",
        "messages": MESSAGES,
        "response_format": {"type": "json_object", "value": SCHEMA},
    }


def test_other_servers_get_response_format_and_tools_together() -> None:
    call_kwargs = {"tools": [TOOL], "tool_choice": "auto", "response_format": JSON_SCHEMA_FORMAT}
    body = build(call_kwargs=call_kwargs, dialect="vllm")
    assert body == {"model": "org/vlm", "messages": MESSAGES, **call_kwargs}


# ---------------------------------------------------------------- body bytes with image refs

LARGE_URI = "data:image/png;base64," + base64.b64encode(random.Random(1).randbytes(30_000)).decode()
SMALL_URI = "data:image/gif;base64,R0lGODlhAQABAAAAACw="


def ref(url: str, detail: Any = None, number: int = 1) -> ImageRef:
    return ImageRef(message_index=0, block_index=number, number=number, url=url, detail=detail)


def image_part(url: str, detail: Any = None) -> dict[str, Any]:
    image_url: dict[str, Any] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}


def exact_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (LARGE_URI, None),
        (LARGE_URI, "high"),
        (LARGE_URI, {"odd": ['"quoted"', "é"]}),
        (SMALL_URI, "low"),
        ('https://example.com/a "quoted" \\ é\u2028.png', None),
    ],
)
def test_each_image_ref_is_written_as_the_exact_json_of_its_part(url: str, detail: Any) -> None:
    text = {"type": "text", "text": 'Quotes " and \\ backslashes, é, \u2028, \x00.'}
    body = {"model": "m", "messages": [{"role": "user", "content": [text, ref(url, detail)]}]}
    expected = {
        "model": "m",
        "messages": [{"role": "user", "content": [text, image_part(url, detail)]}],
    }
    assert body_bytes(body) == exact_json(expected)
    assert json_size(body) == len(body_bytes(body))


def test_the_prepared_image_is_written_not_the_original() -> None:
    image = ref(LARGE_URI)
    image.prepared = SMALL_URI
    body = {"messages": [{"role": "user", "content": [image]}]}
    assert body_bytes(body) == exact_json(
        {"messages": [{"role": "user", "content": [image_part(SMALL_URI)]}]}
    )


@dataclass(eq=False)
class Pages(Slot):
    """A slot that becomes several parts, as a document's pages will."""

    urls: list[str]

    def parts(self) -> list[WirePart]:
        parts: list[WirePart] = []
        for number, url in enumerate(self.urls, start=1):
            parts += [{"type": "text", "text": f"page {number}"}, image_part(url)]
        return parts


def test_a_slot_of_several_parts_is_spliced_in_where_it_stands() -> None:
    pages = Pages([LARGE_URI, SMALL_URI])
    content = [{"type": "text", "text": "before"}, pages, ref(LARGE_URI), "after"]
    body = {"messages": [{"role": "user", "content": content}]}
    expected_content = [
        {"type": "text", "text": "before"},
        {"type": "text", "text": "page 1"},
        image_part(LARGE_URI),
        {"type": "text", "text": "page 2"},
        image_part(SMALL_URI),
        image_part(LARGE_URI),
        "after",
    ]
    assert body_bytes(body) == exact_json(
        {"messages": [{"role": "user", "content": expected_content}]}
    )
    assert json_size(body) == len(body_bytes(body))


def test_anything_else_that_is_not_json_is_still_refused() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        body_bytes({"messages": [{"role": "user", "content": [object()]}]})
