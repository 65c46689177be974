"""Decoding, resizing and encoding images with Pillow (a core dependency).

Pillow is imported only when an image has to be decoded: most images that fit the limits are
sent as they are, and importing it costs tens of milliseconds at start-up. Problems are
:class:`~langchain_hf_vlm._media.refs.ImageProblem`: the caller names the image.
"""

from __future__ import annotations

import functools
import io
import struct
from typing import TYPE_CHECKING

from langchain_hf_vlm._media.headers import ImageHeader
from langchain_hf_vlm._media.refs import ImageProblem
from langchain_hf_vlm._media.settings import ImageSettings, target_size

if TYPE_CHECKING:
    from PIL import Image

_REDUCING_GAP = 1.5
"""How far above the target size the cheap whole-factor reduction stops. On a 12 MP photo
(benchmarks/images.py) the JPEG path takes half the time of a full decode and LANCZOS resize,
for the same PSNR and output size; Pillow's own default (2.0) would skip the reduced decode
for that common 3x reduction. The price is on sharp text: about 2 dB PSNR below a LANCZOS
resize from full resolution (still 2 dB above bicubic from full resolution)."""
_FLAT_SHARE = 0.5
"""An image is flat graphics when at least this share of its pixels equals the pixel to its
left: screenshots and diagrams are mostly uniform areas, camera noise makes photos almost never
repeat a neighbour."""
_PILLOW_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    MemoryError,
)
"""What Pillow raises on truncated or corrupt data (UnidentifiedImageError is an OSError)."""


def reencode(data: bytes, header: ImageHeader | None, settings: ImageSettings) -> tuple[str, bytes]:
    """Decode an image with Pillow, resize it to the limits, and encode it as JPEG or PNG.

    Args:
        data: The image file's bytes.
        header: What :func:`~langchain_hf_vlm._media.headers.read_image_header` found in them,
            if anything.
        settings: The limits.

    Returns:
        The mime type and the bytes of the new file.

    Raises:
        ImageProblem: The image is too large to decode, or its data is corrupt, truncated or
            of no format Pillow reads.
    """
    if header is not None:
        _check_input_pixels(header.width, header.height, settings)
    from PIL import UnidentifiedImageError

    try:
        return _resize_and_encode(data, settings)
    except ImageProblem:
        raise
    except _PILLOW_ERRORS as exc:
        if header is None and isinstance(exc, UnidentifiedImageError):
            problem = f"it is not an image format Pillow can read (starts with {data[:8]!r})"
        else:
            problem = f"the image data is corrupt or truncated ({exc})"
        raise ImageProblem(problem) from exc


def _check_input_pixels(width: int, height: int, settings: ImageSettings) -> None:
    if width * height > settings.max_input_pixels:
        raise ImageProblem(
            f"its header claims {width}x{height} pixels, over the {settings.max_input_pixels:,} "
            "pixels decoded at most (a decompression bomb, or an image to shrink before sending)"
        )


def _resize_and_encode(data: bytes, settings: ImageSettings) -> tuple[str, bytes]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        width, height = source.size
        _check_input_pixels(width, height, settings)
        size = target_size(width, height, settings)
        box: tuple[float, float, float, float] | None = None
        if size != (width, height) and source.format in ("JPEG", "MPO"):
            # Pillow's thumbnail() recipe, with a smaller gap: the JPEG decoder skips most of
            # the work when asked for a 1/2, 1/4 or 1/8 scale picture.
            wanted = (int(size[0] * _REDUCING_GAP), int(size[1] * _REDUCING_GAP))
            drafted = source.draft(None, wanted)
            box = drafted[1] if drafted is not None else None
        source.load()
        image = _standard_mode(source)
        photo = is_photo(image, source.format)
        if size != image.size or box is not None:
            image = image.resize(
                size, Image.Resampling.LANCZOS, box=box, reducing_gap=_REDUCING_GAP
            )
        return encode_image(image, settings.jpeg_quality, photo=photo)


def _standard_mode(image: Image.Image) -> Image.Image:
    """The image in a mode that resizes with interpolation and encodes as JPEG or PNG."""
    mode = image.mode
    if mode in ("RGB", "RGBA", "L", "LA"):
        return image
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # Pillow clips 16-bit values to 255 when converting to 8 bits; scale them instead.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if mode in ("P", "PA") or "transparency" in image.info:
        return image.convert("RGBA")
    if mode == "1":
        return image.convert("L")
    return image.convert("RGB")


def is_photo(image: Image.Image, source_format: str | None) -> bool:
    """Whether an image is best sent as JPEG: a JPEG already, or no flat graphics.

    Judged before any resizing, because downscaling blurs the flat areas of graphics.
    """
    # MPO is how Pillow names camera JPEGs that carry extra pictures (depth, previews).
    return source_format in ("JPEG", "MPO") or not _is_flat(_standard_mode(image))


def encode_image(image: Image.Image, jpeg_quality: int, *, photo: bool) -> tuple[str, bytes]:
    """Encode an image upright and without metadata: JPEG for a photo, PNG where there is
    transparency or for graphics. Returns (mime type, bytes)."""
    from PIL import ImageOps

    oriented = ImageOps.exif_transpose(_standard_mode(image))
    # Models read pixel values only; EXIF (GPS included), ICC and text chunks stay behind.
    oriented.info = {}
    if oriented.mode in ("RGBA", "LA"):
        alpha = oriented.getchannel(oriented.mode[-1])
        if alpha.getextrema()[0] == 255:
            oriented = oriented.convert(oriented.mode[:-1])
    buffer = io.BytesIO()
    if oriented.mode in ("RGBA", "LA") or not photo:
        # Level 3 of 9: with zlib-ng (Pillow's wheels) both faster and smaller than the default 6.
        oriented.save(buffer, "PNG", compress_level=3)
        return "image/png", buffer.getvalue()
    oriented.save(buffer, "JPEG", quality=jpeg_quality)
    return "image/jpeg", buffer.getvalue()


def _is_flat(image: Image.Image) -> bool:
    from PIL import Image, ImageChops

    width, height = image.size
    if width < 2:
        return True
    # 128 rows spread over the image tell flat graphics from photos as well as all rows do.
    rows = image.resize((width, min(height, 128)), Image.Resampling.NEAREST)
    difference = ImageChops.difference(
        rows.crop((0, 0, width - 1, rows.height)), rows.crop((1, 0, width, rows.height))
    )
    if difference.mode != "L":
        bands = difference.split()
        difference = functools.reduce(ImageChops.lighter, bands[1:], bands[0])
    unchanged = difference.histogram()[0]
    return unchanged >= _FLAT_SHARE * (width - 1) * rows.height
