"""Server identification: one GET per fingerprint (:data:`.dialects.FINGERPRINTS`) settles
an endpoint's dialect. A probe gets a few seconds and a small body, whatever the server does; a
failure of any kind means "unknown"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from langchain_hf_vlm._servers.dialects import FINGERPRINTS, Endpoint
from langchain_hf_vlm._wire.clients import Clients
from langchain_hf_vlm._wire.json_limits import loads
from langchain_hf_vlm._wire.policy import CallState, Limits
from langchain_hf_vlm._wire.reads import FAILURES, aread, read, timer
from langchain_hf_vlm._wire.retry import ScaleUpPolicy

_PROBE_TIMEOUT = 5.0
_PROBE_BYTES = 1024 * 1024


def identify(clients: Clients, endpoint: Endpoint, headers: Mapping[str, str]) -> Endpoint:
    """``endpoint`` with its dialect settled by :data:`~_servers.dialects.FINGERPRINTS`."""
    for fingerprint in FINGERPRINTS:
        if fingerprint.matches(_probe(clients, endpoint.root + fingerprint.route, headers)):
            return endpoint.identified(fingerprint.dialect)
    return endpoint.identified(None)


async def aidentify(clients: Clients, endpoint: Endpoint, headers: Mapping[str, str]) -> Endpoint:
    """Async twin of :func:`identify`."""
    for fingerprint in FINGERPRINTS:
        answer = await _aprobe(clients, endpoint.root + fingerprint.route, headers)
        if fingerprint.matches(answer):
            return endpoint.identified(fingerprint.dialect)
    return endpoint.identified(None)


def _probe_call(headers: Mapping[str, str]) -> CallState:
    """An identification GET: a few seconds and a small body, whatever the server does."""
    limits = Limits(
        timeout=_PROBE_TIMEOUT, request_timeout=_PROBE_TIMEOUT, max_response_bytes=_PROBE_BYTES
    )
    return CallState(headers, ScaleUpPolicy(), 0, limits)


def _probe(clients: Clients, url: str, headers: Mapping[str, str]) -> Any:
    call = _probe_call(headers)
    try:
        with call.scope, clients.client().stream("GET", url, headers=headers) as got:
            if got.status_code != 200:
                return None
            return loads(read(got, call.answer(got), call))
    except (*FAILURES, ValueError):
        return None


async def _aprobe(clients: Clients, url: str, headers: Mapping[str, str]) -> Any:
    call = _probe_call(headers)
    try:
        with timer(call):
            got = await clients.async_client().send(
                clients.async_client().build_request("GET", url, headers=headers), stream=True
            )
        try:
            if got.status_code != 200:
                return None
            return loads(await aread(got, call.answer(got), call))
        finally:
            await got.aclose()
    except (*FAILURES, ValueError):
        return None
