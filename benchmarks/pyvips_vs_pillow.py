"""pyvips (shrink-on-load) against the package's Pillow path, at equal output size.

The images are those of ``batch_photos.py``: a 4000x3000 camera JPEG (quality 92, 3-5 MB) and a
2880x1800 PNG screenshot. Each is brought to the package's default limits
(``target_size``: 1293x970 and 1417x886) and encoded as the package sends it (JPEG quality 85
for the photo, PNG for the screenshot) by

- ``package (Pillow)``: ``codec.reencode``, what the model runs (JPEG draft: DCT-scaled decode
  to at least 1.5x the target, then LANCZOS; PNG: full decode, LANCZOS; flat-graphics check;
  EXIF orientation; metadata stripped);
- ``pyvips thumbnail``: ``pyvips.Image.thumbnail_buffer(data, w, height=h, size="force")``
  (shrink-on-load in libjpeg, then libvips' reduce with its default lanczos3 kernel; upright,
  metadata stripped on save), ``jpegsave_buffer(Q=85)`` or ``pngsave_buffer(compression=3)``,
  the same format the package chose;
- ``naive Pillow``: ``thumbnail`` (LANCZOS, Pillow's default reducing gap), the same encode.

Both libraries are held to one thread (``VIPS_CONCURRENCY=1``, libvips' operation cache off;
each Pillow call is single-threaded), so the CPU time per image is the cost on one core; every
input has distinct bytes; methods run interleaved, medians of ``--runs``. Quality is the PSNR
of the decoded result against a LANCZOS resize of the full-resolution pixels to the same size
(``images.psnr``). Run: ``python benchmarks/pyvips_vs_pillow.py [--runs 9]``; needs
``pip install pyvips pyvips-binary`` (prints figures, asserts only that the sizes match).
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import os
import statistics
import time
from collections.abc import Callable
from importlib.metadata import version

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # before libvips starts: one thread

import pyvips
from batch_photos import with_comment, with_text_chunk
from images import encoded, make_photo, make_screenshot, psnr
from PIL import Image

from langchain_hf_vlm._media.codec import reencode
from langchain_hf_vlm._media.headers import read_image_header
from langchain_hf_vlm._media.settings import ImageSettings, target_size

SETTINGS = ImageSettings()
Method = Callable[[bytes], tuple[str, bytes]]


def package(data: bytes) -> tuple[str, bytes]:
    return reencode(data, read_image_header(data), SETTINGS)


def vips_thumbnail(data: bytes, mime: str) -> tuple[str, bytes]:
    header = read_image_header(data)
    assert header is not None
    width, height = target_size(header.width, header.height, SETTINGS)
    image = pyvips.Image.thumbnail_buffer(data, width, height=height, size="force")
    if mime == "image/jpeg":
        return mime, image.jpegsave_buffer(Q=SETTINGS.jpeg_quality, keep="none")
    return mime, image.pngsave_buffer(compression=3, keep="none")


def naive(data: bytes, mime: str) -> tuple[str, bytes]:
    with Image.open(io.BytesIO(data)) as image:
        image.thumbnail(target_size(*image.size, SETTINGS), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        if mime == "image/jpeg":
            image.convert("RGB").save(buffer, "JPEG", quality=SETTINGS.jpeg_quality)
        else:
            image.save(buffer, "PNG", compress_level=3)
    return mime, buffer.getvalue()


def inputs(runs: int) -> dict[str, list[bytes]]:
    """Distinct bytes (same pixels) for every run of every method."""
    jpeg = encoded(make_photo(), "JPEG", quality=92)
    png = encoded(make_screenshot(), "PNG", optimize=False)
    copies = runs * 3
    return {
        "photo 4000x3000 JPEG": [with_comment(jpeg, str(i)) for i in range(copies)],
        "screenshot 2880x1800 PNG": [with_text_chunk(png, str(i)) for i in range(copies)],
    }


def measure(runs: int) -> None:
    pyvips.cache_set_max(0)
    print(
        f"# Pillow {version('Pillow')}, pyvips {pyvips.__version__} "
        f"(libvips {pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}), "
        f"VIPS_CONCURRENCY={os.environ['VIPS_CONCURRENCY']}; {runs} interleaved runs, medians"
    )
    print(
        "image                    | method            | CPU ms | vs package | output        "
        "| bytes   | PSNR dB"
    )
    print("-" * 98)
    for label, datas in inputs(runs).items():
        mime = package(datas[0])[0]
        methods: dict[str, Method] = {
            "package (Pillow)": package,
            "pyvips thumbnail": functools.partial(vips_thumbnail, mime=mime),
            "naive Pillow": functools.partial(naive, mime=mime),
        }
        for method in methods.values():  # warm: plugins, codecs, libvips start-up
            method(datas[-1])
        times: dict[str, list[float]] = {name: [] for name in methods}
        outputs: dict[str, tuple[str, bytes]] = {}
        source_bytes = iter(datas)
        for run in range(runs):
            names = list(methods)
            names = names[run % len(names) :] + names[: run % len(names)]
            for name in names:
                data = next(source_bytes)
                started = time.process_time()
                outputs[name] = methods[name](data)
                times[name].append(time.process_time() - started)
        with Image.open(io.BytesIO(datas[0])) as opened:
            source = opened.convert("RGB")
        baseline = statistics.median(times["package (Pillow)"])
        sizes = {}
        for index, name in enumerate(methods):
            out_mime, out = outputs[name]
            with Image.open(io.BytesIO(out)) as result:
                sizes[name] = result.size
                shape = f"{result.width}x{result.height} {result.format}"
            quality = psnr(f"data:{out_mime};base64,{base64.b64encode(out).decode()}", source)
            decibels = "exact" if quality is None or quality == float("inf") else f"{quality:.2f}"
            cpu = statistics.median(times[name])
            print(
                f"{label if index == 0 else '':<24} | {name:<17} | {cpu * 1000:6.1f} | "
                f"{baseline / cpu:9.2f}x | {shape:<13} | {len(out) / 1000:5.0f} KB | {decibels}"
            )
        # Pillow's thumbnail() rounds sizes its own way; the two compared paths must agree.
        assert sizes["package (Pillow)"] == sizes["pyvips thumbnail"], f"sizes differ: {sizes}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="interleaved runs (default 9)")
    measure(parser.parse_args().runs)


if __name__ == "__main__":
    main()
