"""What the package knows per model family (private). Pure: no I/O.

In: a model id (and, for counts, the size an image is sent at). Out: LangChain's profile keys,
the tokens an image costs, the rules a request must keep.

- ``table``: one keyword-built :class:`~.table.Family` per family, in one table: name
  patterns, context and output lengths, tools, reasoning, image token formula, box coordinate
  convention, request rules; :func:`~.table.family_for` finds a model's (once per model id),
  :func:`~.table.resolve_family` the one ``model_family=`` names.
- ``profiles``: LangChain's ``ModelProfile`` of a model on a kind of server.
- ``images``: image token formulas (patch grid, fixed count, tiles) from the size sent.
- ``tokens``: the text estimate and chat framing used when no tokenizer is at hand.
- ``detail``: the pixel budgets of ``detail="low"`` and ``"high"`` image blocks.
- ``rules``: the rules that break requests (images per request, alternating roles), checked
  before sending, and the one safe adaptation (``adapt_to_model``: Gemma's turns merged).
- ``boxes``: a box the model wrote, mapped back to the original image
  (``langchain_hf_vlm.images.box_to_original``).
- ``refresh``: what vLLM, TGI or the router says about the model, read into the profile (the
  GET is :func:`langchain_hf_vlm._servers.probes.get_json`'s: the only I/O here).

Where the layers stand: below ``_request`` (which asks for the family's grid) and ``_model``;
above ``_media``, ``_servers`` and ``_wire``.
"""
