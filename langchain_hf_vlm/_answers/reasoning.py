"""Reasoning written as ``<think>...</think>`` tags in the answer text, split off. Pure: no I/O.

Servers without a reasoning parser (``transformers serve``, vLLM started without
``--reasoning-parser``, many providers) send a thinking model's reasoning inside the content.
:class:`ThinkSplitter` takes that content piece by piece (a whole answer is one piece, a stream
one piece per delta) and hands out reasoning and answer text as soon as they are known: it holds
back only what could still be a tag (a partial ``<think>`` or ``</think>`` at the end of a
piece, and the blank space before the opening tag), so any split of a text gives the same
reasoning and answer as the whole.

The modes (``think_tags``):

- ``"auto"``: a ``<think>...</think>`` at the start of the content is reasoning; anything else is
  answer, and a ``<think>`` later on (prose about the tag) is left alone.
- ``"open"``: the chat template opens ``<think>`` in the prompt (Qwen3-VL Thinking, DeepSeek-R1),
  so the answer starts inside it: everything up to the first ``</think>`` is reasoning.
- ``"off"``: the content is left as the server sent it.

An opening tag never closed (the answer ran out of tokens while thinking) leaves everything
after it as reasoning. Blank space between ``</think>`` and the answer is dropped.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

ThinkTags = Literal["auto", "open", "off"]

OPEN = "<think>"
CLOSE = "</think>"


class _State(Enum):
    START = "start"
    """Before the first text: waiting to see whether it opens with ``<think>``."""
    THINKING = "thinking"
    AFTER = "after"
    """Right after ``</think>``: blank space before the answer is dropped."""
    ANSWER = "answer"


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a proper beginning of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Splits answer text into reasoning and answer, one piece at a time (see the module)."""

    def __init__(self, mode: ThinkTags = "auto") -> None:
        self._opened = mode == "open"
        self._state = _State.ANSWER if mode == "off" else _State.START
        self._held = ""

    def server_split(self) -> None:
        """The server sent reasoning in its own field: the content is the answer, tags or not."""
        if self._state is _State.START:
            self._state = _State.ANSWER

    def feed(self, text: str) -> tuple[str, str]:
        """One piece of content in; the (reasoning, answer) text it settles out."""
        if self._state is _State.ANSWER:  # the usual case, once past the start: no copy
            return "", text
        reasoning: list[str] = []
        answer: list[str] = []
        text = self._held + text
        self._held = ""
        while text:
            text = self._step(text, reasoning, answer)
        return "".join(reasoning), "".join(answer)

    def end(self) -> tuple[str, str]:
        """The (reasoning, answer) text still held back when the content ends."""
        held, self._held = self._held, ""
        if self._state is _State.THINKING or (self._state is _State.START and self._opened):
            return held, ""
        return "", held

    def _step(self, text: str, reasoning: list[str], answer: list[str]) -> str:
        """Consume what can be settled of ``text`` in the current state; return the rest."""
        if self._state is _State.START:
            stripped = text.lstrip()
            if stripped.startswith(OPEN):
                self._state = _State.THINKING
                return stripped[len(OPEN) :]
            if not stripped or OPEN.startswith(stripped):
                self._held = text
                return ""
            self._state = _State.THINKING if self._opened else _State.ANSWER
            return text
        if self._state is _State.THINKING:
            end = text.find(CLOSE)
            if end >= 0:
                reasoning.append(text[:end])
                self._state = _State.AFTER
                return text[end + len(CLOSE) :]
            keep = _partial_suffix(text, CLOSE)
            reasoning.append(text[: len(text) - keep])
            self._held = text[len(text) - keep :]
            return ""
        if self._state is _State.AFTER:
            text = text.lstrip()
            if text:
                self._state = _State.ANSWER
            return text
        answer.append(text)
        return ""
