"""What an image block leaves in the translated messages, and how it is written into the body.

Translation (``_messages.to_wire_messages``) puts one :class:`ImageRef` in a message's
``content`` list where the image goes, and lists every ref in :attr:`WireMessages.images`. The
ref knows where it came from (message and content block of the input) and what it is (the URL
or data URI as given); the image pipeline fills in what is sent (:attr:`ImageRef.prepared`);
:func:`json_bytes` writes each ref's parts where the ref stands. Nothing walks the messages to
find images, and nothing is rewritten and restored.

An image ref is one kind of :class:`Slot`. A slot may stand for any number of parts (text and
images), all written where the one slot stood: that is how one source block (a PDF, a video)
can become a label and an image per page or frame once prepared, with no other walk.
"""

from __future__ import annotations

import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from langchain_hf_vlm.errors import InvalidContentError

WireMessage = dict[str, Any]
WirePart = dict[str, Any]


class ImageProblem(Exception):
    """What is wrong with one image, before it is known which image of the request it is.

    Raised by the codec, the downloader and the pipeline's decoding; turned into an
    :class:`InvalidContentError` naming the image by :meth:`ImageRef.naming_errors` (or by the
    public helper that called the codec), where it is caught.
    """


class Slot(ABC):
    """A place in a message's content list that becomes chat-completion parts when the body
    is written: one part for an image, several for a source expanded at preparation time."""

    @abstractmethod
    def parts(self) -> list[WirePart]:
        """The parts that stand where this slot does, in order (at least one)."""


@dataclass(eq=False)
class ImageRef(Slot):
    """One image of the request: where it came from, what it is, and what is sent for it.

    Attributes:
        message_index: Index of the message in the input that holds the image block.
        block_index: Index of the image block in that message's content.
        number: Position (1-based) among the images of the request.
        url: The image as given: an http(s) URL or a normalised ``data:`` URI.
        detail: OpenAI's ``detail`` hint, sent along when given.
        prepared: The URL or data URI to send, once the image pipeline has prepared it (None:
            ``url`` as it is).
        original: The image's stored width and height, once the pipeline has read them (None:
            not known, e.g. a URL the server fetches).
        sent: The width and height of the image sent, recorded by the pipeline where it
            computes them (None: not known, e.g. a URL the server fetches).
    """

    message_index: int
    block_index: int
    number: int
    url: str
    detail: Any = None
    prepared: str | None = field(default=None, repr=False)
    original: tuple[int, int] | None = field(default=None, repr=False)
    sent: tuple[int, int] | None = field(default=None, repr=False)

    @property
    def sent_url(self) -> str:
        """The URL or data URI that goes on the wire."""
        return self.url if self.prepared is None else self.prepared

    def parts(self) -> list[WirePart]:
        """The chat-completion content parts that stand where this ref does."""
        image_url: dict[str, Any] = {"url": self.sent_url}
        if self.detail is not None:
            image_url["detail"] = self.detail
        return [{"type": "image_url", "image_url": image_url}]

    def describe(self) -> str:
        """The image's source for an error message: its URL, or its data URI's type and size."""
        url = self.url
        if not url.startswith("data:"):
            return shorten(url)
        start = url.index(",") + 1
        return f"{url[: min(start - 1, 40)]}, {megabytes((len(url) - start) * 3 // 4)}"

    def error(self, problem: object) -> InvalidContentError:
        """An error naming this image by its place in the input and in the request."""
        return InvalidContentError(
            f"image {self.number} of the request ({self.describe()}): {problem}",
            message_index=self.message_index,
            block_index=self.block_index,
            image_number=self.number,
        )

    @contextmanager
    def naming_errors(self) -> Iterator[None]:
        """A context in which an :class:`ImageProblem` becomes an error naming this image."""
        try:
            yield
        except ImageProblem as problem:
            raise self.error(problem) from problem.__cause__


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """What the image pipeline makes of one image, and keeps in its cache: the URL or data URI
    to send, and the sizes it read or computed on the way (None: not known)."""

    url: str
    original: tuple[int, int] | None
    sent: tuple[int, int] | None


# ---- writing JSON that holds slots

_VERBATIM_MIN_CHARS = 16_384
"""Data URIs from this length on are copied into the JSON; shorter ones cost less to encode."""
_SLOT_MARK = f"<image-slot-{secrets.token_hex(16)}>"
"""Stands in for a slot while the rest of the JSON is encoded; random, so that no text of a
request can contain it."""
_QUOTED_MARK = f'"{_SLOT_MARK}"'


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON, each slot written as its parts, large data URIs copied in.

    ``json.dumps`` inspects every character of a string for escaping: about 2 ms per MB of
    base64, as much as sending it over loopback. A data URI is base64 behind a validated mime
    type and needs no escaping, so it is copied instead; one that is not plain ASCII without
    quotes or backslashes (impossible after translation) is encoded as usual.
    """
    text, spliced = _encode(value)
    if not spliced:
        return text.encode()
    pieces = text.split(_QUOTED_MARK)
    out: list[str] = [pieces[0]]
    for parts, piece in zip(spliced, pieces[1:], strict=True):
        out += _parts_pieces(parts)
        out.append(piece)
    return "".join(out).encode()


def json_size(value: Any) -> int:
    """The length of :func:`json_bytes` of ``value``, without copying any image data."""
    text, spliced = _encode(value)
    size = len(text.encode()) - len(_QUOTED_MARK) * len(spliced)
    return size + sum(_utf8_length(piece) for parts in spliced for piece in _parts_pieces(parts))


def _encode(value: Any) -> tuple[str, list[list[WirePart]]]:
    """The JSON of ``value`` with a mark where the parts of a slot are to be spliced in, and
    those parts in order. A slot of one part without a large data URI is encoded in place."""
    spliced: list[list[WirePart]] = []

    def resolve(obj: object) -> object:
        if not isinstance(obj, Slot):
            raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")
        parts = obj.parts()
        if len(parts) == 1 and not _large_image(parts[0]):
            return parts[0]
        spliced.append(parts)
        return _SLOT_MARK

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=resolve), spliced


def _parts_pieces(parts: list[WirePart]) -> list[str]:
    """The JSON of parts, comma-separated, as pieces to join (large data URIs whole)."""
    pieces: list[str] = []
    for part in parts:
        if pieces:
            pieces.append(",")
        image = part["image_url"] if _large_image(part) else None
        if image is None or not _verbatim(image["url"]):
            pieces.append(_dumps(part))
            continue
        pieces += ['{"type":"image_url","image_url":{"url":"', image["url"], '"']
        if len(image) == 1:
            pieces.append("}}")
        else:
            rest = _dumps({key: value for key, value in image.items() if key != "url"})
            pieces.append(f",{rest[1:-1]}}}}}")
    return pieces


def _large_image(part: WirePart) -> bool:
    return part.get("type") == "image_url" and len(part["image_url"]["url"]) >= _VERBATIM_MIN_CHARS


def _verbatim(url: str) -> bool:
    """Whether a URL can be copied into JSON as it is (each check scans it once)."""
    return url.startswith("data:") and url.isascii() and '"' not in url and "\\" not in url


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# ---- small helpers for messages about images


def shorten(url: str) -> str:
    return url if len(url) <= 100 else url[:97] + "..."


def megabytes(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    if size < 100_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.2f} MB"
