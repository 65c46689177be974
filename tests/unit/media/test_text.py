"""Text files (``_media.text``): one text part naming the file, within its limit, UTF-8 only."""

from __future__ import annotations

import pytest

from langchain_hf_vlm import InvalidContentError
from langchain_hf_vlm._media.text import text_file_part


def test_a_text_file_is_one_text_part_naming_it() -> None:
    assert text_file_part(
        "\ufeffa,b\n1,2\n".encode(), mime_type="text/csv", name="t.csv", max_bytes=100
    ) == ("File t.csv (text/csv):\na,b\n1,2\n")


def test_text_file_limits() -> None:
    with pytest.raises(InvalidContentError, match=r"12 bytes, over the limit of 10"):
        text_file_part(b"hello world!", mime_type="text/plain", name="a", max_bytes=10)
    with pytest.raises(InvalidContentError, match="text file a: it is not UTF-8 text"):
        text_file_part(b"caf\xe9", mime_type="text/plain", name="a", max_bytes=10)
