"""Image preparation benchmark: the package's pipeline against plain base64 and naive Pillow.

A 4000x3000 photo (as a camera JPEG and as PNG) and a Retina-size screenshot (PNG) are
prepared to the default limits by

- plain base64 of the file, what users do by hand (nothing resized: too large for TGI);
- the naive Pillow path: open, ``thumbnail`` with LANCZOS, JPEG quality 85, base64;
- the package, from the same bytes (``ImagePipeline.data_uri``, default settings);
- the package as the model runs it: ``ImagePipeline.prepare`` on the message that
  ``image_block(bytes)`` makes, which also decodes and hashes the base64 of the original;
  on a fresh pipeline, and on a warm one (a later turn of the conversation).

Times are medians of interleaved runs in one process, so the ratios compare like with like
even on a busy machine. Quality is the PSNR of each result against a full-resolution LANCZOS
resize of the same pixels. Memory is measured twice: the peak of Python's heap (tracemalloc;
Pillow's pixel buffers are allocated outside it) and the peak growth of the resident set of a
fresh process running the method once (pixel buffers included).

Run: ``python benchmarks/images.py [--runs 7]``. Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import random
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory import print_peak_growth, resident_growth  # benchmarks/memory.py
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from langchain_hf_vlm._media.expand import WireMessages
from langchain_hf_vlm._media.pipeline import ImagePipeline
from langchain_hf_vlm._media.refs import ImageRef
from langchain_hf_vlm._media.settings import ImageSettings, target_size
from langchain_hf_vlm.images import image_block

Method = Callable[[bytes], str]


# ---------------------------------------------------------------- test images


def make_photo(size: tuple[int, int] = (4000, 3000), seed: int = 1) -> Image.Image:
    """Smooth gradients, blurred shapes with edges, and sensor-like noise: JPEG sizes of a
    real 12 MP phone photo (3-5 MB at quality 92)."""
    rnd = random.Random(seed)
    channels = []
    for _ in range(3):
        linear = Image.linear_gradient("L").rotate(rnd.uniform(0, 360))
        channels.append(
            Image.blend(linear, Image.radial_gradient("L"), rnd.uniform(0.2, 0.6)).resize(
                size, Image.Resampling.BICUBIC
            )
        )
    image = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(image)
    width, height = size
    for _ in range(60):
        x, y, extent = rnd.randrange(width), rnd.randrange(height), rnd.randrange(40, 600)
        color = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x, y, x + extent, y + extent * rnd.uniform(0.3, 1.5)), fill=color)
        else:
            end = (x + rnd.randrange(-800, 800), y + rnd.randrange(-800, 800))
            draw.line((x, y, *end), fill=color, width=rnd.randrange(2, 30))
    image = image.filter(ImageFilter.GaussianBlur(2))
    noise = Image.merge("RGB", [Image.effect_noise(size, 9) for _ in range(3)])
    return ImageChops.add(image, noise, scale=1.0, offset=-128)


def make_screenshot(size: tuple[int, int] = (2880, 1800), seed: int = 2) -> Image.Image:
    """A text-heavy application window: flat areas, anti-aliased text, boxes."""
    rnd = random.Random(seed)
    width, height = size
    image = Image.new("RGB", size, (246, 247, 249))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=24)
    draw.rectangle((0, 0, width, 72), fill=(32, 36, 44))
    draw.rectangle((0, 72, 340, height), fill=(235, 237, 240))
    letters = "abcdefghijklmnopqrstuvwxyz"
    for y in range(110, height - 40, 36):
        words = (
            "".join(rnd.choice(letters) for _ in range(rnd.randint(2, 10)))
            for _ in range(rnd.randint(5, 28))
        )
        draw.text((380, y), " ".join(words), fill=(30, 30, 30), font=font)
    for y in range(100, height, 44):
        draw.text((24, y), "Menu item", fill=(60, 60, 90), font=font)
    for _ in range(6):
        x, y = rnd.randrange(380, width - 420), rnd.randrange(110, height - 300)
        fill = tuple(rnd.randrange(120, 255) for _ in range(3))
        draw.rounded_rectangle((x, y, x + 400, y + 240), radius=12, fill=fill, outline=(90,) * 3)
    return image


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_images(folder: Path) -> dict[str, Path]:
    """Generated once per machine and kept in the temp folder (generation takes seconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "photo.jpg": folder / "photo-4000x3000.jpg",
        "photo.png": folder / "photo-4000x3000.png",
        "screenshot.png": folder / "screenshot-2880x1800.png",
    }
    if not all(path.exists() for path in paths.values()):
        photo = make_photo()
        paths["photo.jpg"].write_bytes(encoded(photo, "JPEG", quality=92))
        paths["photo.png"].write_bytes(encoded(photo, "PNG"))
        paths["screenshot.png"].write_bytes(encoded(make_screenshot(), "PNG"))
    return paths


# ---------------------------------------------------------------- the methods compared

DEFAULTS = ImageSettings()


def plain_base64(data: bytes) -> str:
    mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def naive_pillow(data: bytes) -> str:
    image = Image.open(io.BytesIO(data))
    image.thumbnail(target_size(*image.size, DEFAULTS), Image.Resampling.LANCZOS)
    jpeg = encoded(image.convert("RGB"), "JPEG", quality=85)
    return f"data:image/jpeg;base64,{base64.b64encode(jpeg).decode('ascii')}"


def prepared(pipeline: ImagePipeline, url: str) -> str:
    ref = ImageRef(message_index=0, block_index=0, number=1, url=url)
    pipeline.prepare(WireMessages([{"role": "user", "content": [ref]}], [ref]))
    return ref.sent_url


def block_uri(data: bytes) -> str:
    """The data URI the model receives for ``image_block(data)``."""
    block = image_block(data)
    return f"data:{block['mime_type']};base64,{block['base64']}"


def methods_for(data: bytes, warm: ImagePipeline) -> dict[str, Callable[[], str]]:
    """Each method as a call from the file's bytes (or the model's input) to the data URI sent;
    ``warm`` is the pipeline of the cached method, already used on the same image."""
    uri = block_uri(data)
    return {
        "plain base64": lambda: plain_base64(data),
        "naive Pillow": lambda: naive_pillow(data),
        "package": lambda: ImagePipeline(DEFAULTS).data_uri(data),
        "from message": lambda: prepared(ImagePipeline(DEFAULTS), uri),
        "from msg, cached": lambda: prepared(warm, uri),
    }


# ---------------------------------------------------------------- measurements


def psnr(url: str, source: Image.Image) -> float | None:
    """PSNR of a resized result against a LANCZOS resize of the source at full resolution."""
    result = Image.open(io.BytesIO(base64.b64decode(url.partition(",")[2]))).convert("RGB")
    if result.size == source.size:
        return None
    reference = source.resize(result.size, Image.Resampling.LANCZOS)
    histogram = ImageChops.difference(result, reference).histogram()
    squared = sum((value % 256) ** 2 * count for value, count in enumerate(histogram))
    mse = squared / (reference.width * reference.height * 3)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def _decibels(quality: float | None) -> str:
    if quality is None:
        return "-"
    return "lossless" if math.isinf(quality) else f"{quality:.2f}"


def python_heap_peak(method: Callable[[], str]) -> int:
    tracemalloc.start()
    try:
        method()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def child(name: str, path: str) -> None:
    data = Path(path).read_bytes()
    with Image.open(io.BytesIO(data)) as source:
        tiny = encoded(Image.new("RGB", (400, 300)), source.format or "PNG")
    # A run on a small image of the same format first loads Pillow's plugins and codecs, so
    # that only the memory of the measured run is counted. Nothing large may run before the
    # measured run: memory freed by it would stay resident and be reused unseen.
    methods_for(tiny, ImagePipeline(DEFAULTS))[name]()
    method = methods_for(data, ImagePipeline(DEFAULTS))[name]
    print_peak_growth(method)


def measure(paths: dict[str, Path], runs: int) -> None:
    print(f"defaults: max_side={DEFAULTS.max_side}, max_pixels={DEFAULTS.max_pixels:,}")
    print(
        f"median CPU time of {runs} interleaved runs; speed and size relative to naive Pillow;"
        " PSNR against a full-resolution LANCZOS resize\n"
    )
    header = (
        f"{'image':<31} {'method':<16} {'time ms':>8} {'speed':>6} {'output':>9} "
        f"{'size':>5} {'PSNR dB':>8} {'py heap':>8} {'RSS +':>8}  format"
    )
    print(header)
    print("-" * len(header))
    for label, path in paths.items():
        data = path.read_bytes()
        warm = ImagePipeline(DEFAULTS)
        prepared(warm, block_uri(data))
        methods = methods_for(data, warm)
        times: dict[str, list[float]] = {name: [] for name in methods}
        outputs: dict[str, str] = {}
        for _ in range(runs):
            for name, method in methods.items():
                started = time.process_time()
                outputs[name] = method()
                times[name].append(time.process_time() - started)
        medians = {name: statistics.median(values) for name, values in times.items()}
        naive_time, naive_size = medians["naive Pillow"], len(outputs["naive Pillow"])
        with Image.open(io.BytesIO(data)) as opened:
            source = opened.convert("RGB")
        title = f"{label} {source.width}x{source.height} {len(data) / 1e6:.1f} MB"
        for index, (name, method) in enumerate(methods.items()):
            output = outputs[name]
            quality = psnr(output, source)
            rss = None if "cached" in name else resident_growth(__file__, name, str(path))
            print(
                f"{title if index == 0 else '':<31} {name:<16} {medians[name] * 1000:>8.1f} "
                f"{naive_time / medians[name]:>5.1f}x {len(output) / 1e3:>6.0f} KB "
                f"{len(output) / naive_size:>5.2f} "
                f"{_decibels(quality):>8} "
                f"{python_heap_peak(method) / 1e6:>5.1f} MB "
                f"{'-' if rss is None else f'{rss / 1e6:.1f} MB':>8}  "
                f"{output[len('data:image/') : output.index(';')]}"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=7, help="interleaved runs per method")
    parser.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    folder = Path(tempfile.gettempdir()) / "langchain-hf-vlm-bench"
    measure(test_images(folder), arguments.runs)


if __name__ == "__main__":
    main()
