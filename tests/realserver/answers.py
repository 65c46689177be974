"""The fixed answers the tiny test VLM is taught (build_tiny_vlm.py) and the tests expect.

Rules, applied to the request as the server sees it, first match wins:

====================================  =============================================
last message is a tool result         ``ANS_TOOL_RESULT``
the request has tools                 a call ``get_weather(city="Paris")``
last user text mentions json          ``ANS_JSON``
last user message has an image        ``ANS_IMAGE``
otherwise                             ``ANS_DEFAULT``
====================================  =============================================

Thinking: when the request sets ``chat_template_kwargs={"enable_thinking": true}`` (what the
package sends for ``enable_thinking=True`` on vLLM and `transformers serve`) or the last user
text contains ``THINK_MARKER`` (Qwen3's soft switch), the model thinks first: its answer is
``<think>{THOUGHTS[rule]}</think>`` and then the answer of the rule above (``thinking(...)``).
"""

ANS_TOOL_RESULT = "The tool returned a result."
TOOL_NAME = "get_weather"
TOOL_ARGS = {"city": "Paris"}
TOOL_CALL_JSON = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ANS_TOOL_CALL = f"<tool_call>\n{TOOL_CALL_JSON}\n</tool_call>"
ANS_JSON = '{"name": "tiny", "ok": true}'
ANS_IMAGE = "I see an image."
ANS_DEFAULT = "Hello! I am a tiny test model."

THINK_MARKER = "/think"
THINK_START = "<think>"
THINK_END = "</think>"
# What the model thinks before each rule's answer (one token each in its vocabulary).
THOUGHTS = {
    ANS_TOOL_RESULT: "The tool has answered, so I report what it returned.",
    ANS_TOOL_CALL: "The user needs the weather, so I call the tool.",
    ANS_JSON: "They asked for JSON, so I answer with an object.",
    ANS_IMAGE: "There is an image, so I say what I see.",
    ANS_DEFAULT: "A greeting, so I introduce myself.",
}


def thinking(answer: str) -> str:
    """The whole text a thinking answer is generated as: its thought in tags, then the answer."""
    return f"{THINK_START}{THOUGHTS[answer]}{THINK_END}{answer}"
