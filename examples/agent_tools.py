"""An agent on an image: the model reads the image, calls a tool, and answers.

Needs `langchain` for `create_agent`: `pip install '.[agents]'` from a clone.

    python examples/agent_tools.py                   # the router: HF_TOKEN or `hf auth login`
    BASE_URL=http://localhost:8000/v1 MODEL=name python examples/agent_tools.py  # your server
"""

from __future__ import annotations

import argparse
import os

from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from PIL import Image

from langchain_hf_vlm import ChatHuggingFaceVLM, image_block


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL"), help="your server")
    parser.add_argument("--model", default=os.environ.get("MODEL"), help="model id or name")
    args = parser.parse_args()

    model = ChatHuggingFaceVLM(
        model=args.model or "Qwen/Qwen2.5-VL-7B-Instruct",
        base_url=args.base_url,  # None: the Hugging Face router
        max_tokens=200,
    )
    agent = create_agent(model, tools=[get_weather])
    question = HumanMessage(
        content=[
            {"type": "text", "text": "Which city is shown here? What is its weather?"},
            image_block(Image.radial_gradient("L").convert("RGB")),
        ]
    )
    result = agent.invoke({"messages": [question]})
    for message in result["messages"]:
        calls = getattr(message, "tool_calls", None)
        print(f"{message.type}: {message.text or calls}")


if __name__ == "__main__":
    main()
