"""An agent on an image: the model reads the image, calls a tool, and answers.

python examples/agent_tools.py [--base-url URL --model NAME]
"""

from __future__ import annotations

import argparse
import base64
from contextlib import ExitStack

from _target import add_target_arguments, open_model
from langchain.agents import create_agent
from langchain_core.messages import HumanMessage
from langchain_core.tools import tool
from quickstart import sample_png


@tool
def get_weather(city: str) -> str:
    """Get the current weather for a city."""
    return f"It is sunny and 21 C in {city}."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_target_arguments(parser)
    args = parser.parse_args()
    image = base64.b64encode(sample_png()).decode()
    with ExitStack() as stack:
        agent = create_agent(open_model(args, stack, max_tokens=200), tools=[get_weather])
        question = HumanMessage(
            content=[
                {"type": "text", "text": "Which city is shown here? What is its weather?"},
                {"type": "image", "base64": image, "mime_type": "image/png"},
            ]
        )
        result = agent.invoke({"messages": [question]})
        for message in result["messages"]:
            calls = getattr(message, "tool_calls", None)
            print(f"{message.type}: {message.text or calls}")


if __name__ == "__main__":
    main()
