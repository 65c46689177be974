"""The fixed answers the tiny test VLM is taught (build_tiny_vlm.py) and the tests expect.

Rules, applied to the request as the server sees it, first match wins:

====================================  =============================================
last message is a tool result         ``ANS_TOOL_RESULT``
the request has tools                 a call ``get_weather(city="Paris")``
last user text mentions json          ``ANS_JSON``
last user message has an image        ``ANS_IMAGE``
otherwise                             ``ANS_DEFAULT``
====================================  =============================================
"""

ANS_TOOL_RESULT = "The tool returned a result."
TOOL_NAME = "get_weather"
TOOL_ARGS = {"city": "Paris"}
TOOL_CALL_JSON = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
ANS_TOOL_CALL = f"<tool_call>\n{TOOL_CALL_JSON}\n</tool_call>"
ANS_JSON = '{"name": "tiny", "ok": true}'
ANS_IMAGE = "I see an image."
ANS_DEFAULT = "Hello! I am a tiny test model."
