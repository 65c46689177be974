"""The chat model's private half (private): what :class:`~langchain_hf_vlm.ChatHuggingFaceVLM`
delegates to.

In: the model's fields. Out: the settings the layers below take as values, and LangChain
results from their answers.

- ``fields``: the field declarations, their documentation and constraints (the public class's
  base).
- ``arguments``: the constructor's argument names: ChatOpenAI's and ChatHuggingFace's names for
  its fields, and a refusal of any other unknown name that says what was meant.
- ``invoke``: what the four entry points share around the sender: a request prepared from
  LangChain messages, and a whole answer read into a result.
- ``callbacks``: retries reported to LangChain callbacks.
- ``pickling``: what a model pickles (its configuration) for Ray, Dask and multiprocessing.
- ``knowledge``: the public class's base between it and its fields: LangChain's model profile
  (``llm.profile``, from :mod:`langchain_hf_vlm._families`) and token counting.
- ``counting``: token counts of messages (text estimated or by the user's tokenizer, images by
  the family's formula at the size sent).
"""
