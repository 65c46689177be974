"""Document and video benchmark: PDF pages/s and video frames/s, with peak memory.

- PDF: a 20-page document (16 text pages, 4 scanned pages) rendered to the default image
  limits by the package (each page rendered straight at its target size) and by the naive
  path (each page rendered at 300 dpi, then shrunk with Pillow's ``thumbnail``).
- Video: 8 frames sampled from a 1280x720 H.264 clip (30 fps, a keyframe every 2 s) by the
  package (a packet index, then a seek to the keyframe before each sample) and by the naive
  path (decode every frame, keep the 8 nearest the sample times). The same on a clip with a
  single keyframe, where every sample needs decoding from the start.

Times are medians of interleaved runs of CPU time in one process, so the ratios compare like
with like on a busy machine. Memory is the peak growth of the resident set of a fresh process
running the method once (PDFium's and FFmpeg's buffers are outside Python's heap).

Run: ``python benchmarks/documents.py [--runs 3] [--quick]``. Prints figures only.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from memory import print_peak_growth, resident_growth  # benchmarks/memory.py
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from langchain_hf_vlm._media.codec import encode_image, is_photo
from langchain_hf_vlm._media.pdf import PdfLimits, plan_pdf, render_pdf
from langchain_hf_vlm._media.settings import ImageSettings, target_size
from langchain_hf_vlm._media.video import VideoLimits, sample_times, sample_video
from tests.support.media import Page, pdf, scanned_page, video

DEFAULTS = ImageSettings()
FRAMES = 8


# ---------------------------------------------------------------- inputs


def inputs(folder: Path, quick: bool) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    seconds = 6 if quick else 20
    made: dict[str, tuple[Callable[[], bytes], str]] = {
        "pdf": (document, "document.pdf"),
        "video": (
            lambda: video(seconds=seconds, fps=30, size=(1280, 720), gop=60, noise=60),
            "clip.mp4",
        ),
        "video, one keyframe": (
            lambda: video(seconds=seconds, fps=30, size=(1280, 720), gop=100_000, noise=60),
            "clip-one-keyframe.mp4",
        ),
    }
    paths = {}
    for label, (make, name) in made.items():
        path = folder / f"{'quick-' if quick else ''}{name}"
        if not path.exists():
            path.write_bytes(make())
        paths[label] = path
    return paths


def document() -> bytes:
    words = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor"
    text = Page(lines=[f"{n:>3}. {words}" for n in range(30)])
    return pdf(([text] * 4 + [scanned_page()]) * 4)


def methods_for(label: str, data: bytes) -> dict[str, Callable[[], int]]:
    """Each method returns how many pages or frames it produced."""
    if label == "pdf":
        return {
            "package": lambda: len(pdf_package(data)),
            "render 300 dpi + shrink": lambda: pdf_naive(data),
        }
    return {
        "package": lambda: len(
            sample_video(data, name="v", settings=DEFAULTS, limits=VideoLimits(max_frames=FRAMES))
        ),
        "decode all frames": lambda: video_naive(data),
    }


def pdf_package(data: bytes) -> list[object]:
    limits = PdfLimits(max_pages=100, text_layer="off")
    plan = plan_pdf(data, name="d", pages=None, limits=limits)
    return list(render_pdf(data, plan, DEFAULTS, limits))


def pdf_naive(data: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        for page in document:
            image = page.render(scale=300 / 72).to_pil()
            image = image.resize(
                target_size(image.width, image.height, DEFAULTS), Image.Resampling.LANCZOS
            )
            encode_image(image, DEFAULTS.jpeg_quality, photo=is_photo(image, None))
            page.close()
        return len(document)
    finally:
        document.close()


def shrunk(image: Image.Image) -> Image.Image:
    size = target_size(image.width, image.height, DEFAULTS)
    return image.resize(size, Image.Resampling.LANCZOS)


def video_naive(data: bytes) -> int:
    import av

    container: Any
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        duration = float(stream.duration * stream.time_base)
        times = sample_times(duration, VideoLimits(max_frames=FRAMES))
        kept: dict[int, Image.Image] = {}
        for frame in container.decode(stream):
            at = float(frame.pts * stream.time_base)
            for index, wanted in enumerate(times):
                if index not in kept and at >= wanted:
                    kept[index] = frame.to_image()
        for image in kept.values():
            image = image.resize(
                target_size(image.width, image.height, DEFAULTS), Image.Resampling.LANCZOS
            )
            encode_image(image, DEFAULTS.jpeg_quality, photo=True)
        return len(kept)


# ---------------------------------------------------------------- measuring


def child(label: str, name: str, path: str) -> None:
    data = Path(path).read_bytes()
    warm_up = pdf([Page(lines=["x"]), scanned_page()]) if label == "pdf" else video(seconds=1)
    methods_for(label, warm_up)[name]()  # loads the libraries and codecs first
    method = methods_for(label, data)[name]
    print_peak_growth(method)


def measure(paths: dict[str, Path], runs: int) -> None:
    print(f"defaults: max_side={DEFAULTS.max_side}, max_pixels={DEFAULTS.max_pixels:,}")
    print(f"median CPU time of {runs} interleaved runs; speed relative to the naive path\n")
    header = f"{'input':<34} {'method':<24} {'time ms':>8} {'per s':>12} {'speed':>6} {'RSS +':>9}"
    print(header)
    print("-" * len(header))
    for label, path in paths.items():
        data = path.read_bytes()
        methods = methods_for(label, data)
        times: dict[str, list[float]] = {name: [] for name in methods}
        counts: dict[str, int] = {}
        for _ in range(runs):
            for name, method in methods.items():
                started = time.process_time()
                counts[name] = method()
                times[name].append(time.process_time() - started)
        medians = {name: statistics.median(values) for name, values in times.items()}
        naive = medians[list(methods)[1]]
        unit = "pages" if label == "pdf" else "frames"
        title = f"{label} ({len(data) / 1e6:.1f} MB)"
        for index, name in enumerate(methods):
            rss = resident_growth(__file__, label, name, str(path))
            rate = counts[name] / medians[name] if medians[name] else float("inf")
            print(
                f"{title if index == 0 else '':<34} {name:<24} {medians[name] * 1000:>8.0f} "
                f"{rate:>5.1f} {unit:<6} {naive / medians[name]:>5.1f}x "
                f"{'-' if rss is None else f'{rss / 1e6:.0f} MB':>9}"
            )
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per method")
    parser.add_argument("--quick", action="store_true", help="shorter clips, one run")
    parser.add_argument(
        "--child", nargs=3, metavar=("INPUT", "METHOD", "PATH"), help=argparse.SUPPRESS
    )
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    folder = Path(tempfile.gettempdir()) / "langchain-hf-vlm-bench"
    measure(inputs(folder, arguments.quick), 1 if arguments.quick else arguments.runs)


if __name__ == "__main__":
    main()
