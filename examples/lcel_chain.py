"""LCEL: a prompt template with an image variable, the model and an output parser, batched.

python examples/lcel_chain.py [--base-url URL --model NAME] [IMAGE ...]
"""

from __future__ import annotations

import argparse
import base64
from contextlib import ExitStack
from pathlib import Path

from _target import add_target_arguments, open_model
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from quickstart import sample_png


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_target_arguments(parser)
    parser.add_argument("images", nargs="*", type=Path)
    args = parser.parse_args()
    images = [p.read_bytes() for p in args.images] or [
        sample_png(32 + 16 * i, 32) for i in range(3)
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
    with ExitStack() as stack:
        chain = prompt | open_model(args, stack, max_tokens=60) | StrOutputParser()
        inputs = [
            {
                "question": "What is in this image?",
                "image_url": "data:image/png;base64," + base64.b64encode(data).decode(),
            }
            for data in images
        ]
        for index, answer in enumerate(chain.batch(inputs, config={"max_concurrency": 4})):
            print(f"image {index}: {answer}")


if __name__ == "__main__":
    main()
