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
        sys.path.insert(0, str(REPO))
        from tests.realserver.tiny_server import TinyVLMServer

        print("No HF_TOKEN and no --base-url: starting a tiny local test model (built offline).")
        server = stack.enter_context(TinyVLMServer())
        base_url, model_name = server.url, server.model
        print(
            "NOTE: the answer comes from a tiny test model with canned replies, not a real\n"
            "      VLM. For a real model set HF_TOKEN (Hugging Face router), or pass\n"
            "      --base-url and --model for TGI, vLLM, llama.cpp or `transformers serve`.\n"
        )
    return ChatHuggingFaceVLM(
        model=model_name or DEFAULT_ROUTER_MODEL,
        base_url=base_url,
        **fields,  # type: ignore[arg-type]
    )
