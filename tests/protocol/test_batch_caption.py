"""examples/batch_caption.py (the hf-vlm-batch-caption command) end to end against the loopback
server: failures, restarts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.servers.chat_server import ChatServer, Fault
from tests.support.pngs import tiny_png

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "batch_caption.py"
CAPTION = "images=1; text=Describe this image in one sentence."
GOOD = [f"img{i}.png" for i in range(5)]

pytestmark = pytest.mark.parametrize("dialect", ["vllm"])


def _run(server: ChatServer, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            str(folder),
            "--base-url",
            server.url,
            "--model",
            "tiny/vlm",
            "--concurrency",
            "3",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def _chat_requests(server: ChatServer) -> int:
    return sum(r.path.endswith("/chat/completions") for r in server.requests)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    images = tmp_path / "images"
    (images / "sub").mkdir(parents=True)
    for index, name in enumerate(GOOD):
        (images / name).write_bytes(tiny_png(2 + index, 2))
    (images / "sub" / "broken.png").write_bytes(b"this is not an image")
    (images / "notes.txt").write_text("not an image file name, never sent")
    return images


def test_failures_are_recorded_and_a_restart_does_only_the_rest(
    server: ChatServer, folder: Path
) -> None:
    out = folder / "captions.jsonl"
    server.enqueue(Fault("status", status=500, message="model crashed"))

    first = _run(server, folder)
    assert first.returncode == 1, first.stderr
    assert "4 captioned, 2 failed, 0 already done" in first.stdout
    records = {r["id"]: r for r in _records(out)}
    assert set(records) == {*GOOD, "sub/broken.png"}
    assert "InvalidContentError" in records["sub/broken.png"]["error"]
    assert records["sub/broken.png"]["retryable"] is False
    server_failed = [r for r in records.values() if "model crashed" in (r["error"] or "")]
    assert len(server_failed) == 1  # one image failed on the server, the others went on
    assert server_failed[0]["retryable"] is True
    answered = [r for r in records.values() if r["answer"] is not None]
    assert len(answered) == 4
    for record in answered:
        assert record["answer"] == CAPTION
        assert record["error"] is None
        assert record["input_tokens"] > 0
        assert record["output_tokens"] > 0
    assert _chat_requests(server) == 5  # the broken file was refused before sending

    server.reset()
    second = _run(server, folder)
    assert second.returncode == 1, second.stderr
    assert "1 captioned, 1 failed, 4 already done" in second.stdout
    assert _chat_requests(server) == 1  # only the image the server failed is sent again

    (folder / "sub" / "broken.png").write_bytes(tiny_png(3, 3))
    server.reset()
    third = _run(server, folder, "--no-progress")
    assert third.returncode == 0, third.stderr
    assert "1 captioned, 0 failed, 5 already done" in third.stdout
    assert _chat_requests(server) == 1
    final = {r["id"] for r in _records(out) if r["answer"] is not None}
    assert final == {*GOOD, "sub/broken.png"}


def test_a_line_cut_short_by_a_crash_is_done_again(server: ChatServer, folder: Path) -> None:
    out = folder / "captions.jsonl"
    (folder / "sub" / "broken.png").unlink()
    done = {"id": "img0.png", "answer": "from an earlier run", "error": None}
    out.write_text(json.dumps(done) + "\n" + '{"id": "img1.png", "answ')

    result = _run(server, folder)
    assert result.returncode == 0, result.stderr
    assert "4 captioned, 0 failed, 1 already done" in result.stdout
    assert _chat_requests(server) == 4
    captions = {r["id"]: r["answer"] for r in map(json.loads, out.read_text().splitlines()[2:])}
    assert captions == dict.fromkeys(GOOD[1:], CAPTION)


def test_the_installed_command_is_the_same(server: ChatServer, folder: Path) -> None:
    (folder / "sub" / "broken.png").unlink()
    command = Path(sys.executable).parent / "hf-vlm-batch-caption"
    result = subprocess.run(
        [str(command), str(folder), "--base-url", server.url, "--model", "tiny/vlm"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "5 captioned, 0 failed, 0 already done" in result.stdout
    assert {r["id"] for r in _records(folder / "captions.jsonl")} == set(GOOD)
