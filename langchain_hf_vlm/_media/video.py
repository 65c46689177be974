"""Video frames as images: PyAV samples a clip into a few labelled frames.

Pure: bytes in, labelled images out, no I/O. Needs the ``[video]`` extra (PyAV and Pillow);
without it a video is an error saying so.

- Frames are sampled evenly over the clip, one in each equal share of it (so neither a
  black first frame nor the last one, unless the clip is that short), ``max_frames`` of them;
  or at a rate
  (``frames_per_second``), still at most ``max_frames``, evenly spread when the rate would
  take more (the rule of Qwen2-VL's own video sampler).
- Memory and time stay bounded for long videos: a first pass reads the packets' timestamps
  and keyframe flags without decoding anything. Each sample is a keyframe within its share of
  the clip when there is one (a keyframe decodes on its own: one frame decoded per sample for
  usual videos, whose keyframes are 1-2 s apart), else the frame at the middle of its share,
  reached by seeking to the keyframe before it (or by decoding on when that keyframe is behind
  the decoder already). Only the chosen frames are kept, scaled by the decoder's scaler to
  the size the image settings give (never upscaled), turned upright and encoded as JPEG
  (PNG for flat frames).
- Each frame is introduced by a text part with its timestamp ("Video a.mp4 (1:04.0 long),
  frame 3 of 8 at 0:20.0").
- Only MP4/QuickTime, WebM/Matroska and AVI files are read, recognised by their signature, and
  their demuxer is chosen by that signature, never by probing: FFmpeg's probing also knows
  playlist formats (HLS, concat) that open further files and URLs. Nested opens are refused.
- Limits, each a clear :class:`InvalidContentError` before anything is sent: file size,
  duration, frame size (``max_input_pixels``), files without a video track or that do not
  decode.
"""

from __future__ import annotations

import bisect
import functools
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_hf_vlm._media.codec import encode_image, is_photo
from langchain_hf_vlm._media.parts import MediaPart, clock
from langchain_hf_vlm._media.settings import ImageSettings, target_size
from langchain_hf_vlm.errors import InvalidContentError

if TYPE_CHECKING:
    from PIL import Image

DEFAULT_MAX_FRAMES = 8
"""Frames per video. A 720p frame costs about 1,200 prompt tokens in Qwen2-VL-style models:
8 frames are about 10,000 tokens, within the 32k context of many served VLMs."""
DEFAULT_MAX_SECONDS = 600.0
"""Longest video accepted: beyond ten minutes, 8 frames are more than a minute apart and
miss most of what happens; sample a longer video at a rate, or cut it."""
DEFAULT_MAX_BYTES = 100_000_000
"""Largest video file accepted."""

_CONTAINERS = {
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-matroska": "matroska",
    "video/x-msvideo": "avi",
}
"""Mime type -> FFmpeg demuxer, for the containers read (and recognised by signature)."""
VIDEO_MIME_TYPES = tuple(_CONTAINERS)
_MP4_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")


@dataclass(frozen=True)
class VideoLimits:
    """How videos are sampled for one model.

    Attributes:
        max_frames: Frames sent per video.
        frames_per_second: Sample at this rate instead of ``max_frames`` evenly over the clip
            (still at most ``max_frames``); None: evenly.
        max_seconds: Longest video accepted.
        max_bytes: Largest video file accepted, in bytes.
    """

    max_frames: int = DEFAULT_MAX_FRAMES
    frames_per_second: float | None = None
    max_seconds: float = DEFAULT_MAX_SECONDS
    max_bytes: int = DEFAULT_MAX_BYTES

    def __post_init__(self) -> None:
        for name in ("max_frames", "max_seconds", "max_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.frames_per_second is not None and not self.frames_per_second > 0:
            raise ValueError(
                f"frames_per_second must be positive or None, got {self.frames_per_second}"
            )


def sniff_video_mime(data: bytes) -> str | None:
    """The mime type of an MP4, QuickTime, WebM, Matroska or AVI file from its first bytes."""
    if len(data) >= 12 and data[4:8] in _MP4_BOXES:
        return "video/quicktime" if data[4:12] == b"ftypqt  " else "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm" if b"webm" in data[:64] else "video/x-matroska"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "video/x-msvideo"
    return None


def sample_times(duration: float, limits: VideoLimits) -> list[float]:
    """When, in seconds from the start, frames are taken from a clip of ``duration``."""
    count = limits.max_frames
    if limits.frames_per_second is not None:
        count = min(count, max(1, math.floor(duration * limits.frames_per_second)))
    return [(index + 0.5) * duration / count for index in range(count)]


def sample_video(
    data: bytes, *, name: str, settings: ImageSettings, limits: VideoLimits
) -> list[MediaPart]:
    """Sample a video into labelled frames, each sized by ``settings``.

    Raises:
        InvalidContentError: The file is too large or too long, of no container read, has no
            video track, frames too large to decode, or does not decode.
    """

    def fail(problem: str) -> InvalidContentError:
        return InvalidContentError(f"video {name}: {problem}")

    if len(data) > limits.max_bytes:
        raise fail(
            f"it is {len(data):,} bytes, over the limit of {limits.max_bytes:,} (video_max_bytes)"
        )
    mime = sniff_video_mime(data)
    if mime is None:
        raise fail(
            f"it is not an MP4, QuickTime, WebM, Matroska or AVI file (starts with {data[:8]!r})"
        )
    av = _import_av()
    if av is None:
        raise fail(
            "reading videos needs PyAV: pip install '.[video]' in a clone of langchain-hf-vlm"
        )
    try:
        with av.open(
            io.BytesIO(data), mode="r", format=_CONTAINERS[mime], io_open=_refuse_nested_open
        ) as container:
            return _Sampler(container, name, settings, limits, fail).frames()
    except InvalidContentError:
        raise
    except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
        # FFmpeg's errors carry their message in strerror; str() adds errno and "<none>".
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise fail(f"it does not decode (FFmpeg: {detail})") from None


class _Sampler:
    """One pass over the packets, then decoding of the sampled frames only."""

    def __init__(
        self,
        container: Any,
        name: str,
        settings: ImageSettings,
        limits: VideoLimits,
        fail: Callable[[str], InvalidContentError],
    ) -> None:
        if not container.streams.video:
            raise fail("it has no video track")
        self.container = container
        self.stream = container.streams.video[0]
        self.name = name
        self.settings = settings
        self.limits = limits
        self.fail = fail

    def frames(self) -> list[MediaPart]:
        stream = self.stream
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > self.settings.max_input_pixels:
            raise self.fail(
                f"its frames are {width}x{height} pixels, over the "
                f"{self.settings.max_input_pixels:,} pixels decoded at most"
            )
        timestamps, keyframes, end = self._index()
        start = timestamps[0]
        time_base = float(stream.time_base)
        duration = (end - start) * time_base
        if duration > self.limits.max_seconds:
            raise self.fail(
                f"it is {clock(duration)} long, over the limit of "
                f"{clock(self.limits.max_seconds)} (video_max_seconds)"
            )
        wanted = _chosen(timestamps, keyframes, start, duration, time_base, self.limits)
        parts = []
        for number, frame in enumerate(self._decode(wanted, keyframes), start=1):
            image = self._image(frame)
            mime, encoded = encode_image(
                image, self.settings.jpeg_quality, photo=is_photo(image, None)
            )
            at = (frame.pts - start) * time_base
            label = (
                f"Video {self.name} ({clock(duration)} long), frame {number} of {len(wanted)} "
                f"at {clock(at)}"
            )
            parts.append(MediaPart(label, mime, encoded, image.width, image.height))
        return parts

    def _index(self) -> tuple[list[int], list[int], int]:
        """Every frame's presentation timestamp and the keyframes', sorted, and where the
        last frame ends; from the packets alone, nothing decoded."""
        timestamps: list[int] = []
        keyframes: list[int] = []
        end = None
        for packet in self.container.demux(self.stream):
            if packet.pts is None:  # the flushing packet at the end, or no timestamps
                continue
            timestamps.append(packet.pts)
            if packet.is_keyframe:
                keyframes.append(packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        if not timestamps or end is None:
            raise self.fail("it has no video frames with timestamps")
        if not keyframes:
            raise self.fail("it has no keyframe to start decoding from")
        timestamps.sort()
        keyframes.sort()
        return timestamps, keyframes, end

    def _decode(self, wanted: list[int], keyframes: list[int]) -> Iterator[Any]:
        """The frames at the ``wanted`` timestamps, in order, seeking forward only when the
        keyframe before a frame is past what has been decoded already."""
        frames: Iterator[Any] | None = None
        position = -math.inf
        for target in wanted:
            keyframe = keyframes[max(0, bisect.bisect_right(keyframes, target) - 1)]
            if frames is None or keyframe > position:
                self.container.seek(keyframe, stream=self.stream, backward=True)
                frames = self.container.decode(self.stream)
            for frame in frames:
                if frame.pts is None:
                    continue
                position = frame.pts
                if frame.pts >= target:
                    yield frame
                    break
            else:
                raise self.fail(f"the frame at timestamp {target} does not decode")

    def _image(self, frame: Any) -> Image.Image:
        aspect = self.stream.sample_aspect_ratio  # non-square pixels (anamorphic video)
        shown_width = round(frame.width * float(aspect)) if aspect else frame.width
        width, height = target_size(shown_width, frame.height, self.settings)
        image: Image.Image = frame.to_image(width=width, height=height, interpolation="AREA")
        if frame.rotation:
            # The display matrix turns counter-clockwise, as PIL's rotate does.
            image = image.rotate(frame.rotation, expand=True)
        return image


def _chosen(
    timestamps: list[int],
    keyframes: list[int],
    start: int,
    duration: float,
    time_base: float,
    limits: VideoLimits,
) -> list[int]:
    """The timestamps of the frames to send, one per equal share of the clip: a keyframe in
    the share when there is one (the one nearest its middle), else the frame at its middle.

    A keyframe decodes on its own; any other frame needs the frames since the keyframe before
    it. Shares do not overlap, so no two samples pick the same keyframe; the labels carry each
    frame's own time.
    """
    times = sample_times(duration, limits)
    half = duration / len(times) / 2 / time_base
    chosen = set()
    for at in times:
        middle = start + at / time_base
        first = bisect.bisect_left(keyframes, middle - half)
        last = bisect.bisect_left(keyframes, middle + half)
        if first < last:
            chosen.add(min(keyframes[first:last], key=lambda key: abs(key - middle)))
        else:
            chosen.add(timestamps[max(0, bisect.bisect_right(timestamps, middle) - 1)])
    return sorted(chosen)


@functools.cache
def _import_av() -> Any:
    try:
        import av
    except ImportError:
        return None
    return av


def _refuse_nested_open(url: str, flags: int, options: dict[str, Any]) -> Any:
    raise OSError(f"the file refers to another resource ({url[:80]!r}); not opened")


__all__ = [
    "DEFAULT_MAX_FRAMES",
    "VIDEO_MIME_TYPES",
    "VideoLimits",
    "sample_times",
    "sample_video",
    "sniff_video_mime",
]
