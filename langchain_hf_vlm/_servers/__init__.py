"""Which server a request goes to and how it differs (private).

In: ``base_url``, ``backend``, ``provider``. Out: an
:class:`~langchain_hf_vlm._servers.dialects.Endpoint` with its
:class:`~langchain_hf_vlm._servers.dialects.Dialect`, read as data by the code that needs it
(nothing else branches on the server).

- ``dialects``: endpoints, the table of dialects (one keyword-built entry per kind of server),
  fingerprints and retired hosts. A new backend quirk goes here, as a field of ``Dialect``.
- ``providers``: the inference providers the Hugging Face router accepts.
- ``probes``: one GET per fingerprint settles the dialect of a server of unknown kind.
"""
