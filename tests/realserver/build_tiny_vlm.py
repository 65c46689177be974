"""Build the tiny test VLM served by ``transformers serve`` in the real-server tests.

Runs in the *serving* venv (torch, ``transformers[serving]``, Pillow); everything is made here,
offline and seeded:

* a byte-level BPE tokenizer trained on local text (the Python stdlib sources),
* a ChatML chat template with tools (Qwen2.5 style) and a declarative response parser, so that
  ``transformers serve`` turns ``<tool_call>{json}</tool_call>`` output into OpenAI tool calls,
* a PIL image processor (no torchvision needed),
* a randomly initialised LLaVA (CLIP vision tower + Qwen2 text model, ~0.6 M parameters),

and then teaches it the fixed answers of ``answers.py`` (the rules are there; the chat template
below applies them and puts one rule token at the start of the assistant turn, so the model only
has to learn rule token -> answer, which greedy decoding then reproduces), and to think first
when asked: ``<think>{thought}</think>{answer}``, with a thought of its own per rule. That takes
400 training steps where the answers alone took 150: choosing the thought is the one step the
model takes from the token before the one it sees (the rule's thinking twin, behind
``<think>``), and at 150-250 steps it chose a wrong thought for about one request in five.

Usage::

    python build_tiny_vlm.py OUT_DIR [--steps N] [--images DIR]

It prints the exact-match score on held-out random requests and on a fixed list of canonical
requests (the ones the tests send), and exits with status 1 if the held-out score is below
``--min-accuracy`` or a canonical request is answered wrongly.
"""

from __future__ import annotations

import argparse
import base64
import copy
import glob
import io
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from PIL import Image, ImageDraw
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    CLIPVisionConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
    Qwen2Config,
)
from transformers.cli.serving.utils import BaseHandler, Modality
from transformers.models.llava.image_processing_pil_llava import LlavaImageProcessorPil
from transformers.utils import logging as hf_logging

Message = dict[str, Any]
Tool = dict[str, Any]
# messages, tools, chat template kwargs, the answer
Example = tuple[list[Message], list[Tool] | None, dict[str, Any], str]

IMAGE_SIZE = 56  # px, square after resize + centre crop
PATCH = 14  # => (56 / 14) ** 2 = 16 image tokens per image
RULE_TOKENS = [
    "<|rule_tool_result|>",
    "<|rule_tool_call|>",
    "<|rule_json|>",
    "<|rule_image|>",
    "<|rule_default|>",
]
# With thinking on, the template puts the rule's thinking twin there instead (<|rule_json_think|>):
# one token that says both, so that every step the model learns follows from the token just
# before it (rule -> <think> -> the rule's thought -> </think> -> the rule's answer).
RULE_TOKENS += [token.replace("|>", "_think|>") for token in RULE_TOKENS]
SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<image>",
    "<tool_call>",
    "</tool_call>",
    *RULE_TOKENS,
]

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.realserver.answers import (  # noqa: E402  (stdlib only: the tests use them too)
    ANS_DEFAULT,
    ANS_IMAGE,
    ANS_JSON,
    ANS_TOOL_CALL,
    ANS_TOOL_RESULT,
    THINK_END,
    THINK_MARKER,
    THINK_START,
    THOUGHTS,
    thinking,
)

ANSWERS = (ANS_TOOL_RESULT, ANS_TOOL_CALL, ANS_JSON, ANS_IMAGE, ANS_DEFAULT)

# ChatML (Qwen2.5 style) with tools. `transformers serve` hands every message's content over as a
# list of parts ({"type": "text", "text": ...} / {"type": "image", "url": ...}). The reasoning of
# an assistant turn in the history (`reasoning_content`, which vLLM hands to templates) is
# rendered as <think>...</think> before its content and tool calls, as GLM's and Kimi's templates
# do. Thinking is on when the request's `chat_template_kwargs` set `enable_thinking` (Qwen3's
# switch) or the last user text holds `/think` (Qwen3's soft switch); the template then puts the
# rule's thinking twin, and the model answers <think>{thought}</think>{answer}.
CHAT_TEMPLATE = r"""{%- macro render(content) -%}
{%- if content is string -%}{{ content }}
{%- elif content is not none -%}{%- for part in content -%}
{%- if part.type == 'image' or 'image' in part or 'image_url' in part -%}<image>
{%- elif 'text' in part -%}{{ part.text }}{%- endif -%}
{%- endfor -%}{%- endif -%}
{%- endmacro -%}
{%- if tools -%}
<|im_start|>system
{% if messages[0].role == 'system' %}{{ render(messages[0].content) }}{% else %}You are a helpful assistant.{% endif %}

# Tools

You may call one or more functions to assist with the user query.

You are provided with function signatures within <tools></tools> XML tags:
<tools>
{% for tool in tools %}{{ tool | tojson }}
{% endfor %}</tools>

For each function call, return a json object with function name and arguments within tool_call XML tags.<|im_end|>
{% elif messages[0].role != 'system' -%}
<|im_start|>system
You are a helpful assistant.<|im_end|>
{% endif -%}
{%- for message in messages -%}
{%- if message.role == 'system' and loop.first and tools -%}
{%- elif message.role == 'tool' -%}
<|im_start|>user
<tool_response>
{{ render(message.content) }}
</tool_response><|im_end|>
{% elif message.role == 'assistant' and message.tool_calls -%}
<|im_start|>assistant
{% if message.reasoning_content %}<think>{{ message.reasoning_content }}</think>{% endif %}{% if message.content %}{{ render(message.content) }}
{% endif %}{% for tc in message.tool_calls %}{% set f = tc.function if tc.function is defined else tc %}<tool_call>
{"name": "{{ f.name }}", "arguments": {{ f.arguments | tojson }}}
</tool_call>{% if not loop.last %}
{% endif %}{% endfor %}<|im_end|>
{% elif message.role == 'assistant' and message.reasoning_content -%}
<|im_start|>assistant
<think>{{ message.reasoning_content }}</think>{{ render(message.content) }}<|im_end|>
{% else -%}
<|im_start|>{{ message.role }}
{{ render(message.content) }}<|im_end|>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{#- the rule that picks the answer, as one token that opens the assistant turn -#}
{%- set last = namespace(user=none, json=false, image=false, think=enable_thinking is defined and enable_thinking) -%}
{%- for message in messages -%}{%- if message.role == 'user' -%}{%- set last.user = message.content -%}{%- endif -%}{%- endfor -%}
{%- if last.user is string -%}{%- set last.json = 'json' in last.user | lower -%}
{%- if '/think' in last.user -%}{%- set last.think = true -%}{%- endif -%}
{%- elif last.user is not none -%}{%- for part in last.user -%}
{%- if part.type == 'image' or 'image' in part or 'image_url' in part -%}{%- set last.image = true -%}
{%- elif 'text' in part and 'json' in part.text | lower -%}{%- set last.json = true -%}{%- endif -%}
{%- if 'text' in part and '/think' in part.text -%}{%- set last.think = true -%}{%- endif -%}
{%- endfor -%}{%- endif -%}
{%- if messages[-1].role == 'tool' -%}{%- set rule = 'tool_result' -%}
{%- elif tools -%}{%- set rule = 'tool_call' -%}
{%- elif last.json -%}{%- set rule = 'json' -%}
{%- elif last.image -%}{%- set rule = 'image' -%}
{%- else -%}{%- set rule = 'default' -%}{%- endif -%}
<|im_start|>assistant
<|rule_{{ rule }}{{ '_think' if last.think else '' }}|>
{%- endif -%}"""

# Declarative response parser (transformers' built-in Qwen2 fallback, but for the start anchor).
RESPONSE_TEMPLATE: dict[str, Any] = {
    "defaults": {"role": "assistant"},
    # the assistant turn starts after the rule token the chat template puts there
    "start_anchor_pattern": r"<\|im_start\|>assistant\n(?:<\|rule_[a-z_]+\|>)?",
    "fields": {
        "tool_calls": {
            "open_pattern": r"\s*<tool_call>",
            "close": "</tool_call>",
            "repeats": True,
            "content": "json",
            "transform": {"type": "function", "function": "{content}"},
        },
        "content": {"close_pattern": r"\s*(?:<\|im_end\|>|<\|endoftext\|>)", "content": "text"},
    },
}


def say(message: str, err: bool = False) -> None:
    """Progress output (sys.stdout.write rather than print: nothing a linter fix would remove)."""
    stream = sys.stderr if err else sys.stdout
    stream.write(message + "\n")
    stream.flush()


# ------------------------------------------------------------------------------------ build


def tokenizer_corpus() -> list[str]:
    """Local text: the Python stdlib sources, plus the fixed answers and some chat phrases (so
    that the answers take fewer tokens, which the model learns faster)."""
    stdlib = os.path.dirname(os.__file__)
    texts = []
    for path in sorted(glob.glob(os.path.join(stdlib, "*.py")))[:150]:
        with open(path, encoding="utf-8", errors="ignore") as fh:
            texts.append(fh.read())
    texts.extend(["\n".join(ANSWERS + PHRASES + JSON_PHRASES), " ".join(COMMON_WORDS)] * 200)
    return texts


def build(out_dir: Path) -> tuple[LlavaProcessor, LlavaForConditionalGeneration]:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        tokenizer_corpus(),
        trainer=trainers.BpeTrainer(
            vocab_size=2000,
            special_tokens=SPECIAL,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    # The whole tool-call answer as one ordinary (not special) token: byte-level BPE cuts it into
    # ~30 look-alike pieces (`"`, `":`, `<tool_call>`, ...) that a 2-layer model keeps confusing
    # with the JSON and tool calls in the prompt for many hundred steps. (The server parses and
    # sends a tool call as a whole anyway, so nothing a client sees changes.)
    tok.add_tokens([AddedToken(ANS_TOOL_CALL, normalized=False)])
    # Thinking: the tags as ordinary tokens of their own (vLLM's reasoning parsers find them by
    # token id; not special, so `transformers serve` keeps them in the text) and each rule's
    # thought as one token, so that the answer after </think> follows from the token just before.
    tok.add_tokens(
        [
            AddedToken(text, normalized=False)
            for text in (THINK_START, THINK_END, *THOUGHTS.values())
        ]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        model_max_length=4096,
        response_template=RESPONSE_TEMPLATE,
    )
    tid = tokenizer.convert_tokens_to_ids
    image_processor = LlavaImageProcessorPil(
        size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="default",  # drops CLS => 16 tokens
        num_additional_image_tokens=1,  # CLIP's CLS token
        chat_template=CHAT_TEMPLATE,
        image_token="<image>",
    )
    processor.save_pretrained(out_dir)
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH,
            projection_dim=32,
        ).to_dict(),
        text_config=Qwen2Config(
            vocab_size=len(tokenizer),
            hidden_size=128,
            intermediate_size=256,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=4096,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=tid("<|im_end|>"),
            pad_token_id=tid("<|endoftext|>"),
        ).to_dict(),
        image_token_index=tid("<image>"),
        image_seq_length=(IMAGE_SIZE // PATCH) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
        tie_word_embeddings=True,
    )
    model = LlavaForConditionalGeneration(config)
    gc = model.generation_config
    gc.eos_token_id = tid("<|im_end|>")
    gc.pad_token_id = tid("<|endoftext|>")
    gc.do_sample = False
    return processor, model


# --------------------------------------------------------------------------- training data

COMMON_WORDS = [
    "hello",
    "hi",
    "hey",
    "what",
    "is",
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "with",
    "how",
    "are",
    "you",
    "please",
    "tell",
    "me",
    "about",
    "this",
    "that",
    "image",
    "picture",
    "photo",
    "describe",
    "weather",
    "city",
    "today",
    "tomorrow",
    "number",
    "sum",
    "add",
    "multiply",
    "result",
    "answer",
    "question",
    "good",
    "morning",
    "thanks",
    "ok",
    "yes",
    "no",
    "can",
    "could",
    "would",
    "should",
    "show",
    "list",
    "give",
    "write",
    "short",
    "story",
    "poem",
    "cat",
    "cats",
    "dog",
    "joke",
    "color",
    "colour",
    "favorite",
    "my",
    "your",
    "sister",
    "brother",
    "name",
    "value",
    "function",
    "tool",
    "use",
    "using",
    "generate",
    "greeting",
    "style",
    "pirate",
    "summarize",
    "document",
    "text",
    "explain",
    "why",
    "where",
    "when",
    "who",
    "which",
    "table",
    "chart",
    "red",
    "green",
    "blue",
    "big",
    "small",
    "one",
    "two",
    "three",
    "four",
    "five",
    "seven",
    "ten",
    "hundred",
    "Paris",
    "London",
    "Tokyo",
    "Berlin",
    "New",
    "York",
    "water",
    "coffee",
    "code",
    "python",
    "run",
    "test",
    "model",
    "data",
    "file",
    "format",
    "output",
    "return",
    "respond",
    "reply",
    "only",
    "include",
    "in",
    "as",
    "please",
    "now",
    "again",
]

PHRASES = (
    "Hello",
    "hello",
    "hi",
    "Hi!",
    "Hello, how are you?",
    "Hello. Please respond in the style of a pirate.",
    "Well, thanks.",
    "How are you?",
    "What is 3 + 4?",
    "What is 3 * 12? Also, what is 11 + 49?",
    "What is the value of magic_function(3)? Use the tool.",
    "What is the value of magic_function_no_args()? Use the tool.",
    "Using the tool, generate a Pirate greeting.",
    "What's the weather in Paris?",
    "What is the weather in San Francisco today?",
    "Tell me a joke about cats.",
    "Give me a joke about cats, include the punchline.",
    "Write me 2 haikus. Only include the haikus.",
    "Give a concise description of this image.",
    "describe the weather in this image",
    "Describe this image.",
    "What is in this image?",
    "What's in this picture?",
    "what's your favorite color in this image",
    "what's my sister's favorite color",
    "green is a great pick! ",
    "Summarize this document:",
    "some text",
    "Hmm let me think about that",
    "Say hi.",
    "Count to five.",
    "Translate 'good morning' to French.",
    "Error: Missing required argument 'b'.",
)

JSON_PHRASES = (
    "Return the result as JSON.",
    "Tell me a joke about cats. Return the result as JSON with 'setup' and 'punchline' keys.",
    "Answer in JSON.",
    "Respond with a json object.",
    "Give me JSON",
    "json please",
    "Output valid JSON only.",
    "What is in this image? Reply in JSON.",
    "Describe the image as json.",
    "Format the answer as JSON: name and ok.",
)
JSON_WORDS = ("json", "JSON", "Json", "JSON.", "json:", "(JSON)", "JSON?", "`json`")

TOOL_NAMES = (
    "get_weather",
    "GetWeather",
    "get_current_weather",
    "search",
    "web_search",
    "add",
    "multiply",
    "magic_function",
    "magic_function_no_args",
    "greeting_generator",
    "lookup_user",
    "send_email",
    "Calculator",
    "get_time",
)

TOOL_RESULTS = (
    "It's sunny.",
    "7",
    "22",
    "sunny, 21 C",
    '{"temperature": 21, "unit": "C"}',
    "Error: Missing required argument 'b'.",
    "Arrr, ahoy there!",
    "[1, 2, 3]",
    "ok",
)


class Gen:
    """Random chat-completion requests (OpenAI format) and the answers the rules give them."""

    def __init__(self, seed: int, vocab_words: list[str]) -> None:
        self.rng = random.Random(seed)
        self.vocab_words = vocab_words

    # ---- text
    def words(self, n: int) -> str:
        rng = self.rng
        pool = self.vocab_words if rng.random() < 0.5 else COMMON_WORDS
        return " ".join(rng.choice(pool) for _ in range(n))

    def text(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            out = rng.choice(PHRASES)
        elif r < 0.75:
            out = self.words(rng.randint(1, 14))
            if rng.random() < 0.5:
                out = out[:1].upper() + out[1:]
            if rng.random() < 0.6:
                out += rng.choice(".?!:")
            if rng.random() < 0.15:
                out += f" {rng.randint(0, 9999)}"
        else:
            out = f"{rng.choice(PHRASES)} {self.words(rng.randint(1, 8))}"
        return out

    def json_text(self) -> str:
        rng = self.rng
        if rng.random() < 0.4:
            return rng.choice(JSON_PHRASES)
        ws = self.text().split(" ")
        ws.insert(rng.randint(0, len(ws)), rng.choice(JSON_WORDS))
        return " ".join(ws)

    # ---- images
    def image_bytes(self) -> tuple[bytes, str]:
        rng = self.rng
        w, h = rng.randint(4, 320), rng.randint(4, 320)
        kind = rng.random()
        img: Image.Image
        if kind < 0.3:
            color = tuple(rng.randint(0, 255) for _ in range(3))
            img = Image.new("RGB", (w, h), color)
        elif kind < 0.55:
            img = Image.frombytes("RGB", (w, h), rng.randbytes(w * h * 3))
        elif kind < 0.75:
            img = Image.linear_gradient("L").resize((w, h)).rotate(rng.choice([0, 90, 180]))
            if rng.random() < 0.5:
                img = img.convert("RGB")
        else:
            img = Image.new("RGB", (w, h), tuple(rng.randint(0, 255) for _ in range(3)))
            draw = ImageDraw.Draw(img)
            for _ in range(rng.randint(1, 6)):
                x0, y0 = rng.randint(0, w), rng.randint(0, h)
                x1, y1 = min(w, x0 + rng.randint(1, w)), min(h, y0 + rng.randint(1, h))
                fill = tuple(rng.randint(0, 255) for _ in range(3))
                draw.rectangle((x0, y0, x1, y1), fill=fill)
            if rng.random() < 0.3:
                img = img.convert("RGBA")
        buf = io.BytesIO()
        if img.mode in ("RGB", "L") and rng.random() < 0.4:
            img.save(buf, "JPEG", quality=rng.randint(30, 95))
            return buf.getvalue(), "image/jpeg"
        img.save(buf, "PNG")
        return buf.getvalue(), "image/png"

    def image_part(self) -> dict[str, Any]:
        data, mime = self.image_bytes()
        url = f"data:{mime};base64," + base64.b64encode(data).decode()
        image_url: dict[str, Any] = {"url": url}
        if self.rng.random() < 0.2:
            image_url["detail"] = self.rng.choice(["auto", "low", "high"])
        return {"type": "image_url", "image_url": image_url}

    # ---- messages
    def user(self, text: str | None, n_images: int) -> Message:
        rng = self.rng
        parts: list[dict[str, Any]] = []
        if text is not None:
            parts.append({"type": "text", "text": text})
        for _ in range(n_images):
            parts.insert(rng.randint(0, len(parts)), self.image_part())
        if n_images == 0 and text is not None and rng.random() < 0.5:
            return {"role": "user", "content": text}
        return {"role": "user", "content": parts}

    def tool(self, name: str) -> Tool:
        rng = self.rng
        props = {
            self.words(1).split(" ")[0]: {"type": rng.choice(["string", "integer", "number"])}
            for _ in range(rng.randint(0, 3))
        }
        fn: dict[str, Any] = {"name": name, "description": self.text()}
        fn["parameters"] = {"type": "object", "properties": props, "required": list(props)[:1]}
        return {"type": "function", "function": fn}

    def tool_cycle(self) -> list[Message]:
        """An assistant turn with tool calls, then one tool message per call."""
        rng = self.rng
        calls = []
        for i in range(rng.choice([1, 1, 1, 2])):
            args = {self.words(1).split(" ")[0]: rng.choice([self.words(1), rng.randint(0, 99)])}
            calls.append(
                {
                    "id": f"call_{rng.randint(0, 10**6)}_{i}",
                    "type": "function",
                    "function": {"name": rng.choice(TOOL_NAMES), "arguments": json.dumps(args)},
                }
            )
        msgs: list[Message] = [{"role": "assistant", "content": None, "tool_calls": calls}]
        if rng.random() < 0.3:  # a thinking model's turn, its reasoning sent back
            msgs[0]["reasoning_content"] = self.thought()
        for call in calls:
            content: Any = rng.choice(TOOL_RESULTS) if rng.random() < 0.6 else self.text()
            if rng.random() < 0.3:
                content = [{"type": "text", "text": content}]
            msgs.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        return msgs

    def history(self, allow_json: bool) -> list[Message]:
        rng = self.rng
        msgs: list[Message] = []
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            text = self.json_text() if allow_json and rng.random() < 0.05 else self.text()
            msgs.append(self.user(text, 1 if rng.random() < 0.2 else 0))
            if rng.random() < 0.2:
                msgs.extend(self.tool_cycle())
            reply = rng.choice(ANSWERS[2:]) if rng.random() < 0.3 else self.text()
            msgs.append({"role": "assistant", "content": reply})
            if rng.random() < 0.15:
                msgs[-1]["reasoning_content"] = self.thought()
        return msgs

    def thought(self) -> str:
        """Reasoning of a history turn: one of the model's own thoughts, or any text."""
        return self.rng.choice(list(THOUGHTS.values())) if self.rng.random() < 0.5 else self.text()

    def example(self) -> Example:
        rng = self.rng
        kind = rng.choices(
            ["tool_result", "tools", "json", "image", "default"], weights=[17, 20, 18, 20, 25]
        )[0]
        msgs: list[Message] = []
        if rng.random() < 0.35:
            sys_text = self.json_text() if rng.random() < 0.1 else self.text()
            if rng.random() < 0.5:
                msgs.append({"role": "system", "content": sys_text})
            else:
                msgs.append({"role": "system", "content": [{"type": "text", "text": sys_text}]})
        msgs.extend(self.history(allow_json=True))
        tools: list[Tool] | None = None
        if kind == "tools" or (kind == "tool_result" and rng.random() < 0.9):
            tools = [self.tool(rng.choice(TOOL_NAMES)) for _ in range(rng.randint(1, 3))]
        if kind == "json":
            text: str | None = self.json_text()
        else:
            text = self.text()
        if kind == "image":
            n_img = rng.choice([1, 1, 1, 2, 3])
            if rng.random() < 0.15:
                text = None
        elif kind in ("json", "tools", "tool_result"):
            n_img = rng.choice([0, 0, 0, 1])
        else:
            n_img = 0
        template_kwargs: dict[str, Any] = {}
        roll = rng.random()
        if roll < 0.25:  # thinking asked for by the soft switch in the text
            text = (
                f"{text} {THINK_MARKER}"
                if text and rng.random() < 0.7
                else f"{THINK_MARKER} {text or ''}"
            )
        elif roll < 0.45:  # ...or by the chat template's switch
            template_kwargs["enable_thinking"] = True
        elif roll < 0.55:
            template_kwargs["enable_thinking"] = False
        msgs.append(self.user(text, n_img))
        if rng.random() < 0.05:  # two user messages in a row
            msgs.insert(-1, self.user(self.text(), 0))
        if kind == "tool_result":
            msgs.extend(self.tool_cycle())
        answer = expected_answer(msgs, tools, template_kwargs)
        return msgs, tools, template_kwargs, answer


def expected_answer(
    messages: list[Message], tools: list[Tool] | None, template_kwargs: dict[str, Any]
) -> str:
    """The rules, on OpenAI-format messages (the spec the tests rely on)."""
    last_user = next(m for m in reversed(messages) if m["role"] == "user")
    content = last_user["content"]
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content or []
    answer = _rule_answer(messages, tools, parts)
    marked = any(p["type"] == "text" and THINK_MARKER in p["text"] for p in parts)
    return thinking(answer) if marked or template_kwargs.get("enable_thinking") else answer


def _rule_answer(
    messages: list[Message], tools: list[Tool] | None, parts: list[dict[str, Any]]
) -> str:
    if messages[-1]["role"] == "tool":
        return ANS_TOOL_RESULT
    if tools:
        return ANS_TOOL_CALL
    if any(p["type"] == "text" and "json" in p["text"].lower() for p in parts):
        return ANS_JSON
    if any(p["type"] == "image_url" for p in parts):
        return ANS_IMAGE
    return ANS_DEFAULT


def canonical_requests() -> list[tuple[list[Message], list[Tool] | None, dict[str, Any]]]:
    """Requests the tests send verbatim; every one of them must be answered right."""
    red_png = base64.b64encode(_solid_png(8, 8, (255, 0, 0))).decode()
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{red_png}"}}
    weather = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    user_w = {"role": "user", "content": "What's the weather in Paris?"}
    think = {"enable_thinking": True}
    turn = {"role": "assistant", "content": None, "tool_calls": [call]}
    thought_turn = {**turn, "reasoning_content": THOUGHTS[ANS_TOOL_CALL]}
    result = {"role": "tool", "tool_call_id": "call_1", "content": "It's sunny, 21 C."}
    plain: list[tuple[list[Message], list[Tool] | None]] = [
        ([{"role": "user", "content": "Hello"}], None),
        ([{"role": "user", "content": "hi"}], None),
        ([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi!"}], None),
        (
            [
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": ANS_DEFAULT},
                {"role": "user", "content": "How are you?"},
            ],
            None,
        ),
        ([{"role": "user", "content": [{"type": "text", "text": "Describe this image."}, image]}], None),
        ([{"role": "user", "content": [image]}], None),
        ([{"role": "user", "content": "Tell me about cats. Return the result as JSON."}], None),
        ([{"role": "user", "content": "Reply in json."}], None),
        ([user_w], [weather]),
        ([{"role": "user", "content": "hi"}], [weather]),
        ([user_w, {"role": "assistant", "content": None, "tool_calls": [call]},
          {"role": "tool", "tool_call_id": "call_1", "content": "It's sunny, 21 C."}], [weather]),
        ([user_w, {"role": "assistant", "content": "", "tool_calls": [call]},
          {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}], None),
    ]  # fmt: skip
    thinking_requests: list[tuple[list[Message], list[Tool] | None, dict[str, Any]]] = [
        ([{"role": "user", "content": "Hello"}], None, think),
        ([{"role": "user", "content": f"Hello {THINK_MARKER}"}], None, {}),
        ([{"role": "user", "content": [{"type": "text", "text": "Describe this image."}, image]}], None, think),
        ([{"role": "user", "content": "Reply in json."}], None, think),
        ([user_w], [weather], think),
        ([{"role": "user", "content": f"What's the weather in Paris? {THINK_MARKER}"}], [weather], {}),
        ([user_w, thought_turn, result], [weather], think),
        ([user_w, thought_turn, result], [weather], {}),
        ([user_w, turn, result], [weather], think),
        ([{"role": "user", "content": "Hello"}], None, {"enable_thinking": False}),
    ]  # fmt: skip
    return [(m, t, {}) for m, t in plain] + thinking_requests


def _solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    img = Image.new("RGB", (width, height), rgb)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# -------------------------------------------------------------------------------- training


THOUGHT_WEIGHT = 8.0


class Encoder:
    def __init__(self, processor: LlavaProcessor) -> None:
        self.processor = processor
        self.tok = processor.tokenizer
        self.eos_id: int = self.tok.eos_token_id
        # the first token of a thinking answer's thought: the one step the model takes from
        # the token before the one it sees (the rule's twin, behind <think>), so weighted up
        self.thought_ids = torch.tensor(self.tok.convert_tokens_to_ids(list(THOUGHTS.values())))

    def prompt(
        self, messages: list[Message], tools: list[Tool] | None, template_kwargs: dict[str, Any]
    ) -> Any:
        # what `transformers serve` does with a chat-completion request...
        inputs = BaseHandler.get_processor_inputs_from_messages(
            copy.deepcopy(messages), Modality.VLM
        )
        # ...which keeps no reasoning of the history; vLLM hands it to the template (as
        # `reasoning_content`), so the model learns histories with reasoning as vLLM renders them
        for message, parsed in zip(messages, inputs, strict=True):
            if message.get("reasoning_content"):
                parsed["reasoning_content"] = message["reasoning_content"]
        return self.processor.apply_chat_template(
            inputs,
            add_generation_prompt=True,
            tools=tools,
            **template_kwargs,
            tokenize=True,
            return_dict=True,
            return_tensors="pt",
        )

    def target(self, answer: str) -> list[int]:
        ids: list[int] = self.tok(answer, add_special_tokens=False)["input_ids"]
        return [*ids, self.eos_id]

    def loss(self, model: Any, example: Example) -> Any:
        """Cross-entropy on the answer tokens (and the closing <|im_end|>) only, a thought
        weighing THOUGHT_WEIGHT tokens."""
        messages, tools, template_kwargs, answer = example
        enc = self.prompt(messages, tools, template_kwargs)
        target = torch.tensor(self.target(answer))
        n = len(target)
        input_ids = torch.cat([enc["input_ids"][0], target])[None]
        out = model(
            input_ids=input_ids,
            attention_mask=torch.ones_like(input_ids),
            pixel_values=enc.get("pixel_values"),
            logits_to_keep=n + 1,  # logits for the answer positions only
        )
        losses = torch.nn.functional.cross_entropy(out.logits[0, :-1], target, reduction="none")
        weights = 1.0 + (THOUGHT_WEIGHT - 1.0) * torch.isin(target, self.thought_ids).float()
        return (losses * weights).sum() / weights.sum()


def train(
    model: LlavaForConditionalGeneration,
    encoder: Encoder,
    gen: Gen,
    steps: int,
    batch_size: int,
    lr: float,
) -> None:
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    t0 = time.time()
    for step in range(steps):
        # one example per forward pass (gradient accumulation): no padding, which on a CPU is
        # faster than real batches
        total = 0.0
        for _ in range(batch_size):
            loss = encoder.loss(model, gen.example()) / batch_size
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 25 == 0 or step == steps - 1:
            say(f"step {step:4d} loss {total:.4f} t={time.time() - t0:.1f}s")
    model.eval()


@torch.no_grad()
def answer_of(
    model: Any,
    encoder: Encoder,
    messages: list[Message],
    tools: list[Tool] | None,
    template_kwargs: dict[str, Any],
) -> str:
    enc = encoder.prompt(messages, tools, template_kwargs)
    out = model.generate(**enc, max_new_tokens=48, do_sample=False)
    new = out[0, enc["input_ids"].shape[1] :].tolist()
    if new and new[-1] == encoder.eos_id:
        return str(encoder.tok.decode(new[:-1], skip_special_tokens=False))
    return str(encoder.tok.decode(new, skip_special_tokens=False)) + "<no eos>"


def evaluate(model: Any, encoder: Encoder, seed: int, n: int) -> tuple[int, int, int]:
    gen = Gen(seed, _vocab_words(encoder))
    ok = 0
    for _ in range(n):
        messages, tools, template_kwargs, answer = gen.example()
        got = answer_of(model, encoder, messages, tools, template_kwargs)
        ok += got == answer
        if got != answer:
            say(f"  held-out MISMATCH want {answer!r} got {got!r}")
    canon_ok = 0
    canon = canonical_requests()
    for messages, tools, template_kwargs in canon:
        answer = expected_answer(messages, tools, template_kwargs)
        got = answer_of(model, encoder, messages, tools, template_kwargs)
        canon_ok += got == answer
        if got != answer:
            say(f"  canonical MISMATCH want {answer!r} got {got!r}: {messages[-1]}")
    return ok, canon_ok, len(canon)


def _vocab_words(encoder: Encoder) -> list[str]:
    tok = encoder.tok
    words = (tok.decode([i]).strip() for i in range(len(SPECIAL), len(tok)))
    return [w for w in words if w.isalpha() and len(w) > 2 and "json" not in w.lower()]


# ------------------------------------------------------------------------------ fixtures


def write_fixture_images(folder: Path) -> None:
    """Images only Pillow can make (JPEG, WebP, GIF) for the local image server of the tests."""
    folder.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (320, 240), (40, 90, 160))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 140, 300, 230), fill=(30, 140, 60))
    draw.ellipse((220, 20, 290, 90), fill=(250, 210, 40))
    draw.polygon([(60, 140), (120, 60), (180, 140)], fill=(120, 120, 120))
    img.save(folder / "photo.jpg", "JPEG", quality=85)
    img.save(folder / "photo.webp", "WEBP", quality=80)
    img.convert("P").save(folder / "photo.gif", "GIF")
    img.resize((2048, 1536)).save(folder / "large.jpg", "JPEG", quality=80)


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--steps", type=int, default=400, help="training steps (0: random weights)")
    ap.add_argument("--batch-size", type=int, default=4, help="examples per optimizer step")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval", type=int, default=100, help="held-out requests to score")
    ap.add_argument("--min-accuracy", type=float, default=0.9)
    ap.add_argument("--images", type=Path, help="also write JPEG/WebP/GIF fixture images here")
    args = ap.parse_args(argv)

    t0 = time.time()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    torch.set_num_threads(2)  # fixed, so that the float reductions (and the weights) repeat
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)

    processor, model = build(out)
    encoder = Encoder(processor)
    n_params = sum(p.numel() for p in model.parameters())
    say(f"built: vocab {len(encoder.tok)}, {n_params:,} params, t={time.time() - t0:.1f}s")

    if args.steps > 0:
        gen = Gen(args.seed, _vocab_words(encoder))
        train(model, encoder, gen, args.steps, args.batch_size, args.lr)
        say(f"trained {args.steps} steps x {args.batch_size}, t={time.time() - t0:.1f}s")
    model.save_pretrained(out)

    # score the saved checkpoint, loaded as `transformers serve` loads it
    t1 = time.time()
    loaded = AutoModelForImageTextToText.from_pretrained(out).eval()
    encoder = Encoder(AutoProcessor.from_pretrained(out))
    ok, canon_ok, canon_n = evaluate(loaded, encoder, args.seed + 1_000_003, args.eval)
    accuracy = ok / args.eval if args.eval else 1.0
    say(
        f"held-out exact match {ok}/{args.eval} ({accuracy:.0%}); "
        f"canonical requests {canon_ok}/{canon_n}; eval {time.time() - t1:.1f}s"
    )
    info = {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "held_out": [ok, args.eval],
        "canonical": [canon_ok, canon_n],
        "seconds": round(time.time() - t0, 1),
        "torch": torch.__version__,
    }
    (out / "tiny_vlm_build.json").write_text(json.dumps(info, indent=1) + "\n")
    if args.images:
        write_fixture_images(args.images)
    say(f"done in {time.time() - t0:.1f}s -> {out}")
    if args.steps > 0 and (accuracy < args.min_accuracy or canon_ok < canon_n):
        say("FAILED: the tiny model did not learn its fixed answers well enough", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
