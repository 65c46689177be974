"""Router providers: policies, names newer than huggingface_hub, typos (no network)."""

from __future__ import annotations

import pytest
from huggingface_hub import __version__ as hub_version

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._request.prepare import wire_model


def test_preferred_is_a_policy_in_the_field_and_as_a_suffix() -> None:
    model = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct", provider="preferred")
    assert wire_model(model._request_settings(), None) == "Qwen/Qwen2.5-VL-7B-Instruct:preferred"
    suffixed = ChatHuggingFaceVLM(model="Qwen/Qwen2.5-VL-7B-Instruct:preferred")
    assert wire_model(suffixed._request_settings(), None) == "Qwen/Qwen2.5-VL-7B-Instruct:preferred"
    assert suffixed.profile is not None and suffixed.profile["max_input_tokens"] == 128_000


def test_a_provider_newer_than_huggingface_hub_is_sent_with_a_warning() -> None:
    with pytest.warns(UserWarning, match=f"not among those huggingface_hub {hub_version} knows"):
        model = ChatHuggingFaceVLM(model="m", provider="brand-new-cloud")
    assert wire_model(model._request_settings(), None) == "m:brand-new-cloud"
