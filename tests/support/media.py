"""Real PDFs and videos made on the spot (no binary fixtures in the repo, no downloads).

PDFs are written with pypdfium2 (text in a standard font, images from Pillow), videos encoded
with PyAV; both are the optional extras the package uses to read them.
"""

from __future__ import annotations

import ctypes
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

A4 = (595.0, 842.0)


@dataclass
class Picture:
    """An image on a page: a colour under some noise (``pixels`` big), filling ``box``
    ((left, bottom, width, height) in points)."""

    colour: tuple[int, int, int]
    box: tuple[float, float, float, float]
    pixels: tuple[int, int] = (64, 64)
    noise: float = 0.3


@dataclass
class Page:
    """One page: its size in points, lines of text, and pictures."""

    size: tuple[float, float] = A4
    lines: Sequence[str] = ()
    pictures: Sequence[Picture] = field(default_factory=list)
    rotation: int = 0


def scanned_page(colour: tuple[int, int, int] = (190, 180, 160), lines: Sequence[str] = ()) -> Page:
    """A page that is one photo-like picture covering it all (what a scanner makes)."""
    return Page(lines=lines, pictures=[Picture(colour, (0, 0, *A4), pixels=(1000, 1400))])


def pdf(pages: Sequence[Page]) -> bytes:
    """A PDF with the given pages."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw
    from PIL import Image

    document = pdfium.PdfDocument.new()
    for spec in pages:
        page = document.new_page(*spec.size)
        for index, line in enumerate(spec.lines):
            text = raw.FPDFPageObj_NewTextObj(document, b"Helvetica", ctypes.c_float(18))
            encoded = (line + "\0").encode("utf-16-le")
            raw.FPDFText_SetText(
                text, ctypes.cast(ctypes.c_char_p(encoded), ctypes.POINTER(raw.FPDF_WCHAR))
            )
            raw.FPDFPageObj_Transform(text, 1, 0, 0, 1, 40, spec.size[1] - 60 - 24 * index)
            raw.FPDFPage_InsertObject(page, text)
        for picture in spec.pictures:
            left, bottom, width, height = picture.box
            image = pdfium.PdfImage.new(document)
            noisy = Image.effect_noise(picture.pixels, 60).convert("RGB")
            pixels = Image.blend(
                Image.new("RGB", picture.pixels, picture.colour), noisy, picture.noise
            )
            image.set_bitmap(pdfium.PdfBitmap.from_pil(pixels))
            image.set_matrix(pdfium.PdfMatrix().scale(width, height).translate(left, bottom))
            page.insert_obj(image)
        if spec.rotation:
            page.set_rotation(spec.rotation)
        page.gen_content()
        page.close()
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    return buffer.getvalue()


def text_pdf(page_count: int, size: tuple[float, float] = A4) -> bytes:
    """A PDF whose page N reads "Page N"."""
    return pdf([Page(size=size, lines=[f"Page {n}"]) for n in range(1, page_count + 1)])


def encrypted_pdf() -> bytes:
    """A one-page PDF encrypted with RC4 (standard security handler, revision 2) and a user
    password, written by hand: PDFium reads encrypted files but does not write them."""
    import hashlib

    padding = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    owner_key = hashlib.md5(padding).digest()[:5]
    user = b"secret"
    owner_entry = _rc4(owner_key, (user + padding)[:32])
    permissions = -4
    file_id = bytes(range(16))
    digest = hashlib.md5(
        (user + padding)[:32]
        + owner_entry
        + permissions.to_bytes(4, "little", signed=True)
        + file_id
    ).digest()
    key = digest[:5]
    user_entry = _rc4(key, padding)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + owner_entry.hex().encode()
        + b"> /U <"
        + user_entry.hex().encode()
        + b"> /P -4 >>",
    ]
    return _assemble(
        objects,
        trailer=b"/Encrypt 4 0 R /ID [<"
        + file_id.hex().encode()
        + b"> <"
        + file_id.hex().encode()
        + b">]",
    )


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def _assemble(objects: Sequence[bytes], trailer: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer + b" >>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def handwritten_pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` in Helvetica, written without any PDF library (the
    real-server tier serves it where LangChain's standard suite downloads its dummy PDF)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 24 Tf 72 720 Td ({escaped}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return _assemble(objects)


def raw_pdf(media_box: str, page_count: int = 1) -> bytes:
    """A hand-written PDF whose pages have the given MediaBox, e.g. "0 0 0 842"."""
    kids = " ".join(f"{3 + n} 0 R" for n in range(page_count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
    ]
    objects += [f"<< /Type /Page /Parent 2 0 R /MediaBox [{media_box}] >>".encode()] * page_count
    return _assemble(objects)


def video(
    *,
    seconds: float = 2.0,
    fps: int = 10,
    size: tuple[int, int] = (160, 120),
    codec: str = "libx264",
    container: str = "mp4",
    gop: int | None = None,
    rotation: int = 0,
    noise: int = 0,
) -> bytes:
    """A clip whose frames are solid colours changing every second (red, green, blue, ...)
    under a white bar along the top whose length counts the frame; ``rotation`` is the
    display rotation (counter-clockwise) a phone records. ``noise`` adds moving grain of that
    amplitude, which makes the clip as costly to decode as camera footage."""
    import av
    import numpy as np

    colours = [(220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 230, 30), (200, 30, 200)]
    grain = np.random.default_rng(0)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream: Any = output.add_stream(codec, rate=fps)  # a VideoStream for a video codec
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if gop is not None:
            stream.codec_context.gop_size = gop
        stream.time_base = Fraction(1, fps)
        if rotation:
            stream.set_display_rotation(rotation)
        for index in range(round(seconds * fps)):
            pixels = np.empty((size[1], size[0], 3), dtype=np.uint8)
            pixels[:] = colours[(index // fps) % len(colours)]
            pixels[: size[1] // 8, : max(1, size[0] * index // round(seconds * fps))] = 255
            if noise:
                pixels = pixels - grain.integers(0, noise, pixels.shape, dtype=np.uint8) // 2
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()


def audio_only() -> bytes:
    """An MP4 with an AAC track and no video."""
    import av
    import numpy as np

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as output:
        stream = output.add_stream("aac", rate=16000)
        for index in range(5):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate = 16000
            frame.pts = index * 1024
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode():
            output.mux(packet)
    return buffer.getvalue()
