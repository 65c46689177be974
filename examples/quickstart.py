"""Send an image and a question to a vision-language model; stream the answer and its usage.

    python examples/quickstart.py                   # the router: HF_TOKEN or `hf auth login`
    BASE_URL=http://localhost:8000/v1 MODEL=name python examples/quickstart.py  # your server
    python examples/quickstart.py --image photo.jpg --question "What is this?"

`make demo` runs it against a tiny local model when there is neither a token nor a server
(scripts/demo.py starts that model).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from langchain_core.messages import HumanMessage
from PIL import Image

from langchain_hf_vlm import ChatHuggingFaceVLM, image_block


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL"), help="your server")
    parser.add_argument("--model", default=os.environ.get("MODEL"), help="model id or name")
    parser.add_argument("--image", type=Path, help="an image file (default: a generated one)")
    parser.add_argument("--question", default="Describe this image in one sentence.")
    args = parser.parse_args()

    model = ChatHuggingFaceVLM(
        model=args.model or "Qwen/Qwen2.5-VL-7B-Instruct",
        base_url=args.base_url,  # None: the Hugging Face router
        max_tokens=200,
    )
    picture = Image.open(args.image) if args.image else Image.radial_gradient("L").convert("RGB")
    # image_block: a plain LangChain image block (large images are resized before sending)
    message = HumanMessage(content=[{"type": "text", "text": args.question}, image_block(picture)])
    print(f"model: {model.model} at {args.base_url or 'the Hugging Face router'}")
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
