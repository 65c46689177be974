"""Caption a folder of images (or a list of paths) with Ray Data, into Parquet or JSONL files.

    python examples/ray_caption.py photos/ --out captions/                  # local Ray
    python examples/ray_caption.py paths.txt --out s3://bucket/captions/ \\
        --address auto --actors 8 --base-url URL --model NAME              # on a cluster

Each output row is one image: its ``path``, ``answer``, ``error`` (``"ErrorType: message"``),
``retryable``, ``input_tokens`` and ``output_tokens``. A failed image is a row with an error,
never a failed job; the exit status is 0 when the job ran. Run the same command again (after a
crash, or to retry failed rows) and only the images without an answer in the output are sent.

The model is built in each actor from its settings, and the workers read HF_TOKEN from their own
environment (HF_TOKEN): the key never travels in Ray's object store. Needs the ``ray`` extra:
``pip install '.[ray]'`` from a clone.
"""

import argparse
import os
import sys
from pathlib import Path

import ray

from langchain_hf_vlm.batch import DEFAULT_PROMPT
from langchain_hf_vlm.ray_data import answered_ids, caption_files, image_paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path, help="a folder of images, or a file of paths")
    parser.add_argument("--out", required=True, help="output folder (local or s3://...)")
    parser.add_argument("--format", choices=("parquet", "json"), default="parquet")
    parser.add_argument("--address", help="a Ray cluster's address (default: a local Ray)")
    parser.add_argument("--actors", type=int, default=1, help="HTTP actors")
    parser.add_argument("--concurrency", type=int, default=32, help="requests per actor")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--question", default=DEFAULT_PROMPT)
    parser.add_argument("--max-tokens", type=int, default=100)
    parser.add_argument("--base-url", default=os.environ.get("BASE_URL"), help="your server")
    parser.add_argument("--model", default=os.environ.get("MODEL"), help="model id or name")
    args = parser.parse_args()

    settings = {  # each actor builds its ChatHuggingFaceVLM(**settings)
        "model": args.model or "Qwen/Qwen2.5-VL-7B-Instruct",
        "base_url": args.base_url,  # None: the Hugging Face router
        "max_tokens": args.max_tokens,
    }
    if args.address:
        ray.init(address=args.address)
    else:  # the actors mostly wait on the network: more logical CPUs than cores is fine
        ray.init(num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False)
    paths = image_paths(args.source)
    sent = caption_files(
        paths,
        args.out,
        model_kwargs=settings,
        output_format=args.format,
        prompt=args.question,
        concurrency=args.concurrency,
        actors=args.actors,
        batch_size=args.batch_size,
    )
    answered = len(answered_ids(args.out) & set(paths))
    print(
        f"{sent} sent; {answered} of {len(paths)} images have an answer in {args.out} "
        f"({len(paths) - answered} without)"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
