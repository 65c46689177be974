"""Video frames as images: sampling, timestamps, sizes, containers, limits, bad files."""

from __future__ import annotations

import io
from typing import cast

import pytest

pytest.importorskip("av")

from PIL import Image

from langchain_hf_vlm import InvalidContentError
from langchain_hf_vlm._media import video as video_module
from langchain_hf_vlm._media.parts import MediaPart, clock
from langchain_hf_vlm._media.settings import ImageSettings
from langchain_hf_vlm._media.video import (
    VideoLimits,
    sample_times,
    sample_video,
    sniff_video_mime,
)
from tests.support.media import audio_only, video

RED, GREEN, BLUE, YELLOW, MAGENTA = "red", "green", "blue", "yellow", "magenta"


def sample(data: bytes, settings: ImageSettings | None = None, **limits: object) -> list[MediaPart]:
    return sample_video(
        data,
        name="clip.mp4",
        settings=settings or ImageSettings(),
        limits=VideoLimits(**limits),  # type: ignore[arg-type]
    )


def colour(part: MediaPart) -> str:
    """The clip's colour at the middle of a frame (below the white counting bar)."""
    image = Image.open(io.BytesIO(part.data)).convert("RGB")
    r, g, b = cast(tuple[int, int, int], image.getpixel((image.width // 2, image.height * 2 // 3)))
    if r > 150 and g > 150:
        return YELLOW
    if r > 150 and b > 150:
        return MAGENTA
    return {0: RED, 1: GREEN, 2: BLUE}[max(range(3), key=(r, g, b).__getitem__)]


# ---------------------------------------------------------------- sampling


def test_frames_are_taken_evenly_each_labelled_with_its_time() -> None:
    parts = sample(video(seconds=2, fps=10, gop=3), max_frames=4)

    times = [float(part.label.rsplit(":", 1)[1]) for part in parts]
    assert [part.label[: -len("0:00.0")] for part in parts] == [
        f"Video clip.mp4 (0:02.0 long), frame {n} of 4 at " for n in (1, 2, 3, 4)
    ]
    # One frame in each quarter of the clip (a keyframe there: keyframes are 0.3 s apart).
    assert [int(at // 0.5) for at in times] == [0, 1, 2, 3]
    assert [colour(part) for part in parts] == [RED, RED, GREEN, GREEN]


def test_without_a_keyframe_in_its_share_a_sample_is_the_middle_frame() -> None:
    # Keyframes only where the colour changes (x264 starts a new scene there): at 0 and 1 s.
    parts = sample(video(seconds=2, fps=10), max_frames=4)

    assert [part.label[-6:] for part in parts] == ["0:00.0", "0:00.7", "0:01.0", "0:01.7"]
    assert [colour(part) for part in parts] == [RED, RED, GREEN, GREEN]


def test_frames_at_a_rate_are_capped_by_the_frame_budget() -> None:
    clip = video(seconds=4, fps=10)

    at_one_per_second = sample(clip, frames_per_second=1.0)
    capped = sample(clip, frames_per_second=5.0, max_frames=3)

    assert [colour(part) for part in at_one_per_second] == [RED, GREEN, BLUE, YELLOW]
    # One frame in each second of the clip.
    assert [int(float(part.label.rsplit(":", 1)[1])) for part in at_one_per_second] == [0, 1, 2, 3]
    assert len(capped) == 3


def test_a_clip_shorter_than_the_budget_sends_each_frame_once() -> None:
    parts = sample(video(seconds=0.3, fps=10), max_frames=8)

    assert len(parts) == 3
    assert [part.label.split(", ")[-1] for part in parts] == [
        "frame 1 of 3 at 0:00.0",
        "frame 2 of 3 at 0:00.1",
        "frame 3 of 3 at 0:00.2",
    ]


def test_a_single_keyframe_clip_is_sampled_right() -> None:
    parts = sample(video(seconds=5, fps=10, gop=1000), frames_per_second=1.0)

    assert [colour(part) for part in parts] == [RED, GREEN, BLUE, YELLOW, MAGENTA]


@pytest.mark.parametrize(
    ("duration", "limits", "times"),
    [
        (8.0, VideoLimits(max_frames=4), [1.0, 3.0, 5.0, 7.0]),
        (10.0, VideoLimits(max_frames=8, frames_per_second=0.5), [1.0, 3.0, 5.0, 7.0, 9.0]),
        (100.0, VideoLimits(max_frames=2, frames_per_second=2), [25.0, 75.0]),
        (0.2, VideoLimits(max_frames=8, frames_per_second=1), [0.1]),
    ],
)
def test_sample_times(duration: float, limits: VideoLimits, times: list[float]) -> None:
    assert sample_times(duration, limits) == pytest.approx(times)


# ---------------------------------------------------------------- sizes


def test_frames_are_sized_by_the_image_settings_and_never_upscaled() -> None:
    large = sample(video(size=(1280, 720)), ImageSettings(max_pixels=64 * 36 * 4), max_frames=2)
    small = sample(video(size=(160, 120)), max_frames=2)

    assert [(part.width, part.height) for part in large] == [(128, 72)] * 2
    assert [(part.width, part.height) for part in small] == [(160, 120)] * 2
    assert Image.open(io.BytesIO(large[0].data)).size == (128, 72)


def test_frames_of_a_rotated_phone_video_are_upright() -> None:
    parts = sample(video(size=(160, 120), rotation=90), max_frames=4)

    last = Image.open(io.BytesIO(parts[-1].data)).convert("RGB")
    assert last.size == (120, 160)
    # The white bar along the top of the stored frame is along the left once turned.
    assert min(cast(tuple[int, ...], last.getpixel((2, last.height // 2)))) > 200
    assert min(cast(tuple[int, ...], last.getpixel((last.width - 3, last.height // 2)))) < 200


@pytest.mark.parametrize(
    ("container", "codec", "mime"),
    [
        ("mp4", "libx264", "video/mp4"),
        ("mov", "libx264", "video/quicktime"),
        ("webm", "libvpx", "video/webm"),
        ("matroska", "mpeg4", "video/x-matroska"),
        ("avi", "mpeg4", "video/x-msvideo"),
    ],
)
def test_containers(container: str, codec: str, mime: str) -> None:
    clip = video(seconds=2, fps=10, container=container, codec=codec)

    assert sniff_video_mime(clip) == mime
    assert [colour(part) for part in sample(clip, max_frames=2)] == [RED, GREEN]


@pytest.mark.parametrize(
    "data",
    [b"", b"\x89PNG\r\n\x1a\n" + bytes(20), b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n"],
    ids=["empty", "png", "playlist"],
)
def test_sniff_refuses_other_data(data: bytes) -> None:
    assert sniff_video_mime(data) is None


# ---------------------------------------------------------------- limits and bad files


def test_a_video_longer_than_the_limit_is_an_error() -> None:
    with pytest.raises(InvalidContentError) as caught:
        sample(video(seconds=3, fps=5), max_seconds=2.5)

    assert str(caught.value) == (
        "video clip.mp4: it is 0:03.0 long, over the limit of 0:02.5 (video_max_seconds)"
    )


def test_a_file_over_the_size_limit_is_an_error() -> None:
    with pytest.raises(InvalidContentError, match=r"over the limit of 1,000 \(video_max_bytes\)"):
        sample(video(), max_bytes=1000)


def test_frames_larger_than_the_decoding_limit_are_an_error() -> None:
    with pytest.raises(InvalidContentError, match="its frames are 320x240 pixels, over the"):
        sample(video(size=(320, 240)), ImageSettings(max_input_pixels=320 * 239))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"#EXTM3U\nhttp://127.0.0.1/x.ts\n", "not an MP4, QuickTime, WebM, Matroska or AVI file"),
        (audio_only(), "it has no video track"),
        (b"\x00\x00\x00\x18ftypisom" + bytes(100), "it does not decode"),
        (b"\x1a\x45\xdf\xa3" + bytes(60), "it does not decode"),
    ],
    ids=["playlist", "audio-only", "empty-mp4", "empty-matroska"],
)
def test_unreadable_files_are_clear_errors(data: bytes, problem: str) -> None:
    with pytest.raises(InvalidContentError, match=r"video clip\.mp4: ") as caught:
        sample(data)

    assert problem in str(caught.value)


def test_a_cut_off_stream_sends_what_it_holds_and_a_bare_header_is_an_error() -> None:
    clip = video(seconds=2, fps=10, container="webm", codec="libvpx")

    parts = sample(clip[: len(clip) // 2])
    with pytest.raises(InvalidContentError) as caught:
        sample(clip[:300])

    assert parts[0].label.startswith("Video clip.mp4 (0:00.5 long), frame 1 of")
    assert str(caught.value) == "video clip.mp4: it does not decode (FFmpeg: Input/output error)"


def test_without_pyav_a_video_is_an_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(video_module, "_import_av", lambda: None)

    with pytest.raises(InvalidContentError, match=r"pip install '\.\[video\]' in a clone"):
        sample(video())


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_frames", 0), ("max_seconds", 0), ("max_bytes", -1), ("frames_per_second", 0.0)],
)
def test_invalid_limits_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        VideoLimits(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, "0:00.0"), (12.34, "0:12.3"), (59.96, "1:00.0"), (3725.5, "1:02:05.5")],
)
def test_clock(seconds: float, shown: str) -> None:
    assert clock(seconds) == shown
