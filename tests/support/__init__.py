"""Helpers that tests import, and only here. Fixtures live in ``tests/conftest.py``; no test
imports a conftest. Servers live beside the tiers that use them: the loopback servers in
``tests/servers/``, the real servers and the tiny model they serve in ``tests/realserver/``.

Models, one factory per server kind (each closes its models after the test, ``closing``):

- ``loopback``: ``make_model`` for the loopback chat server, ``run_in_new_loop``.
- ``realserver``: ``make_model`` for a real server (``transformers serve`` or vLLM), the image
  host, the standard suite's closed ``model`` fixture and its local images.
- ``standard_suite``: LangChain's integration suite against a real server, with a table of
  expected failures per server.
- ``capabilities``: the package's flags for LangChain's standard suites.
- ``closing``: models made by the factories are closed after each test, in its event loop.

Hosts and proxies on 127.0.0.1:

- ``http_host``: ``LoopbackHost`` and ``serving()``, the one lifecycle of the plain HTTP hosts.
- ``recording_proxy``: a reverse proxy that records both directions (what a server received).

What tests send and what servers answer:

- ``pngs``, ``images``: PNGs from the standard library; photos, screenshots and data URIs (Pillow).
- ``media``: PDFs and videos made on the spot.
- ``wire_answers``: chat-completion answers and stream chunks as servers send them.
- ``fuzz_answers``: Hypothesis strategies for valid, then mutated, answers and streams.
- ``hostile_run``: one hostile-server case in a child process with a memory ceiling.
- ``messages``: merging the chunks a stream gave back.
- ``polling``: waiting for another thread or process (a bound for a hang, not a speed).
"""
