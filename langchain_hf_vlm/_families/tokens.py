"""Token estimates without a tokenizer. Pure.

Text: one token per four ASCII characters, rounded up, plus one per other character. English
prose and code run at about four characters per token in the byte-level BPE vocabularies of
these models (Qwen, Llama, Gemma, GLM); CJK text at about one per character; so the estimate
is close for English and errs high elsewhere, the side that keeps a trimmed conversation
within the context.

Chat framing: each message costs :data:`MESSAGE_OVERHEAD` tokens for its role markers (ChatML's
``<|im_start|>role\\n ... <|im_end|>\\n`` is five), and the answer's opening
:data:`REPLY_PRIMING`.
"""

from __future__ import annotations

MESSAGE_OVERHEAD = 5
REPLY_PRIMING = 3


def text_tokens(text: str) -> int:
    """The estimated number of tokens of ``text``."""
    if text.isascii():
        return -(-len(text) // 4)
    ascii_chars = sum(char.isascii() for char in text)
    return -(-ascii_chars // 4) + len(text) - ascii_chars
