"""Constructor arguments: other chat models' names for the same fields, a suggestion for a
misspelt one, and the right name for the rest; never the advice to put a misspelling where a
server ignores it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._model.arguments import ADVICE, ALIASES


def _model(**arguments: Any) -> ChatHuggingFaceVLM:
    arguments.setdefault("model", "m")
    arguments.setdefault("api_key", SecretStr("hf_x"))
    return ChatHuggingFaceVLM(**arguments)


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("max_token", "max_tokens"),
        ("temprature", "temperature"),
        ("top_logprob", "top_logprobs"),
        ("base_ur", "base_url"),
        ("max_retry", "max_retries"),
        ("stream_usages", "stream_usage"),
        ("max_new_token", "max_tokens"),  # close to an alias: the field it stands for
    ],
)
def test_a_misspelt_argument_gets_a_suggestion_and_no_extra_body_advice(
    given: str, meant: str
) -> None:
    with pytest.raises(ValueError, match=rf"{given}: did you mean {meant}\?") as info:
        _model(**{given: 5})
    assert "extra_body" not in str(info.value)


@pytest.mark.parametrize(
    ("alias", "value", "field", "expected"),
    [
        ("model_name", "Qwen/Qwen2.5-VL-7B-Instruct", "model", None),
        ("model_id", "Qwen/Qwen2.5-VL-7B-Instruct", "model", None),
        ("repo_id", "Qwen/Qwen2.5-VL-7B-Instruct", "model", None),
        ("openai_api_base", "http://127.0.0.1:8000/v1", "base_url", None),
        ("endpoint_url", "http://127.0.0.1:8000", "base_url", None),
        ("request_timeout", 30.0, "timeout", None),
        ("max_completion_tokens", 64, "max_tokens", None),
        ("max_new_tokens", 64, "max_tokens", None),
        ("stop_sequences", ["\n\n"], "stop", None),
    ],
)
def test_other_chat_models_names_are_aliases(
    alias: str, value: Any, field: str, expected: Any
) -> None:
    arguments: dict[str, Any] = {alias: value}
    if field != "model":
        arguments["model"] = "m"
    model = ChatHuggingFaceVLM(api_key=SecretStr("hf_x"), **arguments)
    assert getattr(model, field) == (value if expected is None else expected)
    assert alias not in model.model_fields_set


@pytest.mark.parametrize("alias", ["openai_api_key", "huggingfacehub_api_token"])
def test_token_aliases_are_secret(alias: str) -> None:
    arguments: dict[str, Any] = {"model": "m", alias: "hf_aliased_token"}
    model = ChatHuggingFaceVLM(**arguments)
    assert isinstance(model.api_key, SecretStr)
    assert model.api_key.get_secret_value() == "hf_aliased_token"
    assert "api_key" in model.model_fields_set  # an explicit key, as api_key= would be
    assert "hf_aliased_token" not in repr(model)


def test_request_timeout_means_what_it_means_in_chat_openai() -> None:
    """ChatOpenAI's request_timeout is its per-request timeout (an alias of timeout); here too,
    and the whole-call deadline is total_timeout."""
    openai = pytest.importorskip("langchain_openai")  # not in the huggingface_hub 2.x tier
    assert openai.ChatOpenAI.model_fields["request_timeout"].alias == "timeout"
    model = _model(request_timeout=30)
    assert model.timeout == 30
    assert model.total_timeout == 600


def test_a_field_and_its_alias_together_are_refused() -> None:
    with pytest.raises(ValueError, match=r"both max_tokens= and max_new_tokens="):
        _model(max_tokens=5, max_new_tokens=6)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("model_kwargs", "extra_body"),
        ("openai_organization", "bill_to"),
        ("openai_proxy", "HTTPS_PROXY"),
        ("llm", "model="),
        ("stream_chunk_timeout", "timeout="),
        ("top_k", "vLLM reads it"),
    ],
)
def test_other_names_are_refused_with_the_right_one(given: str, words: str) -> None:
    with pytest.raises(ValueError, match=rf"{given}: .*{words}"):
        _model(**{given: 1})


def test_an_unknown_name_far_from_any_field() -> None:
    with pytest.raises(ValueError, match=r"zzz_quux: not a field of ChatHuggingFaceVLM"):
        _model(zzz_quux=1)


def test_every_unknown_argument_is_named_once() -> None:
    with pytest.raises(ValueError, match="unknown arguments") as info:
        _model(max_token=1, temprature=0.5)
    message = str(info.value)
    assert message.count("max_token:") == 1 and message.count("temprature:") == 1


def test_aliases_name_real_fields_and_advice_names_none() -> None:
    fields = set(ChatHuggingFaceVLM.model_fields)
    assert set(ALIASES.values()) <= fields
    assert not (set(ALIASES) | set(ADVICE)) & fields
