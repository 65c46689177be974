"""The check of httpx's private parts (``_wire.httpx_private``): what it accepts, what it names
when something changed, and that it says so once."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._wire import httpx_private
from langchain_hf_vlm._wire.httpx_private import (
    BACKEND_METHODS,
    CLIENT_METHODS,
    POOL_METHODS,
    changed,
)


@pytest.mark.parametrize("client_class", [httpx.Client, httpx.AsyncClient])
def test_the_httpx_tested_passes_every_check(client_class: type) -> None:
    client: Any = client_class()
    pool = client._transport._pool
    assert changed(client_class, CLIENT_METHODS) is None
    assert changed(type(pool), POOL_METHODS, exact=False) is None
    assert changed(type(pool._network_backend), BACKEND_METHODS) is None


class _Gone:
    """A class without the methods expected."""


class _Renamed:
    def _transport_for_url(self, target: Any) -> Any:
        return target


class _Static:
    _transport_for_url = staticmethod(lambda url: url)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (_Gone, "_Gone._transport_for_url is gone"),
        (_Renamed, "_Renamed._transport_for_url takes (self, target), not (self, url)"),
        (_Static, "_Static._transport_for_url takes (url), not (self, url)"),
    ],
)
def test_a_change_is_named(cls: type, expected: str) -> None:
    change = changed(cls, CLIENT_METHODS)
    assert change is not None
    assert change.endswith(expected)
    assert change.startswith(f"{__name__}.")


def test_at_least_the_names_when_not_exact() -> None:
    class Pool:
        def __init__(self, ssl_context: Any = None, network_backend: Any = None) -> None:
            pass

    class OldPool:
        def __init__(self, ssl_context: Any = None) -> None:
            pass

    assert changed(Pool, POOL_METHODS, exact=False) is None
    assert changed(Pool, POOL_METHODS) is not None
    assert changed(OldPool, POOL_METHODS, exact=False) == (
        f"{__name__}.test_at_least_the_names_when_not_exact.<locals>.OldPool.__init__ takes "
        "(self, ssl_context), not (self, network_backend)"
    )


def test_a_changed_client_is_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    class Changed(httpx.Client):
        def _build_redirect_request(
            self, request: httpx.Request, response: httpx.Response, method: str = "GET"
        ) -> httpx.Request:
            return super()._build_redirect_request(request, response)

    caplog.set_level(logging.DEBUG, logger="langchain_hf_vlm")
    with Changed() as client, httpx.Client() as plain:
        assert [httpx_private.sends_directly(client) for _ in range(3)] == [False] * 3
        assert httpx_private.sends_directly(plain)
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert "Changed._build_redirect_request takes (self, request, response, method)" in (
        record.getMessage()
    )
