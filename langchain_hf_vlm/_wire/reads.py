"""Reading a response body within one call's limits and deadline, sync and async: the I/O
shared by chat requests (:mod:`_wire.sender`) and identification probes (:mod:`_servers.probes`)."""

from __future__ import annotations

import contextlib
from typing import Any

import anyio
from langchain_core.exceptions import ModelError

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire.policy import Body, CallState, _Expired
from langchain_hf_vlm._wire.sse import MalformedEventError

FAILURES = (httpx.HTTPError, ModelError, MalformedEventError, TimeoutError, _Expired)
"""What an attempt may raise; :meth:`CallState.error` makes each a package error."""


def timer(call: CallState) -> Any:
    """What ends an await at the call's deadline: the deadline backend of the package's own
    clients, or else a cancel scope."""
    if call.at_socket:
        return call.scope
    remaining = call.deadline.remaining()
    return contextlib.nullcontext() if remaining is None else anyio.fail_after(max(remaining, 0))


def read(response: httpx.Response, body: Body, call: CallState) -> bytes:
    for chunk in response.iter_bytes():
        if not body.add(chunk):
            break
        call.check()
    return body.data()


async def aread(response: httpx.Response, body: Body, call: CallState) -> bytes:
    chunks = response.aiter_bytes()
    while True:
        with timer(call):
            chunk = await anext(chunks, None)
        if chunk is None or not body.add(chunk):
            return body.data()
