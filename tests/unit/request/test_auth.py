"""Who gets the token (``_request.auth``): the token rule, headers, the retired serverless host."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from huggingface_hub import constants
from langchain_core.exceptions import ModelAuthenticationError
from pydantic import SecretStr

from langchain_hf_vlm import ChatHuggingFaceVLM
from langchain_hf_vlm._request import prepare as _request
from langchain_hf_vlm._request.auth import bearer_token, request_headers
from langchain_hf_vlm._servers.dialects import (
    DIALECTS,
    ROUTER_URL,
    Endpoint,
    resolve_endpoint,
)
from langchain_hf_vlm.errors import MissingTokenError

# ---------------------------------------------------------------- the token rule

ROUTER = resolve_endpoint(None, "auto")
HF_ENDPOINT = resolve_endpoint("https://abc.us-east-1.aws.endpoints.huggingface.cloud", "auto")
LOCAL = resolve_endpoint("http://127.0.0.1:8080", "auto")
THIRD_PARTY = resolve_endpoint("https://api.example.com/v1", "openai")


@pytest.fixture
def no_ambient_token(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HF_TOKEN, no login file, no OIDC: the hub finds no token at all."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_RESOURCE", "HF_OIDC_ID_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "token"))
    # The hub reads these paths once at import time: point the constants there too.
    monkeypatch.setattr(constants, "HF_HOME", str(tmp_path))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "token"))
    return tmp_path


@pytest.fixture
def env_token(monkeypatch: pytest.MonkeyPatch, no_ambient_token: Path) -> str:
    monkeypatch.setenv("HF_TOKEN", "hf_ambient_env")
    return "hf_ambient_env"


@pytest.mark.parametrize("endpoint", [ROUTER, HF_ENDPOINT, LOCAL, THIRD_PARTY])
def test_explicit_api_key_goes_anywhere(no_ambient_token: Path, endpoint: Endpoint) -> None:
    assert bearer_token(endpoint, SecretStr("sk-explicit"), explicit=True) == "sk-explicit"


@pytest.mark.parametrize("endpoint", [LOCAL, THIRD_PARTY])
def test_non_explicit_key_never_leaves_for_a_non_hf_host(
    env_token: str, endpoint: Endpoint
) -> None:
    # api_key filled from HF_TOKEN by the model (not passed by the user), and the ambient token.
    assert bearer_token(endpoint, SecretStr(env_token), explicit=False) is None
    assert bearer_token(endpoint, None, explicit=False) is None


@pytest.mark.parametrize("endpoint", [ROUTER, HF_ENDPOINT])
def test_non_explicit_key_goes_to_hf_hosts(env_token: str, endpoint: Endpoint) -> None:
    assert bearer_token(endpoint, SecretStr("hf_field"), explicit=False) == "hf_field"
    assert bearer_token(endpoint, None, explicit=False) == env_token


def test_login_file_token_goes_to_hf_hosts_only(no_ambient_token: Path) -> None:
    (no_ambient_token / "token").write_text("hf_from_login_file\n")
    assert bearer_token(ROUTER, None, explicit=False) == "hf_from_login_file"
    assert bearer_token(LOCAL, None, explicit=False) is None


def test_router_without_any_token_raises(no_ambient_token: Path) -> None:
    with pytest.raises(MissingTokenError) as info:
        bearer_token(ROUTER, None, explicit=False)
    message = str(info.value)
    assert "HF_TOKEN" in message
    assert "api_key" in message
    assert "base_url" in message
    assert isinstance(info.value, ModelAuthenticationError)
    assert isinstance(info.value, ValueError)


def test_hf_endpoint_without_token_sends_none(no_ambient_token: Path) -> None:
    # A public Inference Endpoint may need no token: only the router insists.
    assert bearer_token(HF_ENDPOINT, None, explicit=False) is None


def test_explicit_none_key_still_follows_the_rule(env_token: str) -> None:
    assert bearer_token(LOCAL, None, explicit=True) is None
    assert bearer_token(ROUTER, None, explicit=True) == env_token


# ---------------------------------------------------------------- headers


def test_request_headers() -> None:
    assert request_headers(
        ROUTER, "hf_x", bill_to="my-org", default_headers={"X-Scale-Up-Timeout": "600"}
    ) == {
        "content-type": "application/json",
        "accept": "application/json",
        "X-Scale-Up-Timeout": "600",
        "authorization": "Bearer hf_x",
        "x-hf-bill-to": "my-org",
    }


def test_request_headers_no_token_no_bill_to_for_other_hosts() -> None:
    assert request_headers(LOCAL, None, bill_to="my-org", default_headers=None) == {
        "content-type": "application/json",
        "accept": "application/json",
    }


# ---------------------------------------------------------------- the retired serverless host

RETIRED = "https://api-inference.huggingface.co/v1/"


def test_the_retired_serverless_host_reaches_the_router(env_token: str) -> None:
    # The warning comes once per process (see below): an earlier test may have had it.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        endpoints = [
            resolve_endpoint(RETIRED, "auto"),
            resolve_endpoint("https://api-inference.huggingface.co/models/m/v1", "auto"),
        ]
    for endpoint in endpoints:
        assert endpoint == Endpoint(ROUTER_URL, DIALECTS["router"], hf_host=True)
        assert bearer_token(endpoint, None, explicit=False) == env_token


def test_the_retired_host_warns_once_per_process() -> None:
    script = (
        "import warnings\n"
        "warnings.simplefilter('always')\n"
        "from langchain_hf_vlm import ChatHuggingFaceVLM\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    for _ in range(3):\n"
        f"        m = ChatHuggingFaceVLM(model='m', base_url={RETIRED!r}, api_key='hf_x')\n"
        "        assert m.endpoint.url == 'https://router.huggingface.co/v1/chat/completions'\n"
        "print([(w.category.__name__, w.filename) for w in caught])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[('DeprecationWarning', '<string>')]"  # once, pointing at the caller
    assert (
        "https://router.huggingface.co/v1"
        in subprocess.run(
            [
                sys.executable,
                "-W",
                "always",
                "-c",
                script.replace("print(", "print(caught[0].message,"),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )


# ---------------------------------------------------------------- no ambient token over plain HTTP


def test_the_ambient_token_never_goes_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambientSecret123")
    model = ChatHuggingFaceVLM(model="m", base_url="http://router.huggingface.co/v1")
    with pytest.raises(MissingTokenError, match="over plain HTTP") as info:
        model.invoke("hi")
    assert "hf_ambientSecret123" not in str(info.value)
    endpoint = ChatHuggingFaceVLM(model="m", base_url="http://x.endpoints.huggingface.cloud")
    assert "authorization" not in _request.probe_headers(
        endpoint._request_settings(), endpoint.endpoint
    )


def test_an_explicit_key_goes_where_the_user_sends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = ChatHuggingFaceVLM(
        model="m", base_url="http://router.huggingface.co/v1", api_key=SecretStr("hf_x1")
    )
    assert (
        _request.probe_headers(model._request_settings(), model.endpoint)["authorization"]
        == "Bearer hf_x1"
    )
