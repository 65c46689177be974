"""``response_metadata["images"]``: the size of each image as given and as sent, in message
order, from every entry point (real HTTP against the loopback server)."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._media.headers import read_image_header
from langchain_hf_vlm.images import box_to_original
from tests.servers.chat_server import ChatServer
from tests.support.loopback import make_model, run_in_new_loop
from tests.support.messages import merge_chunks
from tests.support.pngs import tiny_png


def _png(width: int, height: int) -> dict[str, Any]:
    data = base64.b64encode(tiny_png(width, height)).decode()
    return {"type": "image", "base64": data, "mime_type": "image/png"}


MESSAGES: list[BaseMessage] = [
    HumanMessage(content=[{"type": "text", "text": "first"}, _png(40, 30)]),
    AIMessage("A red rectangle."),
    HumanMessage(
        content=[
            {"type": "text", "text": "and these?"},
            _png(2400, 1800),
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ]
    ),
]
EXPECTED = [
    {"original": [40, 30], "sent": [40, 30], "message": 0, "block": 1},
    # downscaled to the default 1120 x 1120 px budget, the aspect ratio kept
    {"original": [2400, 1800], "sent": [1293, 970], "message": 2, "block": 1},
    # a URL the server fetches: its sizes are not known to the client
    {"original": None, "sent": None, "message": 2, "block": 2},
]


def _answer(model: ChatHuggingFaceVLM, how: str) -> AIMessage:
    if how == "invoke":
        return model.invoke(MESSAGES)
    if how == "stream":
        return merge_chunks(list(model.stream(MESSAGES)))
    if how == "ainvoke":
        return run_in_new_loop(model, lambda: model.ainvoke(MESSAGES))

    async def astream() -> AIMessage:
        return merge_chunks([chunk async for chunk in model.astream(MESSAGES)])

    return run_in_new_loop(model, astream)


@pytest.mark.parametrize("how", ["invoke", "stream", "ainvoke", "astream"])
def test_every_entry_point_reports_each_images_sizes(vllm: ChatServer, how: str) -> None:
    answer = _answer(make_model(vllm), how)
    assert answer.response_metadata["images"] == EXPECTED
    sent = vllm.requests[-1].json["messages"][2]["content"][1]["image_url"]["url"]
    assert sent.startswith("data:image/")  # what was reported is what went out


def test_a_box_maps_back_to_the_original_image(vllm: ChatServer) -> None:
    model = make_model(vllm, model="Qwen/Qwen3-VL-8B-Instruct")
    image = model.invoke(MESSAGES).response_metadata["images"][1]
    # Qwen3-VL answers in 0-1000 of each side
    assert box_to_original([500, 500, 1000, 1000], image, model.model) == [1200, 900, 2400, 1800]


def test_an_answer_without_images_has_no_entry(vllm: ChatServer) -> None:
    assert "images" not in make_model(vllm).invoke("hi").response_metadata


@pytest.mark.parametrize(
    ("detail", "size"),
    [
        ("low", [18 * 28, 13 * 28]),  # one 512 px view, on Qwen2.5-VL's 28 px grid
        ("auto", [46 * 28, 34 * 28]),  # the model's image_max_pixels
        (None, [46 * 28, 34 * 28]),
        ("high", [2400, 1800]),  # within the family's 12.8 M px: sent as it is
    ],
)
def test_detail_sizes_the_image_the_server_receives(
    vllm: ChatServer, detail: str | None, size: list[int]
) -> None:
    model = make_model(vllm, model="Qwen/Qwen2.5-VL-7B-Instruct")
    image_url = {"url": "data:image/png;base64," + _png(2400, 1800)["base64"], "detail": detail}
    answer = model.invoke([HumanMessage(content=[{"type": "image_url", "image_url": image_url}])])
    part = vllm.requests[-1].json["messages"][0]["content"][0]["image_url"]
    header = read_image_header(base64.b64decode(part["url"].partition(",")[2]))
    assert header is not None and [header.width, header.height] == size
    assert part.get("detail") == detail  # the hint still goes to the server
    assert answer.response_metadata["images"][0]["sent"] == size
