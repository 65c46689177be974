"""Shared by the examples: pick the router, a given server, or the tiny local test model."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from pathlib import Path

from langchain_hf_vlm import ChatHuggingFaceVLM

DEFAULT_ROUTER_MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
REPO = Path(__file__).resolve().parent.parent


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base-url", help="an OpenAI-compatible server (TGI, vLLM, ...)")
    parser.add_argument("--model", help="model id (router) or served model name (base URL)")


def open_model(args: argparse.Namespace, stack: ExitStack, **fields: object) -> ChatHuggingFaceVLM:
    """The model the arguments ask for; without HF_TOKEN or --base-url, a tiny local one."""
    base_url, model_name = args.base_url, args.model
    if base_url is None and not os.environ.get("HF_TOKEN"):
        base_url, model_name = _local_server(stack)
    return ChatHuggingFaceVLM(
        model=model_name or DEFAULT_ROUTER_MODEL,
        base_url=base_url,
        **fields,  # type: ignore[arg-type]
    )


def _local_server(stack: ExitStack) -> tuple[str, str]:
    """The tiny offline VLM under transformers serve, or else the scripted protocol server."""
    sys.path.insert(0, str(REPO))
    from tests.realserver.tiny_server import ServeEnvironmentMissing, TinyVLMServer

    print("No HF_TOKEN and no --base-url: starting a tiny local test model (built offline;")
    print("the first run builds it, about 20 s).")
    try:
        server = stack.enter_context(TinyVLMServer())
    except ServeEnvironmentMissing as exc:
        return _scripted_server(stack, str(exc))
    print(
        "NOTE: the answer comes from a tiny test model with canned replies, not a real\n"
        "      VLM. For a real model set HF_TOKEN (Hugging Face router), or pass\n"
        "      --base-url and --model for TGI, vLLM, llama.cpp or `transformers serve`.\n"
    )
    return server.url, server.model


def _scripted_server(stack: ExitStack, why: str) -> tuple[str, str]:
    from tests.servers.chat_server import ChatServer

    print(f"The tiny model cannot run here ({why}).")
    print("Starting the scripted test server instead.")
    print(
        "NOTE: the answer comes from a scripted test server that echoes what it received\n"
        "      (how many images, the question), not from a model. For a real model set\n"
        "      HF_TOKEN (Hugging Face router), or pass --base-url and --model for TGI,\n"
        "      vLLM, llama.cpp or `transformers serve`.\n"
    )
    scripted = stack.enter_context(ChatServer("vllm"))
    return scripted.url, "tiny/vlm"
