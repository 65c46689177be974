"""A reverse proxy on 127.0.0.1 that records what passes through it, both ways.

Put between the package and a real server, it shows the request body the server received and
the bytes the server answered (SSE events included), so that a test can assert on what was
sent, not only on what came back. Responses are relayed as they arrive (streams stay streams);
each connection serves one exchange (HTTP/1.0), which the package's clients handle like any
server that closes connections.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from tests.support.http_host import LoopbackHost

_FORWARDED = ("content-type", "authorization", "accept")


@dataclass
class Exchange:
    method: str
    path: str
    body: bytes
    status: int = 0
    answer: bytearray = field(default_factory=bytearray)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def json_answer(self) -> Any:
        """The answer of a request that was not streamed, parsed."""
        return json.loads(bytes(self.answer))

    def events(self) -> list[dict[str, Any]]:
        """The answer's SSE ``data:`` events, parsed (``[DONE]`` left out)."""
        lines = bytes(self.answer).decode().splitlines()
        data = [line[len("data:") :].strip() for line in lines if line.startswith("data:")]
        return [json.loads(item) for item in data if item != "[DONE]"]


class RecordingProxy(LoopbackHost):
    """Forwards everything to ``upstream`` (``http://host:port``); ``exchanges`` in order."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self._relay()

            def do_POST(self) -> None:
                self._relay()

            def _relay(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                exchange = Exchange(self.command, self.path, self.rfile.read(length))
                with proxy._lock:
                    proxy.exchanges.append(exchange)
                headers = {k: v for k, v in self.headers.items() if k.lower() in _FORWARDED}
                host = target.hostname or "127.0.0.1"
                upstream = http.client.HTTPConnection(host, target.port, timeout=300)
                try:
                    upstream.request(self.command, self.path, exchange.body or None, headers)
                    response = upstream.getresponse()
                    exchange.status = response.status
                    self.send_response(response.status)
                    for key, value in response.getheaders():
                        if key.lower() in ("content-type", "content-length"):
                            self.send_header(key, value)
                    self.end_headers()
                    while piece := response.read1(65536):
                        exchange.answer += piece
                        self.wfile.write(piece)
                        self.wfile.flush()
                finally:
                    upstream.close()

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(Handler)
        self.url = f"{self.base}/v1"

    def chat_requests(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.path.endswith("/chat/completions")]
