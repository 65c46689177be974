"""`transformers serve` on 127.0.0.1 with the tiny test VLM, built offline and cached.

The serving environment (torch pinned to the CPU wheel, ``transformers[serving]``, Pillow) is a
virtualenv of its own, found through ``LANGCHAIN_HF_VLM_SERVE_VENV`` (``make`` sets it; default
``.venv-serve`` in the repository). The model is built by ``build_tiny_vlm.py`` into
``.cache/tiny-vlm/<hash of the build script>/`` so that a changed recipe rebuilds and an unchanged
one is reused (the key hashes the build script and ``answers.py``), and installed there into an offline Hugging Face cache as ``tiny/llava-vlm``.

Usage::

    python -m tests.realserver.tiny_server build   # build (or reuse) the model, print its folder
    python -m tests.realserver.tiny_server serve   # serve it until Ctrl-C
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = Path(__file__).resolve().parent / "build_tiny_vlm.py"
CACHE_ROOT = REPO / ".cache" / "tiny-vlm"
MODEL_ID = "tiny/llava-vlm"
CPU = ("--device", "cpu")
ALT_MODEL_ID = "tiny/llava-vlm-b"  # the same model under a second name, for per-call overrides
CACHE_LAYOUT = b"2"  # bump when what ensure_model() lays out changes

RECIPE = (BUILD_SCRIPT, BUILD_SCRIPT.parent / "answers.py")  # what the cache key hashes


class ServeEnvironmentMissing(RuntimeError):
    """The serving virtualenv is not installed (run `make .venv-serve/.installed`)."""


def serve_venv() -> Path:
    return Path(os.environ.get("LANGCHAIN_HF_VLM_SERVE_VENV", REPO / ".venv-serve"))


def venv_python(venv: Path, what: str) -> Path:
    """The Python of a virtualenv that ``make`` built (it marks it ``.installed``)."""
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists() or not python.exists():
        raise ServeEnvironmentMissing(
            f"no {what} at {venv}: run `make {venv.name}/.installed` (or set its variable)"
        )
    return python


def _serve_python() -> Path:
    return venv_python(serve_venv(), "serving environment (transformers[serving], torch CPU)")


def _offline_env(hf_cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
        HF_HUB_CACHE=str(hf_cache),
        HF_HOME=str(hf_cache.parent / "hf-home"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("HF_TOKEN", None)  # the tiny server needs no token and must never see one
    return env


class TinyModel:
    """Where a built model lives: its folder, the offline HF cache, the fixture images."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.model_dir = root / "model"
        self.hf_cache = root / "hf-cache"
        self.images = root / "images"
        self.marker = root / "complete.json"


def ensure_model() -> TinyModel:
    """Build the tiny VLM unless a build of this exact recipe is cached; return where it is.

    Several processes (pytest-xdist workers, the demo beside a test run) may call this at once:
    a file lock makes one of them build and the others wait for it.
    """
    recipe = CACHE_LAYOUT + b"".join(path.read_bytes() for path in RECIPE)
    digest = hashlib.sha256(recipe).hexdigest()[:16]
    tiny = TinyModel(CACHE_ROOT / digest)
    if tiny.marker.exists():
        return tiny
    python = _serve_python()
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    with open(CACHE_ROOT / f"{digest}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tiny.marker.exists():  # built by another process while we waited
            return tiny
        shutil.rmtree(tiny.root, ignore_errors=True)
        tiny.root.mkdir(parents=True)
        started = time.monotonic()
        build_log = tiny.root / "build.log"
        with open(build_log, "w") as out:
            done = subprocess.run(
                [str(python), str(BUILD_SCRIPT), str(tiny.model_dir), "--images", str(tiny.images)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=_offline_env(tiny.hf_cache),
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(
                f"building the tiny VLM failed (exit {done.returncode}); its log:\n"
                + build_log.read_text()[-4000:]
            )
        for model_id in (MODEL_ID, ALT_MODEL_ID):
            _install_into_hf_cache(tiny.model_dir, model_id, tiny.hf_cache)
        tiny.marker.write_text(
            json.dumps({"model": MODEL_ID, "seconds": round(time.monotonic() - started, 1)}) + "\n"
        )
    return tiny


def _install_into_hf_cache(src: Path, repo_id: str, cache: Path) -> None:
    """Lay out a local folder as a Hub cache entry, so `model: "tiny/llava-vlm"` loads offline."""
    root = cache / ("models--" + repo_id.replace("/", "--"))
    files = sorted(p for p in src.iterdir() if p.is_file())
    commit = hashlib.sha1(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()
    snapshot = root / "snapshots" / commit
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for path in files:
        data = path.read_bytes()
        blob = root / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = snapshot / path.name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(blob, snapshot))
    (root / "refs" / "main").write_text(commit)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TinyVLMServer:
    """`transformers serve` with the tiny VLM, as a context manager.

    Starts on a free port of 127.0.0.1, waits for ``/health``, and at exit kills the server's
    whole process group (also when the body raised). The server's output goes to ``log_path``;
    ``log_tail()`` returns its end for a failing test to print.
    """

    model = MODEL_ID
    name = "transformers serve"
    log_prefix = "serve"

    def __init__(self, *, start_timeout: float = 120.0) -> None:
        self.start_timeout = start_timeout
        self._check_environment()  # even when the model is cached
        self.tiny = ensure_model()
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = self.tiny.root / f"{self.log_prefix}-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    def _check_environment(self) -> None:
        _serve_python()

    def _command(self) -> list[str]:
        serve = serve_venv() / "bin" / "transformers"
        return [str(serve), "serve", "--host", "127.0.0.1", "--port", str(self.port), *CPU]

    def _env(self) -> dict[str, str]:
        return _offline_env(self.tiny.hf_cache)

    @property
    def images(self) -> Path:
        """Fixture images (JPEG, WebP, GIF, a large JPEG) that only Pillow can make."""
        return self.tiny.images

    def __enter__(self) -> TinyVLMServer:
        with open(self.log_path, "wb") as log:
            self._process = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,  # its own process group: teardown kills all of it
            )
        try:
            self._wait_healthy()
            self._warm_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self._process.returncode}:\n" + self.log_tail()
                )
            health = f"http://127.0.0.1:{self.port}/health"
            with contextlib.suppress(OSError), urllib.request.urlopen(health, timeout=2):
                return
            time.sleep(0.2)
        raise TimeoutError(
            f"{self.name} gave no /health in {self.start_timeout}s:\n" + self.log_tail()
        )

    def _warm_up(self) -> None:
        """Load the model once (the first request pays for it), so tests see steady timings."""
        body = {"model": MODEL_ID, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]}
        request = urllib.request.Request(
            f"{self.url}/chat/completions",
            data=json.dumps(body).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=self.start_timeout) as response:
            response.read()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "serve"
    if command == "build":
        sys.stdout.write(f"{ensure_model().root}\n")
        return 0
    if command == "serve":
        with TinyVLMServer() as server:
            sys.stdout.write(f"serving {server.model} at {server.url} (log {server.log_path})\n")
            sys.stdout.flush()
            with contextlib.suppress(KeyboardInterrupt):
                while True:
                    time.sleep(3600)
        return 0
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
