"""A LangChain call to a prepared request (private). Pure: no I/O.

In: LangChain messages, the call's keyword arguments and the model's settings. Out: a
:class:`~langchain_hf_vlm._wire.sender.PreparedRequest` (URL, headers, body bytes).

- ``prepare``: the request as a whole: URL, headers and body bytes of one call.
- ``messages``: LangChain messages to chat-completion message dicts, media left as references
  for :mod:`langchain_hf_vlm._media` to fill.
- ``body``: the request body: model, messages and exactly the parameters the user set.
- ``auth``: who gets which credentials (the token rule).
- ``tools``: tools in, OpenAI tool dicts and ``tool_choice`` out.
- ``structured``: structured output: schemas in, a response format or forced tool, and a parser.
- ``reasoning``: the reasoning settings of a call, ``reasoning_effort`` and the thinking switch
  as the dialect writes them, and the history's reasoning sent back.
"""
