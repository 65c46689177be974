"""Data URIs and http(s) URLs as users write them: the one data-URI parser and the one URL
check of the package (image helpers, document helpers, message translation). Pure: no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DATA_URI_SHAPE = "data:<mime>;base64,<data>"


@dataclass(frozen=True, slots=True)
class DataUri:
    """A ``data:`` URI taken apart (its payload is not decoded or copied)."""

    mime: str | None
    """The declared media type, lowercased, without parameters (None: none declared)."""
    payload: str
    """The base64 text, as given."""
    canonical: bool
    """Written exactly as ``data:<mime>;base64,``: nothing to rewrite."""


def parse_data_uri(uri: str, kind: str) -> DataUri:
    """``uri`` taken apart; raises ValueError naming ``kind`` ("an image", "a file") unless it
    is a base64 data URI."""
    header, sep, payload = uri.partition(",")
    lowered = header.lower()
    if not sep or not lowered.startswith("data:") or not lowered.endswith(";base64"):
        raise ValueError(f"{kind} data URI must look like {DATA_URI_SHAPE}")
    mime = header[len("data:") : -len(";base64")].split(";", 1)[0].strip().lower() or None
    return DataUri(mime, payload, canonical=header == f"data:{mime};base64")


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]{0,15}):")


def scheme_of(source: str) -> str:
    """The lowercased URI scheme of a source a user passed ("" for a path)."""
    match = _SCHEME.match(source)
    return match.group(1).lower() if match else ""


def check_http_url(url: Any, kind: str) -> str:
    """``url`` if it is an http(s) URL with a host; raises ValueError naming ``kind`` ("image",
    "file") otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError(f"empty {kind} URL")
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        raise ValueError(
            f"{kind} URL scheme {scheme or '(none)'!r} is not supported: only http(s) URLs "
            "with a host, and data URIs in the block's data field"
        )
    if not urlsplit(url).hostname:
        raise ValueError(f"{kind} URL {url[:80]!r} has no host")
    return url
