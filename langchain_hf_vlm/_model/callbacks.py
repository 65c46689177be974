"""Retries reported to LangChain callbacks, in the tenacity shape their ``on_retry`` expects."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import ModelError
from tenacity import Future, RetryCallState  # the shape LangChain callbacks expect

from langchain_hf_vlm._wire.sender import RetryHook


def _state(error: ModelError, delay: float, attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    outcome = Future(attempt)
    outcome.set_exception(error)
    state.outcome = outcome
    state.upcoming_sleep = delay
    return state


def retry_reporter(
    run_manager: CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun | None,
) -> RetryHook | None:
    """A transport retry hook that tells the run's callbacks, or None without a run."""
    if run_manager is None:
        return None

    def report(error: ModelError, delay: float, attempt: int) -> Awaitable[None] | None:
        details: dict[str, Any] = {"reason": str(error), "wait_seconds": delay}
        result: Awaitable[None] | None = run_manager.on_retry(
            _state(error, delay, attempt), **details
        )
        return result

    return report
