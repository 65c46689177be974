"""Per-model knowledge: profiles, image token formulas, token counts and request rules (no
network: a rule broken is refused before any socket would be opened)."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any, cast

import pytest
from langchain.agents.middleware import SummarizationMiddleware
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    convert_to_messages,
    trim_messages,
)
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM, InvalidContentError
from langchain_hf_vlm._families.images import Fixed, Grid, Tiles
from langchain_hf_vlm._families.rules import check_request
from langchain_hf_vlm._families.table import DEFAULT, family_for
from langchain_hf_vlm._families.tokens import text_tokens
from tests.support.pngs import tiny_png


def _png_block(width: int, height: int) -> dict[str, Any]:
    data = base64.b64encode(tiny_png(width, height)).decode()
    return {"type": "image", "base64": data, "mime_type": "image/png"}


def _ask(*blocks: dict[str, Any], text: str = "Describe.") -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": text}, *blocks])


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5-vl"),
        ("Qwen/Qwen2.5-VL-72B-Instruct:hyperbolic", "qwen2.5-vl"),
        ("/models/qwen2_5-vl-3b", "qwen2.5-vl"),
        ("Qwen/Qwen3-VL-235B-A22B-Thinking", "qwen3-vl"),
        ("Qwen/Qwen2-VL-7B-Instruct", "qwen2-vl"),
        ("meta-llama/Llama-3.2-11B-Vision-Instruct", "llama-3.2-vision"),
        ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "llama-4-scout"),
        ("google/gemma-3-27b-it", "gemma-3"),
        ("zai-org/GLM-4.5V", "glm-4.5v"),
        ("moonshotai/Kimi-VL-A3B-Thinking-2506", "kimi-vl"),
        ("CohereLabs/aya-vision-32b", "aya-vision"),
        ("HuggingFaceTB/SmolVLM-Instruct", "smolvlm"),
        ("llava-hf/llava-v1.6-mistral-7b-hf", "llava-next"),
        ("llava-hf/llava-1.5-7b-hf", "llava"),
        ("my-own/model", "default"),
    ],
)
def test_model_ids_find_their_family(model: str, family: str) -> None:
    assert family_for(model).name == family


def test_profile_says_what_the_model_takes_per_family() -> None:
    qwen3 = ChatHuggingFaceVLM(model="Qwen/Qwen3-VL-235B-A22B-Thinking").profile
    assert qwen3 is not None
    assert qwen3["max_input_tokens"] == 262_144
    assert qwen3["reasoning_output"] is True
    assert qwen3["image_tool_message"] is True and qwen3["pdf_tool_message"] is True
    instruct = ChatHuggingFaceVLM(model="Qwen/Qwen3-VL-235B-A22B-Instruct").profile
    assert instruct is not None and instruct["reasoning_output"] is False
    gemma = ChatHuggingFaceVLM(model="google/gemma-3-27b-it").profile
    assert gemma is not None
    assert (gemma["max_input_tokens"], gemma["max_output_tokens"]) == (131_072, 8_192)
    assert gemma["tool_calling"] is False and gemma["tool_choice"] is False
    unknown = ChatHuggingFaceVLM(model="my-own/model").profile
    assert unknown is not None and "max_input_tokens" not in unknown


@pytest.mark.parametrize(
    ("server", "enforced"),
    [
        ({}, True),  # the router
        ({"base_url": "http://127.0.0.1:8000", "backend": "vllm"}, True),
        ({"base_url": "http://127.0.0.1:8080", "backend": "tgi"}, True),
        # a server of unknown kind (transformers serve) enforces neither until identified
        ({"base_url": "http://127.0.0.1:8000"}, False),
    ],
)
def test_profile_is_honest_per_server_kind(server: dict[str, Any], enforced: bool) -> None:
    profile = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", **server).profile
    assert profile is not None
    assert profile["tool_calling"] is True
    assert profile["tool_choice"] is enforced
    assert profile["structured_output"] is enforced


def test_a_given_profile_replaces_the_known_one() -> None:
    model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", profile={"max_input_tokens": 9})
    assert model.profile == {"max_input_tokens": 9}


@pytest.mark.parametrize(
    ("formula", "size", "tokens"),
    [
        # Qwen2.5-VL: 1000 x 800 lands on 1008 x 812 (36 x 29 blocks of 28 px), + 2 markers
        (family_for("Qwen/Qwen2.5-VL-7B-Instruct").image_tokens, (1000, 800), 36 * 29 + 2),
        # Qwen3-VL: 32 px blocks; 1000 x 800 -> 992 x 800 (31 x 25)
        (family_for("Qwen/Qwen3-VL-8B-Instruct").image_tokens, (1000, 800), 31 * 25 + 2),
        # a tiny image is enlarged to the minimum budget (Qwen2.5: 56 x 56 px)
        (family_for("Qwen/Qwen2.5-VL-7B-Instruct").image_tokens, (10, 10), 2 * 2 + 2),
        (family_for("google/gemma-3-4b-it").image_tokens, (4000, 3000), 258),
        # Llama 4: 700 x 400 takes 3 x 2 tiles of 336 px, plus the global view
        (family_for("meta-llama/Llama-4-Maverick-17B-128E").image_tokens, (700, 400), 7 * 144),
        (Tiles(tile=336, per_tile=1, max_tiles=4), (336, 336), 1),
        (Tiles(tile=336, per_tile=1, max_tiles=4), (3360, 336), 4 + 1),
        (Fixed(count=576), (1, 1), 576),
    ],
)
def test_image_token_formulas(
    formula: Grid | Fixed | Tiles, size: tuple[int, int], tokens: int
) -> None:
    assert formula.tokens(*size) == tokens


def test_text_estimate() -> None:
    assert text_tokens("") == 0
    assert text_tokens("abcd" * 10) == 10
    assert text_tokens("abcde") == 2
    assert text_tokens("日本語 ok") == 3 + 1  # each CJK character one, the rest by four


def test_counting_needs_no_transformers_and_counts_images_at_the_size_sent() -> None:
    llm = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    text_only = llm.get_num_tokens_from_messages([_ask()])
    small = llm.get_num_tokens_from_messages([_ask(_png_block(280, 280))])
    assert small - text_only == 10 * 10 + 2
    # 4000 x 3000 is sent within the package's 1.25 MP budget, on the 28 px grid: 1288 x 952
    large = llm.get_num_tokens_from_messages([_ask(_png_block(4000, 3000))])
    assert large - text_only == 46 * 34 + 2
    url = {"type": "image", "url": "https://example.com/cat.png"}
    assert llm.get_num_tokens_from_messages([_ask(url)]) - text_only == 40 * 40 + 2


def test_counting_uses_the_users_tokenizer_for_text() -> None:
    llm = ChatHuggingFaceVLM(model="m", custom_get_token_ids=lambda text: list(range(len(text))))
    assert llm.get_num_tokens("hello") == 5
    one = llm.get_num_tokens_from_messages([HumanMessage("hello")])
    two = llm.get_num_tokens_from_messages([HumanMessage("hello"), AIMessage("hello")])
    assert two - one == 5 + 5  # the text and the framing of one message


def test_tool_calls_and_tool_schemas_count() -> None:
    llm = ChatHuggingFaceVLM(model="m")
    plain = llm.get_num_tokens_from_messages([AIMessage("")])
    call = AIMessage("", tool_calls=[{"id": "1", "name": "get_weather", "args": {"city": "Paris"}}])
    assert llm.get_num_tokens_from_messages([call]) > plain

    def get_weather(city: str) -> str:
        """Weather of a city."""
        return city

    assert llm.get_num_tokens_from_messages([AIMessage("")], tools=[get_weather]) > plain


def test_trim_messages_keeps_the_recent_turns_that_fit_with_their_images() -> None:
    llm = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    history: list[BaseMessage] = [SystemMessage("You look at pictures.")]
    for turn in range(4):
        history += [
            _ask(_png_block(560, 560), text=f"Picture {turn}?"),
            AIMessage(f"A cat {turn}."),
        ]
    one_turn = llm.get_num_tokens_from_messages(history[-2:])
    trimmed = trim_messages(
        history,
        max_tokens=2 * one_turn + 40,
        token_counter=llm,
        strategy="last",
        include_system=True,
        start_on="human",
    )
    assert trimmed[0] == history[0]
    assert trimmed[1:] == history[-4:]  # two turns of 400-odd tokens each fit, three do not


def _count(llm: ChatHuggingFaceVLM, messages: Iterable[Any]) -> int:
    return llm.get_num_tokens_from_messages(convert_to_messages(messages))


def test_summarization_middleware_reads_the_context_from_the_profile() -> None:
    llm = ChatHuggingFaceVLM(model="google/gemma-3-27b-it")
    middleware = SummarizationMiddleware(
        model=llm, trigger=("fraction", 0.5), token_counter=lambda messages: _count(llm, messages)
    )
    state: Any = {"messages": [_ask(_png_block(896, 896))]}
    assert (
        middleware.before_model(state, runtime=cast(Any, None)) is None
    )  # far below half of 131,072
    with pytest.raises(ValueError, match="max_input_tokens"):
        SummarizationMiddleware(
            model=ChatHuggingFaceVLM(model="my-own/model"), trigger=("fraction", 0.5)
        )


def test_llama_vision_refuses_a_second_image_before_sending() -> None:
    llm = ChatHuggingFaceVLM(
        model="meta-llama/Llama-3.2-11B-Vision-Instruct", api_key=SecretStr("t")
    )
    messages = [_ask(_png_block(8, 8)), AIMessage("A red square."), _ask(_png_block(8, 8))]
    with pytest.raises(InvalidContentError, match="at most 1 image") as info:
        llm.invoke(messages)
    assert "Llama-3.2-11B-Vision-Instruct" in str(info.value)
    assert "images per request" in str(info.value)
    assert (info.value.message_index, info.value.block_index) == (2, 1)
    # the same per call under another model name
    other = ChatHuggingFaceVLM(model="m", api_key=SecretStr("t"))
    with pytest.raises(InvalidContentError, match="at most 1 image"):
        other.invoke(messages, model="meta-llama/Llama-3.2-90B-Vision-Instruct")


def test_gemma_refuses_turns_that_do_not_alternate_before_sending() -> None:
    llm = ChatHuggingFaceVLM(model="google/gemma-3-27b-it", api_key=SecretStr("t"))
    messages = [SystemMessage("Be brief."), HumanMessage("Hi."), HumanMessage("Hello?")]
    with pytest.raises(InvalidContentError, match="alternating roles") as info:
        llm.invoke(messages)
    assert info.value.message_index == 2
    assert "gemma-3-27b-it" in str(info.value)
    ok = [SystemMessage("Be brief."), HumanMessage("Hi."), AIMessage("Hi."), HumanMessage("Bye.")]
    check_request(family_for("google/gemma-3-27b-it"), "google/gemma-3-27b-it", ok, [])
    with pytest.raises(InvalidContentError, match="where a user turn belongs"):
        check_request(
            family_for("google/gemma-3-27b-it"), "google/gemma-3-27b-it", [AIMessage("Hi.")], []
        )


def test_other_models_have_no_such_rules() -> None:
    assert DEFAULT.max_images is None and not DEFAULT.alternating_roles
    check_request(
        family_for("Qwen/Qwen2.5-VL-7B-Instruct"),
        "Qwen/Qwen2.5-VL-7B-Instruct",
        [HumanMessage("a"), HumanMessage("b")],
        [],
    )
