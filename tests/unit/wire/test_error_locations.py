"""How errors show a request's URL (pure): host, port and path, never a query value or the
user information of the URL."""

from __future__ import annotations

import pytest

from langchain_hf_vlm._servers.dialects import chat_completions_url
from langchain_hf_vlm._wire.redaction import shown_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8080/v1/chat/completions", "http://127.0.0.1:8080/v1/chat/completions"),
        ("https://router.huggingface.co/v1/chat/completions", None),
        (
            "https://user:pass@host.example:8443/v1/chat/completions?api-version=2024&key=s3cr3t",
            "https://host.example:8443/v1/chat/completions?api-version=[REDACTED]&key=[REDACTED]",
        ),
        ("http://[::1]:9000/v1/chat/completions", "http://[::1]:9000/v1/chat/completions"),
        ("http://host/p?flag", "http://host/p?flag=[REDACTED]"),
    ],
)
def test_shown_url(url: str, shown: str | None) -> None:
    assert shown_url(url) == (shown or url)


@pytest.mark.parametrize(
    ("base_url", "url"),
    [
        ("http://h:1", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1/", "http://h:1/v1/chat/completions"),
        ("http://h:1/v1/chat/completions", "http://h:1/v1/chat/completions"),
        ("http://h:1/openai?api-version=2", "http://h:1/openai/v1/chat/completions?api-version=2"),
        ("http://h:1/v1?key=k", "http://h:1/v1/chat/completions?key=k"),
    ],
)
def test_a_query_stays_at_the_end_of_the_chat_url(base_url: str, url: str) -> None:
    assert chat_completions_url(base_url) == url
