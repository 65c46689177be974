"""Client-side image fetching against a real HTTP server on 127.0.0.1, sync and async.

Also the image pipeline end to end: what the chat server receives when a model is given a
large photo, a URL to fetch, or more than the request limit.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import random
import select
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import pytest
from langchain_core.messages import HumanMessage
from PIL import Image

from langchain_hf_vlm import InvalidContentError, image_block
from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import json_bytes
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._request.messages import to_wire_messages
from tests.servers.chat_server import ChatServer
from tests.support.http_host import serving
from tests.support.loopback import make_model
from tests.support.polling import eventually


def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo_jpeg(size: tuple[int, int]) -> bytes:
    rnd = random.Random(size[0])
    noise = Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))
    base = Image.linear_gradient("L").resize(size).convert("RGB")
    return encode(Image.blend(base, noise, 0.2), "JPEG", quality=92)


SMALL_PNG = encode(Image.new("RGB", (32, 24), (10, 200, 10)), "PNG")
BIG_JPEG = photo_jpeg((1200, 900))
TRICKLE_BYTES = 2_000


class ImageHost(BaseHTTPRequestHandler):
    """Routes: each path is one way a remote image can be good or bad."""

    protocol_version = "HTTP/1.1"
    hits: ClassVar[Counter[str]] = Counter()
    streamed: ClassVar[Counter[str]] = Counter()
    hung_up: ClassVar[Counter[str]] = Counter()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        ImageHost.hits[self.path] += 1
        route = ROUTES.get(self.path)
        if route is None:
            self.reply(404, "text/plain", b"not found")
        else:
            route(self)

    def reply(self, status: int, content_type: str, body: bytes, length: int | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def endless(self) -> None:
        """An image/png body with no announced length that never ends."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(SMALL_PNG[:16])
        chunk = bytes(64 * 1024)
        try:
            for _ in range(2000):
                self.wfile.write(chunk)
                ImageHost.streamed[self.path] += len(chunk)
        except OSError:
            return

    def slow(self) -> None:
        """Answers after a minute, unless the client hangs up first (counted in ``hung_up``)."""
        readable, _, _ = select.select([self.connection], [], [], 60)
        if readable and not self.connection.recv(1, socket.MSG_PEEK):
            ImageHost.hung_up[self.path] += 1
            return
        with contextlib.suppress(OSError):
            self.reply(200, "image/png", SMALL_PNG)

    def trickle(self) -> None:
        """Announces a small image, then sends one byte every 50 ms (100 s in all)."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(TRICKLE_BYTES))
        self.end_headers()
        try:
            for _ in range(TRICKLE_BYTES):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            return


ROUTES: dict[str, Callable[[ImageHost], None]] = {
    "/small.png": lambda h: h.reply(200, "image/png", SMALL_PNG),
    "/photo.jpg": lambda h: h.reply(200, "image/jpeg; charset=binary", BIG_JPEG),
    "/page.html": lambda h: h.reply(200, "text/html", b"<html>hello</html>"),
    "/no-type": lambda h: h.reply(200, "", SMALL_PNG),
    "/lying.png": lambda h: h.reply(200, "image/png", b"<html>not an image at all</html>"),
    "/announced-huge.png": lambda h: h.reply(200, "image/png", b"", length=999_999_999),
    "/endless.png": ImageHost.endless,
    "/to-ftp": lambda h: h.redirect("ftp://127.0.0.1/small.png"),
    "/to-file": lambda h: h.redirect("file:///etc/passwd"),
    "/to-small": lambda h: h.redirect("/small.png"),
    "/loop": lambda h: h.redirect("/loop"),
    "/slow.png": ImageHost.slow,
    "/trickle.png": ImageHost.trickle,
    "/gone.png": lambda h: h.reply(410, "text/plain", b"gone"),
}


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    with serving(ImageHost) as url:
        yield url


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    ImageHost.hits.clear()
    ImageHost.streamed.clear()
    ImageHost.hung_up.clear()


@pytest.fixture(params=["sync", "async"])
def prepare(request: pytest.FixtureRequest) -> Callable[[ImagePipeline, WireMessages], None]:
    """Runs the pipeline through its sync or its async entry point."""
    if request.param == "sync":
        return lambda pipeline, wire: pipeline.prepare(wire)
    return lambda pipeline, wire: asyncio.run(pipeline.aprepare(wire))


# A generous timeout: a busy machine must not turn another failure into a timeout.
FETCH = ImageSettings(
    fetch_urls=True, fetch_timeout=30, fetch_max_bytes=1_000_000, fetch_allow_private=True
)


def fetched(
    prepare: Callable[[ImagePipeline, WireMessages], None],
    *urls: str,
    pipeline: ImagePipeline | None = None,
) -> list[str]:
    wire = to_wire_messages([HumanMessage(content=[image_block(url) for url in urls])])
    prepare(pipeline or ImagePipeline(FETCH), wire)
    (message,) = json.loads(json_bytes(wire.messages))
    return [part["image_url"]["url"] for part in message["content"]]


def decoded(url: str) -> bytes:
    return base64.b64decode(url.partition(",")[2])


def test_image_is_downloaded_and_inlined_unchanged(image_host: str, prepare: Any) -> None:
    assert fetched(prepare, f"{image_host}/small.png") == [
        "data:image/png;base64," + base64.b64encode(SMALL_PNG).decode()
    ]


def test_fetched_image_goes_through_the_same_sizing(image_host: str, prepare: Any) -> None:
    pipeline = ImagePipeline(
        ImageSettings(fetch_urls=True, max_side=300, max_pixels=None, fetch_allow_private=True)
    )
    (url,) = fetched(prepare, f"{image_host}/photo.jpg", pipeline=pipeline)
    assert url.startswith("data:image/jpeg;base64,")
    assert Image.open(io.BytesIO(decoded(url))).size == (300, 225)
    assert (pipeline.stats.fetched, pipeline.stats.decoded) == (1, 1)


def test_same_url_is_fetched_once_per_request_and_then_cached(
    image_host: str, prepare: Any
) -> None:
    pipeline = ImagePipeline(FETCH)
    url = f"{image_host}/small.png"
    first = fetched(prepare, url, url, pipeline=pipeline)
    second = fetched(prepare, url, pipeline=pipeline)
    assert ImageHost.hits["/small.png"] == 1
    assert first == second * 2
    assert (pipeline.stats.fetched, pipeline.stats.cache_hits) == (1, 1)


def test_redirect_to_http_is_followed(image_host: str, prepare: Any) -> None:
    (url,) = fetched(prepare, f"{image_host}/to-small")
    assert decoded(url) == SMALL_PNG


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/page.html", r"content type 'text/html', not an image"),
        ("/no-type", r"content type '\(none\)', not an image"),
        ("/lying.png", r"not an image format Pillow can read"),
        ("/gone.png", r"the server answered 410"),
        ("/announced-huge.png", r"it is 1000.00 MB, over the download limit of 1.00 MB"),
        ("/endless.png", r"the download passed the limit of 1.00 MB \(fetch_max_bytes\)"),
        ("/to-ftp", r"redirects to ftp://127.0.0.1/small.png; only http and https"),
        ("/to-file", r"redirects to file://127.0.0.1/etc/passwd; only http and https"),
        ("/loop", r"more than 5 redirects"),
    ],
)
def test_bad_downloads_are_clear_errors(
    image_host: str, prepare: Any, path: str, message: str
) -> None:
    with pytest.raises(
        InvalidContentError,
        match=rf"^message 0, content block 1: image 2 of the request \(http.*{message}",
    ):
        fetched(prepare, f"{image_host}/small.png", f"{image_host}{path}")


def test_size_cap_stops_the_download_early(image_host: str, prepare: Any) -> None:
    with pytest.raises(InvalidContentError, match="fetch_max_bytes"):
        fetched(prepare, f"{image_host}/endless.png")
    assert eventually(lambda: ImageHost.streamed["/endless.png"] >= 1_000_000)
    # The server saw a broken connection long before its 128 MB were sent.
    assert ImageHost.streamed["/endless.png"] < 20_000_000


@pytest.mark.parametrize("path", ["/slow.png", "/trickle.png"])
def test_slow_server_times_out(image_host: str, prepare: Any, path: str) -> None:
    # Both would deliver the image, after 60 s and 100 s: only the timeout ends them (a wait,
    # or the whole download) with this error.
    pipeline = ImagePipeline(
        ImageSettings(fetch_urls=True, fetch_timeout=1, fetch_allow_private=True)
    )
    with pytest.raises(InvalidContentError, match=r"took longer than 1 s \(fetch_timeout\)"):
        fetched(prepare, f"{image_host}{path}", pipeline=pipeline)


def test_urls_go_to_the_server_unless_fetching_is_on(image_host: str, prepare: Any) -> None:
    url = f"{image_host}/small.png"
    assert fetched(prepare, url, pipeline=ImagePipeline(ImageSettings())) == [url]
    assert ImageHost.hits["/small.png"] == 0


# ---------------------------------------------------------------- through the model


def _sent_image_urls(server: ChatServer) -> list[str]:
    (request,) = server.requests
    assert request.json is not None
    return [
        part["image_url"]["url"]
        for message in request.json["messages"]
        if isinstance(message["content"], list)
        for part in message["content"]
        if part["type"] == "image_url"
    ]


@pytest.mark.parametrize("dialect", ["tgi"])
def test_large_photo_reaches_the_server_resized(server: ChatServer) -> None:
    photo = photo_jpeg((3000, 2000))
    model = make_model(server)
    model.invoke([HumanMessage(content=["what is this?", image_block(photo)])])
    (url,) = _sent_image_urls(server)
    sent = Image.open(io.BytesIO(decoded(url)))
    assert (sent.format, sent.width * sent.height <= 1120 * 1120) == ("JPEG", True)
    assert abs(sent.width / sent.height - 1.5) < 0.01
    assert len(server.requests[0].body) < 2_000_000


@pytest.mark.parametrize("dialect", ["vllm"])
async def test_model_fetches_urls_when_asked(server: ChatServer, image_host: str) -> None:
    async with make_model(server, fetch_image_urls=True, image_fetch_allow_private=True) as model:
        await model.ainvoke([HumanMessage(content=[image_block(f"{image_host}/small.png")])])
    assert _sent_image_urls(server) == [
        "data:image/png;base64," + base64.b64encode(SMALL_PNG).decode()
    ]


@pytest.mark.parametrize("dialect", ["tgi"])
def test_request_over_tgi_limit_is_refused_before_sending(server: ChatServer) -> None:
    model = make_model(server, image_max_pixels=None, image_max_side=None)
    photos = [image_block(photo_jpeg((1200 + step, 900))) for step in range(0, 40, 10)]
    with pytest.raises(InvalidContentError, match=r"over the limit of 2.00 MB .*image \d \("):
        model.invoke([HumanMessage(content=["compare", *photos])])
    assert server.requests == []


def test_one_failed_download_stops_the_others(image_host: str) -> None:
    # The slow image would take a minute and its timeout is longer: only the 410 of the other
    # can end the request early, by abandoning the slow download (the host sees the hang-up).
    pipeline = ImagePipeline(
        ImageSettings(fetch_urls=True, fetch_timeout=120, fetch_allow_private=True)
    )
    wire = to_wire_messages(
        [
            HumanMessage(
                content=[
                    image_block(f"{image_host}/slow.png"),
                    image_block(f"{image_host}/gone.png"),
                ]
            )
        ]
    )
    with pytest.raises(InvalidContentError, match=r"image 2 .*answered 410"):
        asyncio.run(asyncio.wait_for(pipeline.aprepare(wire), 30))  # a hang guard, 30 s
    assert eventually(lambda: ImageHost.hung_up["/slow.png"] == 1)


# ---------------------------------------------------------------- private addresses (SSRF)

GUARDED = ImageSettings(fetch_urls=True, fetch_timeout=2)


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "169.254.169.254", "10.0.0.1"]
)
def test_private_addresses_are_refused_by_default(image_host: str, prepare: Any, host: str) -> None:
    url = image_host.replace("127.0.0.1", host) + "/small.png"
    with pytest.raises(InvalidContentError, match="image_fetch_allow_private=True") as info:
        fetched(prepare, url, pipeline=ImagePipeline(GUARDED))
    assert "refused" in str(info.value)
    assert sum(ImageHost.hits.values()) == 0  # nothing reached the host


def test_the_model_refuses_a_private_image_url_before_sending(
    image_host: str, server: ChatServer
) -> None:
    model = make_model(server, fetch_image_urls=True)
    blocks = [{"type": "text", "text": "hi"}, {"type": "image", "url": f"{image_host}/small.png"}]
    with pytest.raises(InvalidContentError, match="loopback"):
        model.invoke([HumanMessage(content=blocks)])  # type: ignore[arg-type]
    assert server.requests == [] and sum(ImageHost.hits.values()) == 0


def test_opting_in_reaches_a_local_image_host(image_host: str, prepare: Any) -> None:
    assert fetched(prepare, f"{image_host}/small.png")[0].startswith("data:image/png")
