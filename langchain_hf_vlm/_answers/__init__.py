"""Wire JSON to LangChain results (private). Pure: no I/O.

In: a chat-completion answer's JSON, or stream items from :mod:`langchain_hf_vlm._wire`. Out:
``ChatResult`` and ``ChatGenerationChunk``, with tool calls and usage metadata.

- ``answer``: a whole (non-streamed) answer to a ``ChatResult``.
- ``stream``: one streamed answer, from stream items to LangChain chunks (the sync and async
  loops share it).
- ``chunks``: ``chat.completion.chunk`` dicts to ``ChatGenerationChunk``s.
- ``tool_calls``: tool calls of any shape the servers send.
- ``usage``: token usage to LangChain ``UsageMetadata``.
- ``reasoning``: ``<think>...</think>`` in the answer text split off as reasoning, piece by piece
  (whole answers and streams alike).
- ``shape``: the field checks all of them share; a field of the wrong type names itself.
"""
