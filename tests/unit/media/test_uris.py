"""The one data-URI parser and URL check, and what the translation does with them."""

from __future__ import annotations

import base64

import pytest
from langchain_core.messages import HumanMessage

from langchain_hf_vlm._media.uris import check_http_url, parse_data_uri, scheme_of
from langchain_hf_vlm._request.messages import to_wire_messages
from tests.support.pngs import tiny_png


def test_a_data_uri_is_taken_apart_without_touching_its_payload() -> None:
    parsed = parse_data_uri("data:Image/PNG;charset=x;base64,AAAA", "an image")
    assert (parsed.mime, parsed.payload, parsed.canonical) == ("image/png", "AAAA", False)
    assert parse_data_uri("data:image/png;base64,AAAA", "an image").canonical
    assert parse_data_uri("data:;base64,AAAA", "a file").mime is None


@pytest.mark.parametrize(
    "uri", ["data:image/png,AAAA", "data:image/png;base64", "image/png;base64,A"]
)
def test_what_is_not_a_base64_data_uri_is_refused_by_kind(uri: str) -> None:
    with pytest.raises(ValueError, match=r"^a file data URI must look like data:<mime>;base64"):
        parse_data_uri(uri, "a file")


def test_schemes_and_urls() -> None:
    assert scheme_of("HTTPS://h/x.png") == "https"
    assert scheme_of("/tmp/a:b.png") == ""
    assert check_http_url("https://h.example/a.png", "image") == "https://h.example/a.png"
    with pytest.raises(ValueError, match=r"^empty image URL"):
        check_http_url("  ", "image")
    with pytest.raises(ValueError, match="file URL scheme 'ftp' is not supported: only http"):
        check_http_url("ftp://h/a.pdf", "file")
    with pytest.raises(ValueError, match="has no host"):
        check_http_url("https://", "image")


def test_an_uppercase_base64_marker_is_sent_normalized() -> None:
    data = base64.b64encode(tiny_png()).decode()
    block = {"type": "image_url", "image_url": {"url": f"data:image/png;BASE64,{data}"}}
    wire = to_wire_messages([HumanMessage(content=[block])])
    assert wire.images[0].url == f"data:image/png;base64,{data}"
