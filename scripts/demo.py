"""`make demo`: run examples/quickstart.py against the best model this machine can reach.

    python scripts/demo.py [--base-url URL --model NAME]
    python scripts/demo.py --needs-local-model [--base-url URL]   # exit 0: no token, no server

A server given by ``--base-url`` (``make demo BASE_URL=...``) comes first; then the Hugging Face
router with a token (``HF_TOKEN`` or an ``hf auth login``); with neither, the tiny test VLM
from the test suite, built offline and served by ``transformers serve`` (``make`` installs its
environment first), or, if that environment is missing, the scripted loopback test server. The
example itself knows nothing of this: it reads ``--base-url`` and ``--model`` like any user's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from huggingface_hub import get_token

REPO = Path(__file__).resolve().parent.parent
QUICKSTART = REPO / "examples" / "quickstart.py"
REAL_MODEL_HINT = (
    "      For a real model set HF_TOKEN (or run `hf auth login`) for the Hugging Face router,\n"
    "      or pass --base-url and --model (make demo BASE_URL=... MODEL=...) for TGI, vLLM,\n"
    "      llama.cpp or `transformers serve`.\n"
)


def local_server(stack: ExitStack) -> tuple[str, str]:
    """A local server started on ``stack``, its URL and model: the tiny VLM, else the scripted
    test server (when the serving environment is missing)."""
    sys.path.insert(0, str(REPO))
    from tests.realserver.tiny_server import ServeEnvironmentMissing, TinyVLMServer
    from tests.servers.chat_server import ChatServer

    print("No HF_TOKEN, no Hugging Face login and no --base-url: starting a tiny local test")
    print("model (built offline on the first run; CONTRIBUTING.md#timings says how long).")
    try:
        tiny = stack.enter_context(TinyVLMServer())
    except ServeEnvironmentMissing as exc:
        print(f"The tiny model cannot run here ({exc}); starting the scripted test server.")
        print("NOTE: the answer comes from a scripted test server that echoes what it received")
        print("      (how many images, the question), not from a model.\n" + REAL_MODEL_HINT)
        scripted = stack.enter_context(ChatServer("vllm"))
        return scripted.url, "tiny/vlm"
    print("NOTE: the answer comes from a tiny test model with canned replies, not a real VLM.")
    print(REAL_MODEL_HINT)
    return tiny.url, tiny.model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", help="your server (TGI, vLLM, transformers serve, ...)")
    parser.add_argument("--model", help="model id (router) or served model name (base URL)")
    parser.add_argument("--needs-local-model", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    needs_local = args.base_url is None and get_token() is None
    if args.needs_local_model:
        sys.exit(0 if needs_local else 1)
    target = ["--base-url", args.base_url] if args.base_url else []
    target += ["--model", args.model] if args.model else []
    if not needs_local:
        sys.exit(subprocess.call([sys.executable, str(QUICKSTART), *target]))
    with ExitStack() as stack:
        url, model = local_server(stack)
        status = subprocess.call(
            [sys.executable, str(QUICKSTART), "--base-url", url, "--model", model]
        )
    sys.exit(status)


if __name__ == "__main__":
    main()
