"""LCEL: a prompt template with an image variable, the model and an output parser, batched.

python examples/lcel_chain.py [IMAGE ...]        # the router: HF_TOKEN or `hf auth login`
BASE_URL=http://localhost:8000/v1 MODEL=name python examples/lcel_chain.py  # your server
"""

from __future__ import annotations

import argparse
import base64
import io
import os
from pathlib import Path

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from PIL import Image

from langchain_hf_vlm import ChatHuggingFaceVLM


def data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL"), help="your server")
    parser.add_argument("--model", default=os.environ.get("MODEL"), help="model id or name")
    parser.add_argument("images", nargs="*", type=Path)
    args = parser.parse_args()

    model = ChatHuggingFaceVLM(
        model=args.model or "Qwen/Qwen2.5-VL-7B-Instruct",
        base_url=args.base_url,  # None: the Hugging Face router
        max_tokens=60,
    )
    images: list[Image.Image] = [Image.open(path) for path in args.images] or [
        Image.new("RGB", (64, 48), colour) for colour in ("red", "green", "blue")
    ]
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You describe images in one short sentence."),
            (
                "user",
                [
                    {"type": "text", "text": "{question}"},
                    {"type": "image_url", "image_url": {"url": "{image_url}"}},
                ],
            ),
        ]
    )
    chain = prompt | model | StrOutputParser()
    inputs = [{"question": "What is in this image?", "image_url": data_uri(i)} for i in images]
    for index, answer in enumerate(chain.batch(inputs, config={"max_concurrency": 4})):
        print(f"image {index}: {answer}")


if __name__ == "__main__":
    main()
