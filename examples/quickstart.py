"""Send an image and a question to a vision-language model; stream the answer and its usage.

    python examples/quickstart.py                     # HF_TOKEN set: the router
    python examples/quickstart.py --base-url URL --model NAME  # TGI, vLLM, ...
    python examples/quickstart.py --image photo.jpg --question "What is this?"

With neither HF_TOKEN nor --base-url, it starts a tiny local test model (built offline) so that
the whole path runs on any machine. That model's answers are canned, not real vision.
"""

from __future__ import annotations

import argparse
import struct
import zlib
from contextlib import ExitStack
from pathlib import Path

from _target import add_target_arguments, open_model
from langchain_core.messages import HumanMessage

from langchain_hf_vlm import image_block


def sample_png(width: int = 64, height: int = 48) -> bytes:
    """A small gradient PNG written with the standard library only."""
    raw = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 128)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    add_target_arguments(parser)
    parser.add_argument("--image", type=Path, help="a local image file (default: a generated PNG)")
    parser.add_argument("--question", default="Describe this image in one sentence.")
    args = parser.parse_args()

    with ExitStack() as stack:
        model = open_model(args, stack, max_tokens=200)
        data = args.image.read_bytes() if args.image else sample_png()
        # image_block: a plain LangChain image block, mime type read from the bytes
        message = HumanMessage(content=[{"type": "text", "text": args.question}, image_block(data)])
        print(f"model: {model.model} at {model.base_url or 'the Inference Providers router'}")
        print(f"question: {args.question}\nanswer: ", end="", flush=True)
        full = None
        for chunk in model.stream([message]):
            print(chunk.text, end="", flush=True)
            full = chunk if full is None else full + chunk
        print()
        if full is not None:
            print(f"usage: {full.usage_metadata}")
            print(f"finish reason: {full.response_metadata.get('finish_reason')}")


if __name__ == "__main__":
    main()
