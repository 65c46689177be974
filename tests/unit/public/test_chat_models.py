"""ChatHuggingFaceVLM construction, routing and LangChain conventions (no network)."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._request.prepare import wire_model
from langchain_hf_vlm._servers.providers import valid_providers


def test_constructs_without_any_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct")
    assert model.api_key is None
    assert model.endpoint.url == "https://router.huggingface.co/v1/chat/completions"


@pytest.mark.parametrize("provider", ["nebius", "hyperbolic", "sambanova"])
def test_removed_provider_is_refused_with_the_valid_list(provider: str) -> None:
    with pytest.raises(ValueError, match="was removed") as info:
        ChatHuggingFaceVLM(model="m", provider=provider)
    assert "together" in str(info.value)
    assert "fastest" in str(info.value)


def test_unknown_provider_is_refused_with_the_valid_list() -> None:
    with pytest.raises(ValueError, match="unknown provider 'nope'") as info:
        ChatHuggingFaceVLM(model="m", provider="nope")
    assert "hf-inference" in str(info.value)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"provider": "together", "base_url": "http://127.0.0.1:1"}, "cannot be combined"),
        ({"model": "m:groq", "provider": "together"}, "already names a provider"),
        ({"extra_body": {"temperature": 1}}, "extra_body repeats"),
        ({"bill_to": "org", "base_url": "http://127.0.0.1:1"}, "bill_to applies"),
        ({"base_url": "ftp://host"}, "http"),
    ],
)
def test_contradictory_configuration_is_refused(fields: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        ChatHuggingFaceVLM(**{"model": "m", **fields})


def test_provider_suffix_is_sent_to_the_router() -> None:
    model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", provider="together")
    assert wire_model(model._request_settings(), None) == "Qwen/Qwen2.5-VL-7B-Instruct:together"
    assert wire_model(model._request_settings(), "other/model") == "other/model:together"
    assert (
        wire_model(ChatHuggingFaceVLM(model="m:fastest")._request_settings(), None) == "m:fastest"
    )


def test_ls_params_honour_a_per_call_model() -> None:
    model = ChatHuggingFaceVLM(model="a", temperature=0, max_tokens=5, stop=["x"])
    params = model._get_ls_params(model="b")
    assert params == {
        "ls_provider": "huggingface",
        "ls_model_name": "b",
        "ls_model_type": "chat",
        "ls_temperature": 0,
        "ls_max_tokens": 5,
        "ls_stop": ["x"],
    }


def test_profile_is_honest() -> None:
    profile = ChatHuggingFaceVLM(model="m").profile
    assert profile is not None
    assert profile["image_inputs"] is True
    assert profile["tool_calling"] is True
    assert profile["structured_output"] is True
    assert profile["audio_inputs"] is False
    assert profile["pdf_inputs"] is True  # pages rendered to images on the client
    assert profile["video_inputs"] is True  # frames sampled on the client


def test_secret_is_never_in_repr() -> None:
    model = ChatHuggingFaceVLM(model="m", api_key=SecretStr("hf_very_secret"))
    assert "hf_very_secret" not in repr(model)
    assert "hf_very_secret" not in str(model)


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("max_retries", -1, "greater than or equal to 0"),
        ("timeout", 0, "greater than 0"),
        ("max_request_bytes", 0, "greater than 0"),
        ("image_jpeg_quality", 0, "greater than or equal to 1"),
        ("image_jpeg_quality", 96, "less than or equal to 95"),
        ("image_max_side", 0, "greater than 0"),
        ("image_max_pixels", -1, "greater than 0"),
        ("image_fetch_timeout", 0, "greater than 0"),
        ("image_fetch_max_bytes", 0, "greater than 0"),
        ("image_max_input_pixels", 0, "greater than 0"),
        ("image_cache_bytes", -1, "greater than or equal to 0"),
    ],
)
def test_out_of_range_fields_are_refused_by_name(field: str, value: int, rule: str) -> None:
    fields: dict[str, Any] = {field: value}
    with pytest.raises(ValidationError, match=rf"\n{field}\n  Input should be {rule}"):
        ChatHuggingFaceVLM(model="m", **fields)


def test_unknown_arguments_are_refused_by_name() -> None:
    # pydantic would drop them silently: a misspelt field or a request parameter meant for
    # extra_body must not vanish
    with pytest.raises(ValidationError, match=r"unknown arguments \['max_token', 'top_k'\]"):
        ChatHuggingFaceVLM(model="m", max_token=5, top_k=3)  # type: ignore[call-arg]
    model = ChatHuggingFaceVLM(model="m", max_tokens=5, extra_body={"top_k": 3})
    assert (model.model, model.max_tokens, model.extra_body) == ("m", 5, {"top_k": 3})


def test_without_hubs_provider_list_providers_go_unchecked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "huggingface_hub.inference._providers", None)
    with pytest.warns(RuntimeWarning, match="provider names are not checked"):
        assert valid_providers() == ["auto", "fastest", "cheapest"]
    with pytest.warns(RuntimeWarning, match="provider names are not checked"):
        model = ChatHuggingFaceVLM(model="m", provider="some-new-provider")
    assert wire_model(model._request_settings(), None) == "m:some-new-provider"
    with pytest.warns(RuntimeWarning), pytest.raises(ValueError, match="was removed"):
        ChatHuggingFaceVLM(model="m", provider="nebius")
