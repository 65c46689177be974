"""The code a user copies from the docs runs, against a real server on 127.0.0.1.

Every fenced ``python`` block of each page in ``PAGES`` runs, the blocks of a page in order and
in one namespace (as a notebook runs its cells), with ``BASE_URL`` and ``MODEL`` set the way a
user of a local server sets them: the snippets read them, as they read ``HF_TOKEN`` for the
router. A block that truly needs the live router is marked by an HTML comment
``<!-- no-test -->`` on the line just before its fence. Blocks added later run without any
change here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.servers.schema_server import SchemaServer

REPO = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "docs/integration.md"]
NO_TEST = "<!-- no-test -->"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(line number of the fence, code) of every ``python`` block not marked ``no-test``."""
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if before.strip() != NO_TEST:
            blocks.append((text.count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


def test_blocks_are_found_and_no_test_skips_one() -> None:
    page = (
        "intro\n```python\nx = 1\n```\n\n<!-- no-test -->\n```python\nlive()\n```\n"
        "```sh\nmake demo\n```\n```python\ny = x + 1\n```\n"
    )
    assert python_blocks(page) == [(2, "x = 1\n"), (13, "y = x + 1\n")]


@pytest.mark.parametrize("page", PAGES)
def test_every_python_block_runs(
    page: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocks = python_blocks((REPO / page).read_text())
    assert blocks, f"{page} has no python block"
    with SchemaServer("vllm") as server:
        monkeypatch.setenv("BASE_URL", f"{server.url}/v1")
        monkeypatch.setenv("MODEL", "tiny/vlm")
        monkeypatch.chdir(tmp_path)
        namespace: dict[str, object] = {"__name__": "__main__"}
        for line, code in blocks:
            exec(compile(code, f"{page}, block at line {line}", "exec"), namespace)
    assert any(r.path.endswith("/chat/completions") for r in server.requests)
