"""Caption every image of a folder into a JSONL file: concurrent, resumable, failure-tolerant.

    python examples/batch_caption.py photos/ --out captions.jsonl --concurrency 8
    python examples/batch_caption.py photos/ --base-url URL --model NAME  # TGI, vLLM, ...

The same as the installed ``hf-vlm-batch-caption`` command (langchain_hf_vlm/cli.py, which
documents the output), except that with neither HF_TOKEN nor --base-url it starts a tiny local
test model (see quickstart.py).
"""

import sys
from contextlib import ExitStack

from _target import open_model

from langchain_hf_vlm.cli import batch_caption, parser

if __name__ == "__main__":
    args = parser().parse_args()
    with ExitStack() as stack:
        model = open_model(args, stack, max_tokens=args.max_tokens, image_cache_bytes=0)
        status = batch_caption(model=model)
    sys.exit(status)
