"""One HTTP call (private): the lowest layer, the only one that does network I/O.

In: a prepared request (URL, headers, body bytes) and the call's limits. Out: an answer's
JSON, or stream items, or one of the package's errors (:mod:`langchain_hf_vlm.errors`).

Read in this order:

- ``sender``: the sync and async send loops (retries, redirects, error answers, the end of a
  stream); the rest of the package calls only this.
- ``policy``: what one call may take (limits, the scale-up wait) and what its failures become.
- ``retry``: which failures are tried again, and after how long.
- ``failures``: error answers, error events and transport failures to the package's errors.
- ``redaction``: secrets kept out of everything raised or logged.
- ``reads``: reading a body within the call's limits and deadline.
- ``sse``, ``stream_items``: a stream's bytes to server-sent events, then to stream items.
- ``json_limits``: JSON with bounded nesting.
- ``clients``: the HTTP clients of one model, made on first use and closed with it.
- ``direct``: requests sent straight to the client's transport.
- ``deadline``, ``sockets``, ``addresses``: one clock for every network wait, the one wrapper
  of the network backend under the clients (set by rules), and which addresses client-side
  downloads may reach.
- ``httpx_private``: every reach into httpx's and httpcore's private parts (for ``direct`` and
  ``sockets``), checked before use, with the fallback when they change.
"""
