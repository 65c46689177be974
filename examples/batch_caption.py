"""Caption every image of a folder into a JSONL file: concurrent, resumable, failure-tolerant.

    python examples/batch_caption.py photos/ --out captions.jsonl --concurrency 8  # HF router
    python examples/batch_caption.py photos/ --base-url URL --model NAME  # TGI, vLLM, ...

The installed ``hf-vlm-batch-caption`` command does the same (langchain_hf_vlm/cli.py documents
the output); this shows the model it uses built by hand, with the image cache off (each image
is sent once).
"""

import sys

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm.cli import batch_caption, parser

if __name__ == "__main__":
    args = parser().parse_args()
    model = ChatHuggingFaceVLM(
        model=args.model or "Qwen/Qwen2.5-VL-7B-Instruct",  # the router: HF_TOKEN or a login
        base_url=args.base_url,
        max_tokens=args.max_tokens,
        image_cache_bytes=0,
    )
    sys.exit(batch_caption(model=model))
