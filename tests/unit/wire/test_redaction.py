"""A request's secrets never reach an error or a log line, however the server wrote them."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from langchain_hf_vlm._wire.redaction import NO_SECRETS, REDACTED, Redactor

TOKEN = "hf_a/b+c=SecretToken99"


@pytest.mark.parametrize(
    "written",
    [
        pytest.param(f"Authorization: Bearer {TOKEN}", id="header"),
        pytest.param(json.dumps({"auth": f"Bearer {TOKEN}"}), id="json"),
        pytest.param(TOKEN.replace("/", "\\/"), id="escaped-slash"),
        pytest.param(f"?token={quote(TOKEN, safe='')}", id="url-encoded"),
        pytest.param(f"{TOKEN}{TOKEN}", id="twice"),
    ],
)
def test_every_written_form_is_redacted(written: str) -> None:
    redact = Redactor.from_headers({"Authorization": f"Bearer {TOKEN}"})
    assert TOKEN not in redact(written)
    assert REDACTED in redact(written)
    assert TOKEN.encode() not in redact.data(written.encode())


def test_credential_headers_are_masked() -> None:
    redact = Redactor.from_headers({"x-api-key": TOKEN, "accept": "application/json"})
    assert redact.headers({"X-Api-Key": TOKEN, "echo": f"k={TOKEN}"}) == {
        "X-Api-Key": REDACTED,
        "echo": f"k={REDACTED}",
    }


def test_placeholder_keys_are_left_alone() -> None:
    """api_key="x" for a local server is no secret; redacting it would mangle every message."""
    redact = Redactor.from_headers({"authorization": "Bearer x"})
    assert redact("max tokens exceeded") == "max tokens exceeded"


def test_no_secrets() -> None:
    assert not NO_SECRETS
    assert NO_SECRETS(f"Bearer {TOKEN}") == f"Bearer {TOKEN}"
