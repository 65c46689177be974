"""What the package knows of its model, against real servers: the profile refreshed from each
(vLLM's ``/v1/models``, which also names the family of a served name; ``transformers serve``
says nothing), and the token estimate beside the server's own ``prompt_tokens`` (the figures
of docs/models.md, "Accuracy")."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from tokenizers import Tokenizer

from langchain_hf_vlm import ChatHuggingFaceVLM
from tests.realserver.tiny_server import REPO, TinyVLMServer
from tests.realserver.vllm_server import MAX_MODEL_LEN, SERVED_NAME
from tests.support.pngs import tiny_png
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


@pytest.mark.vllm
def test_a_served_name_takes_the_family_of_the_path_vllm_loaded(
    vllm_server: TinyVLMServer,
) -> None:
    image = _image(640, 480)
    with make_model(vllm_server, model=SERVED_NAME) as model:
        before = model.get_num_tokens_from_messages([HumanMessage(content=[image])])
        assert model.profile is not None and model.profile["tool_calling"] is True  # not known
        profile = model.refresh_profile()
        after = model.get_num_tokens_from_messages([HumanMessage(content=[image])])
    # root is .../llava-for-vllm-1: the LLaVA row (no tools in its template, 576 per image)
    assert profile is not None and profile["tool_calling"] is False
    assert profile["max_input_tokens"] == MAX_MODEL_LEN
    assert after - before == 576 - (23 * 17 + 2)  # from the default's 28 px grid at 640 x 480


# ---- the token estimate against the server's count (transformers serve, the tiny LLaVA)

IMAGE_TOKENS = 16
"""What the tiny model's processor makes of any image: (56 / 14) ** 2 patches."""
LLAVA_ROW = 576
"""What the LLaVA row of the table says (LLaVA-1.5: 336 px, 14 px patches): the tiny model's
id names that family, its processor is not LLaVA-1.5's."""
DEFAULT_SYSTEM_PROMPT = 21
"""Tokens of the system turn the tiny model's template writes when the request has none
(Qwen2's "You are a helpful assistant."), which the estimate does not count."""

TEXT_REQUESTS: dict[str, list[BaseMessage]] = {
    "hi": [HumanMessage("hi")],
    "sentences": [
        HumanMessage(
            "The train left the station at nine. It was raining over the hills. Nobody on "
            "board knew where it would stop."
        )
    ],
    "python": [HumanMessage("def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n")],
    "readme": [HumanMessage((REPO / "README.md").read_text()[:4000])],
    "conversation": [
        SystemMessage("You are terse."),
        HumanMessage("What is the capital of France? Answer in one word."),
        AIMessage("Paris."),
        HumanMessage("And the capital of Italy, in one word too?"),
    ],
}


def _image(width: int, height: int) -> dict[str, object]:
    data = base64.b64encode(tiny_png(width, height)).decode()
    return {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}


def _served(model: ChatHuggingFaceVLM, messages: list[BaseMessage]) -> int:
    usage = model.invoke(messages, max_tokens=1).usage_metadata
    assert usage is not None
    return usage["input_tokens"]


def _tokenizer(tiny_vlm: TinyVLMServer) -> Callable[[str], list[int]]:
    tokenizer = Tokenizer.from_file(str(Path(tiny_vlm.tiny.model_dir) / "tokenizer.json"))
    return lambda text: tokenizer.encode(text, add_special_tokens=False).ids


def test_text_estimate_is_within_the_stated_error_of_the_servers_count(
    tiny_vlm: TinyVLMServer,
) -> None:
    with make_model(tiny_vlm) as model:
        for name, messages in TEXT_REQUESTS.items():
            served, estimate = (
                _served(model, messages),
                model.get_num_tokens_from_messages(messages),
            )
            # docs/models.md: 30-70% low on the tiny model's toy vocabulary (measured 33-70%)
            assert 0.3 * served <= estimate <= 0.7 * served, (name, served, estimate)


def test_with_the_models_tokenizer_only_the_chat_framing_is_off(tiny_vlm: TinyVLMServer) -> None:
    with make_model(tiny_vlm, custom_get_token_ids=_tokenizer(tiny_vlm)) as model:
        for name, messages in TEXT_REQUESTS.items():
            served, estimate = (
                _served(model, messages),
                model.get_num_tokens_from_messages(messages),
            )
            framing = served - estimate
            if isinstance(messages[0], SystemMessage):  # measured: 8 low, over four turns
                assert 0 <= framing <= 10, (name, served, estimate)
            else:  # measured: the template's default system turn exactly
                assert framing == DEFAULT_SYSTEM_PROMPT, (name, served, estimate)


def test_each_image_costs_what_the_family_row_says_and_the_server_its_own_count(
    tiny_vlm: TinyVLMServer,
) -> None:
    ask = {"type": "text", "text": "Compare these pictures."}
    one: list[BaseMessage] = [HumanMessage(content=[ask, _image(640, 480)])]
    two: list[BaseMessage] = [HumanMessage(content=[ask, _image(640, 480), _image(320, 200)])]
    with make_model(tiny_vlm, custom_get_token_ids=_tokenizer(tiny_vlm)) as model:
        served = [_served(model, one), _served(model, two)]
        estimate = [model.get_num_tokens_from_messages(m) for m in (one, two)]
    assert served[1] - served[0] == IMAGE_TOKENS
    assert estimate[1] - estimate[0] == LLAVA_ROW  # the row's count: 560 high per image here
    # with the right count per image, the rest is the template's default system turn
    for images, (count, guess) in enumerate(zip(served, estimate, strict=True), start=1):
        assert count - (guess - images * (LLAVA_ROW - IMAGE_TOKENS)) == DEFAULT_SYSTEM_PROMPT
