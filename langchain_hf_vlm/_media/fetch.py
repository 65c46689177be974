"""Downloading image URLs on the client (``fetch_urls``), and document and video URLs
(always: no chat-completion server reads them): limits, timeouts, redirects, and public
addresses only unless ``fetch_allow_private`` (:mod:`langchain_hf_vlm._wire.addresses`).

Everything but the I/O call is shared by the sync and the async path. Problems are
:class:`~langchain_hf_vlm._media.refs.ImageProblem`: the caller names the image.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio.to_thread

from langchain_hf_vlm._http import httpx
from langchain_hf_vlm._media.refs import ImageProblem, megabytes, shorten
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._wire.addresses import (
    AddressRefused,
    check_request_host,
    refuse_private_addresses,
)

_REDIRECTS = 5


@dataclass(frozen=True)
class Wanted:
    """What a download must be.

    Attributes:
        what: How errors name it ("an image").
        content_types: Content types accepted, by prefix (None: any; the bytes decide).
        max_bytes: Largest download (None: the settings' ``fetch_max_bytes``).
        limit_name: The setting errors name for that limit.
    """

    what: str = "an image"
    content_types: tuple[str, ...] | None = ("image/",)
    max_bytes: int | None = None
    limit_name: str = "fetch_max_bytes"


IMAGE = Wanted()


def client(settings: ImageSettings) -> httpx.Client:
    """An HTTP client for the downloads of one request (public addresses only, unless
    ``fetch_allow_private``)."""
    hooks = [_refuse_redirect]
    if not settings.fetch_allow_private:
        hooks.append(check_request_host)  # by name: for hosts reached through a proxy
    fetcher = httpx.Client(**_client_options(settings, hooks))
    if not settings.fetch_allow_private:
        refuse_private_addresses(fetcher)  # by the address connected to
    return fetcher


def async_client(settings: ImageSettings) -> httpx.AsyncClient:
    """An async HTTP client for the downloads of one request (as :func:`client`)."""
    hooks = [_arefuse_redirect]
    if not settings.fetch_allow_private:
        hooks.append(_acheck_request_host)
    fetcher = httpx.AsyncClient(**_client_options(settings, hooks))
    if not settings.fetch_allow_private:
        refuse_private_addresses(fetcher)
    return fetcher


def fetch(client: httpx.Client, url: str, settings: ImageSettings, wanted: Wanted = IMAGE) -> bytes:
    """The bytes of the image (or what ``wanted`` says) at ``url``."""
    download = _Download(settings, wanted)
    try:
        with client.stream("GET", url) as response:
            download.start(response)
            for chunk in response.iter_bytes():
                download.add(chunk)
    except (httpx.HTTPError, _RedirectRefused) as exc:
        raise download.failed(exc) from exc
    return download.data()


async def afetch(
    client: httpx.AsyncClient, url: str, settings: ImageSettings, wanted: Wanted = IMAGE
) -> bytes:
    """The bytes of the image (or what ``wanted`` says) at ``url`` (async)."""
    download = _Download(settings, wanted)
    try:
        async with client.stream("GET", url) as response:
            download.start(response)
            async for chunk in response.aiter_bytes():
                download.add(chunk)
    except (httpx.HTTPError, _RedirectRefused) as exc:
        raise download.failed(exc) from exc
    return download.data()


def _client_options(settings: ImageSettings, request_hooks: list[Any]) -> dict[str, Any]:
    return {
        "timeout": settings.fetch_timeout,
        "follow_redirects": True,
        "max_redirects": _REDIRECTS,
        "event_hooks": {"request": request_hooks},
        "headers": {"Accept": "image/*, application/pdf, video/*, text/*;q=0.5, */*;q=0.1"},
    }


class _Download:
    """The checks of one image download, fed by the sync or the async client."""

    def __init__(self, settings: ImageSettings, wanted: Wanted) -> None:
        self.wanted = wanted
        self.limit = settings.fetch_max_bytes if wanted.max_bytes is None else wanted.max_bytes
        self.timeout = settings.fetch_timeout
        # httpx bounds each network wait; a server trickling bytes is bounded here.
        self.deadline = time.monotonic() + settings.fetch_timeout
        self.chunks: list[bytes] = []
        self.size = 0

    def start(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise ImageProblem(f"downloading it failed: the server answered {response.status_code}")
        content_type = response.headers.get("content-type", "")
        accepted = self.wanted.content_types
        if accepted is not None and not (
            content_type.split(";", 1)[0].strip().lower().startswith(accepted)
        ):
            raise ImageProblem(
                f"the server sent content type {content_type or '(none)'!r}, not {self.wanted.what}"
            )
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            raise ImageProblem(
                f"it is {megabytes(int(length))}, over the download limit of "
                f"{megabytes(self.limit)} ({self.wanted.limit_name})"
            )

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise ImageProblem(
                f"the download passed the limit of {megabytes(self.limit)} "
                f"({self.wanted.limit_name})"
            )
        if time.monotonic() > self.deadline:
            raise self.timed_out()
        self.chunks.append(chunk)

    def data(self) -> bytes:
        return b"".join(self.chunks)

    def timed_out(self) -> ImageProblem:
        return ImageProblem(f"downloading it took longer than {self.timeout:g} s (fetch_timeout)")

    def failed(self, exc: Exception) -> ImageProblem:
        if isinstance(exc, AddressRefused):
            return ImageProblem(f"downloading it was refused: {exc}")
        if isinstance(exc, _RedirectRefused):
            return ImageProblem(
                f"it redirects to {shorten(exc.url)}; only http and https redirects are followed"
            )
        if isinstance(exc, httpx.TimeoutException):
            return self.timed_out()
        if isinstance(exc, httpx.TooManyRedirects):
            return ImageProblem(f"downloading it failed: more than {_REDIRECTS} redirects")
        return ImageProblem(f"downloading it failed: {type(exc).__name__}: {exc}")


class _RedirectRefused(Exception):
    """A redirect led to a scheme other than http(s); raised from inside the HTTP client."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def _refuse_redirect(request: httpx.Request) -> None:
    if request.url.scheme not in ("http", "https"):
        raise _RedirectRefused(str(request.url))


async def _arefuse_redirect(request: httpx.Request) -> None:
    _refuse_redirect(request)


async def _acheck_request_host(request: httpx.Request) -> None:
    await anyio.to_thread.run_sync(check_request_host, request)
