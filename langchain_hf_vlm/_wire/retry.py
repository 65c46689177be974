"""The retry policy of one request. Pure: no I/O (the sync and async loops only sleep).

Retryable errors (429, 502, 503, 504, connection failures, timeouts) are retried
``max_retries`` times. A server that is starting up (a scaled-to-zero Inference Endpoint, or any
server whose 503 says the model is loading) is retried further, within the
:class:`ScaleUpPolicy`'s wait budget counted from the first attempt.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn, TypeGuard

from langchain_core.exceptions import ModelError

from langchain_hf_vlm.errors import (
    APIConnectionError,
    APITimeoutError,
    HuggingFaceVLMHTTPError,
    InternalServerError,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
_BASE_DELAY = 0.5
_MAX_DELAY = 8.0
_STARTING_UP = re.compile(
    r"currently loading|is loading|initiali[sz]ing|scaled ?to ?zero|scaling up", re.IGNORECASE
)
"""Words of a 503 answer from a server that is still starting: the serverless Inference API's
``Model ... is currently loading``, and the states of an Inference Endpoint waking up."""


SCALE_UP_HEADER = "X-Scale-Up-Timeout"
SCALE_UP_WAIT_WITHOUT_TIMEOUT = 600.0
"""How long to wait for a server to start when the model has no timeout (the documentation's
example value of ``X-Scale-Up-Timeout``)."""


@dataclass(frozen=True, kw_only=True)
class ScaleUpPolicy:
    """How a request treats a server that is starting up.

    Any server whose 503 says the model is loading is waited for within ``wait_budget``; a host
    that may be scaled to zero (``asleep_when_503``) gets ``X-Scale-Up-Timeout`` too, and any of
    its 503 answers means "starting".
    """

    asleep_when_503: bool = False
    wait_budget: float = SCALE_UP_WAIT_WITHOUT_TIMEOUT
    """Seconds, from the first attempt, to keep retrying a server that is starting up."""
    header_seconds: int | None = None
    """The ``X-Scale-Up-Timeout`` value, or None for no header."""

    def with_header(self, headers: Mapping[str, str]) -> dict[str, str]:
        """``headers`` plus ``X-Scale-Up-Timeout``, unless the caller set that header."""
        merged = dict(headers)
        if self.header_seconds is not None and SCALE_UP_HEADER.lower() not in map(
            str.lower, merged
        ):
            merged[SCALE_UP_HEADER] = str(self.header_seconds)
        return merged


class Retries:
    """The retry state of one request."""

    def __init__(self, max_retries: int, scale_up: ScaleUpPolicy) -> None:
        self.max_retries = max_retries
        self.scale_up = scale_up
        self.attempt = 0
        self.started = time.monotonic()

    def next_wait(self, error: ModelError, cause: BaseException) -> float:
        """Seconds to wait before the next attempt after ``error`` (raised as ``cause``).

        Raises:
            ModelError: ``error`` when there is no next attempt, or, when a starting server
                outlasted the wait budget, an error that says so.
        """
        if not _is_retryable(error):
            _reraise(error, cause)
        delay = _backoff(error, self.attempt)
        if self.attempt >= self.max_retries:  # only a starting server is waited for further
            if not is_starting_up(error, self.scale_up.asleep_when_503):
                _reraise(error, cause)
            waited = time.monotonic() - self.started
            if waited + delay > self.scale_up.wait_budget:
                raise _still_starting(error, waited, self.scale_up.wait_budget) from cause
        self.attempt += 1
        return delay


def _backoff(error: ModelError, attempt: int) -> float:
    """The server's ``Retry-After`` (capped), or exponential backoff with jitter."""
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        return float(min(retry_after, MAX_RETRY_AFTER))
    backoff = min(_MAX_DELAY, _BASE_DELAY * 2**attempt)
    return float(backoff * (0.5 + random.random() / 2))


def _is_retryable(error: ModelError) -> bool:
    if isinstance(error, HuggingFaceVLMHTTPError):
        return error.status_code in RETRY_STATUSES
    return isinstance(error, (APIConnectionError, APITimeoutError))


def is_starting_up(error: ModelError, asleep_when_503: bool) -> TypeGuard[HuggingFaceVLMHTTPError]:
    """Whether ``error`` is a 503 from a server that is still starting: any 503 of an endpoint
    that may be scaled to zero, or a 503 whose body says the model is loading (the serverless
    Inference API's ``{"error": "Model ... is currently loading", "estimated_time": 20.0}``)."""
    if not isinstance(error, HuggingFaceVLMHTTPError) or error.status_code != 503:
        return False
    if asleep_when_503 or _STARTING_UP.search(error.server_message or ""):
        return True
    try:
        body = json.loads(error.response.content)
    except ValueError:
        return False
    return isinstance(body, dict) and "estimated_time" in body


def _still_starting(
    error: HuggingFaceVLMHTTPError, waited: float, budget: float
) -> InternalServerError:
    return InternalServerError(
        f"the server was still starting up after {waited:.1f}s of retries, and waiting longer "
        f"would exceed the model's timeout of {budget:g}s (raise timeout to wait longer for a "
        f"scaled-to-zero endpoint): {error}",
        response=error.response,
        server_message=error.server_message,
        error_type=error.error_type,
    )


def _reraise(error: ModelError, cause: BaseException) -> NoReturn:
    if error is cause:
        raise error
    raise error from cause
