"""``refresh_profile()`` / ``arefresh_profile()`` over real HTTP: a loopback server answering
vLLM's ``/v1/models``, TGI's ``/info`` and the router's ``/v1/models/<id>`` as they do."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM, InvalidContentError
from tests.support.http_host import serving
from tests.support.loopback import run_in_new_loop

MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
ROUTER_MODEL = {
    "id": MODEL,
    "object": "model",
    "created": 1737092914,
    "owned_by": "Qwen",
    "architecture": {"input_modalities": ["text", "image"], "output_modalities": ["text"]},
    "providers": [
        {
            "provider": "novita",
            "status": "live",
            "pricing": {"input": 0.25, "output": 0.25},
            "context_length": 32768,
            "supports_tools": False,
            "supports_structured_output": False,
        },
        {
            "provider": "together",
            "status": "live",
            "pricing": {"input": 0.13, "output": 0.4},
            "context_length": 128000,
            "supports_tools": True,
            "supports_structured_output": True,
        },
        {"provider": "staging-only", "status": "staging", "context_length": 8},
    ],
}
ANSWERS: dict[str, Any] = {
    f"/v1/models/{MODEL}": ROUTER_MODEL,
    "/v1/models": {
        "object": "list",
        "data": [
            {
                "id": MODEL,
                "object": "model",
                "created": 1,
                "owned_by": "vllm",
                "root": "/models/qwen2.5-vl",
                "parent": None,
                "max_model_len": 16384,
            },
            {  # vllm serve /models/Llama-3.2-11B-Vision-Instruct --served-model-name served
                "id": "served",
                "object": "model",
                "root": "/models/Llama-3.2-11B-Vision-Instruct",
                "max_model_len": 4096,
            },
            {"id": "unknown", "object": "model", "root": "/models/my-own", "max_model_len": 512},
        ],
    },
    "/info": {"model_id": MODEL, "version": "3.3.0", "max_input_tokens": 8191},
}


class _Server(BaseHTTPRequestHandler):
    dialect: ClassVar[str] = "vllm"
    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        body = ANSWERS.get(self.path)
        if self.path == "/info" and self.dialect != "tgi":
            body = None
        if self.path == "/v1/models" and self.dialect != "vllm":
            body = None
        data = json.dumps(body or {"detail": "Not Found"}).encode()
        self.send_response(200 if body else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[str]:
    _Server.dialect = getattr(request, "param", "vllm")
    _Server.paths = []
    with serving(_Server) as url:
        yield url


@pytest.mark.parametrize("server", ["vllm"], indirect=True)
def test_vllm_max_model_len_is_the_context(server: str) -> None:
    with ChatHuggingFaceVLM(model=MODEL, base_url=server) as llm:  # kind not known yet
        assert llm.profile is not None and llm.profile["structured_output"] is False
        profile = llm.refresh_profile()
        assert profile is llm.profile
        assert profile is not None
        assert profile["max_input_tokens"] == 16384
        assert profile["structured_output"] is True  # identified as vLLM
        gets = len(_Server.paths)
        assert llm.refresh_profile() is profile and len(_Server.paths) == gets  # cached
        llm.refresh_profile(force=True)
        assert len(_Server.paths) == gets + 1


@pytest.mark.parametrize("server", ["tgi"], indirect=True)
def test_tgi_info_is_read_asynchronously(server: str) -> None:
    llm = ChatHuggingFaceVLM(model=MODEL, base_url=server, backend="tgi")
    profile = run_in_new_loop(llm, llm.arefresh_profile)
    assert profile is not None and profile["max_input_tokens"] == 8191
    assert _Server.paths == ["/info"]


@pytest.mark.parametrize(
    ("provider", "context", "tools"),
    [("together", 128000, True), ("novita", 32768, False), (None, 32768, False)],
)
def test_router_reads_the_chosen_provider_or_every_live_one(
    server: str, provider: str | None, context: int, tools: bool
) -> None:
    model = MODEL if provider is None else f"{MODEL}:{provider}"
    llm = ChatHuggingFaceVLM(
        model=model, base_url=server, backend="router", api_key=SecretStr("hf_test")
    )
    with llm:
        profile = llm.refresh_profile()
    assert profile is not None
    assert profile["max_input_tokens"] == context
    assert profile["tool_calling"] is tools and profile["tool_choice"] is tools
    assert profile["structured_output"] is tools
    assert _Server.paths == [f"/v1/models/{MODEL}"]


def test_a_server_that_says_nothing_leaves_the_profile(server: str) -> None:
    _Server.dialect = "transformers"
    with ChatHuggingFaceVLM(model=MODEL, base_url=server) as llm:
        before = dict(llm.profile or {})
        assert llm.refresh_profile() == before


@pytest.mark.parametrize("server", ["vllm"], indirect=True)
def test_a_served_name_takes_the_family_of_the_path_vllm_loaded(server: str) -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    two_images = [HumanMessage(content=[image, image])]
    with ChatHuggingFaceVLM(model="served", base_url=server, backend="vllm") as llm:
        assert llm.profile is not None and "max_input_tokens" not in llm.profile  # not known
        profile = llm.refresh_profile()
        assert profile is not None and profile["max_input_tokens"] == 4096
        # the family of /models/Llama-3.2-11B-Vision-Instruct: one image per request
        with pytest.raises(InvalidContentError, match=r"served \(llama-3.2-vision\)"):
            llm.invoke(two_images)
        assert _Server.paths == ["/v1/models"]  # refused before sending
    # a root that names no family, or a family given, leaves the family as it is
    with ChatHuggingFaceVLM(model="unknown", base_url=server, backend="vllm") as llm:
        profile = llm.refresh_profile()
        assert profile is not None and profile["max_input_tokens"] == 512
        assert profile["tool_calling"] is True and llm._pipeline.settings.grid is None
    named = ChatHuggingFaceVLM(
        model="served", base_url=server, backend="vllm", model_family="qwen2.5-vl"
    )
    with named:
        named.refresh_profile()
        assert named._pipeline.settings.grid == 28  # Qwen2.5-VL's, not Llama's
        assert named.profile is not None and named.profile["max_input_tokens"] == 4096


@pytest.mark.parametrize("server", ["vllm"], indirect=True)
def test_a_served_name_is_read_asynchronously_too(server: str) -> None:
    llm = ChatHuggingFaceVLM(model="served", base_url=server, backend="vllm")
    profile = run_in_new_loop(llm, llm.arefresh_profile)
    assert profile is not None and profile["max_input_tokens"] == 4096
    assert profile["tool_calling"] is True  # Llama 3.2 Vision's template writes tools
    assert llm._pipeline.settings.grid is None
