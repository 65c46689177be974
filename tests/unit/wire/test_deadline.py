"""The request's clock: which limit passed, and how long a socket may still wait."""

from __future__ import annotations

from langchain_hf_vlm._wire.deadline import Deadline


def test_no_limits() -> None:
    deadline = Deadline(None)
    assert deadline.remaining() is None
    assert deadline.expired() is None
    assert deadline.clamp(5.0) == 5.0
    assert deadline.clamp(None) is None
    assert deadline.allows_wait(1e9)


def test_the_request_limit_comes_first() -> None:
    deadline = Deadline(0.0, stall=0.0)
    assert deadline.expired() == "request"
    assert not deadline.allows_wait(0.0)
    clamped = deadline.clamp(5.0)
    assert clamped is not None and 0 < clamped <= 1e-6  # the socket wait ends at once


def test_a_stall_expires_and_an_event_restarts_it() -> None:
    deadline = Deadline(1000.0, stall=0.0)
    assert deadline.expired() == "stall"
    deadline.streaming(1000.0)
    assert deadline.expired() is None
    deadline.event()
    assert deadline.expired() is None
    assert deadline.clamp(2.0) == 2.0


def test_clamp_never_lengthens_a_wait() -> None:
    deadline = Deadline(1000.0)
    assert deadline.clamp(3.0) == 3.0
    clamped = deadline.clamp(None)
    assert clamped is not None and clamped <= 1000.0
    assert deadline.allows_wait(1.0)
    assert not deadline.allows_wait(2000.0)
