"""Keep a request's secrets out of everything the package raises or logs. Pure: no I/O.

Servers echo what they were sent: a 401 or 503 body may quote the ``Authorization`` header, a
proxy's error page may print the request. The transport makes a :class:`Redactor` from the
headers of each request and passes every server message, error text and log line through it,
so that the token appears in no ``str``, ``repr`` or traceback, whatever the server wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 4
"""Shorter "secrets" (``api_key="x"`` for a local server) are placeholders, not credentials:
replacing them would mangle every message that contains the letter."""
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-hf-token", "cookie"}
)
_SCHEME = re.compile(r"^(?:bearer|basic|token)\s+", re.IGNORECASE)


class Redactor:
    """Replaces each secret (as written, JSON-escaped or URL-encoded) with ``[REDACTED]``."""

    __slots__ = ("_pattern",)

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {
            form
            for secret in secrets
            if len(secret) >= MIN_SECRET_LENGTH
            for form in _written_forms(secret)
        }
        # Longest first, so that "Bearer <token>" goes whole before "<token>" alone.
        alternatives = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if forms else None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Redactor:
        """A redactor for the credentials among a request's headers."""
        secrets = []
        for name, value in headers.items():
            if name.lower() in _SECRET_HEADERS and value:
                secrets.append(value)
                secrets.append(_SCHEME.sub("", value))
        return cls(secrets)

    def __bool__(self) -> bool:
        return self._pattern is not None

    def __call__(self, text: str) -> str:
        """``text`` without the secrets."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def data(self, data: bytes) -> bytes:
        """``data`` (a body of any encoding close to ASCII) without the secrets."""
        if self._pattern is None or not data:
            return data
        return self(data.decode("latin-1")).encode("latin-1")

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of ``headers`` with credential headers and any secret in a value masked."""
        return {
            name: REDACTED if name.lower() in _SECRET_HEADERS else self(value)
            for name, value in headers.items()
        }


NO_SECRETS = Redactor(())
"""For requests that carry no credentials."""


def shown_url(url: str) -> str:
    """``url`` as errors show it: scheme, host, port and path, with no user information and
    every query value replaced (``?api_key=...`` is a secret the headers do not reveal)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    query = urlencode([(name, REDACTED) for name, _ in parse_qsl(parts.query, True)], safe="[]")
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _written_forms(secret: str) -> set[str]:
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace("/", "\\/"),
        quote(secret, safe=""),
        quote_plus(secret),
    }
