"""Where requests go, which dialect they speak, and who gets the token."""

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
    FINGERPRINTS,
    ROUTER_URL,
    Backend,
    Dialect,
    Endpoint,
    chat_completions_url,
    is_hf_host,
    resolve_endpoint,
)
from langchain_hf_vlm.errors import MissingTokenError

# ---------------------------------------------------------------- URLs and dialects


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080///", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
        (
            "http://127.0.0.1:8080/v1/chat/completions",
            "http://127.0.0.1:8080/v1/chat/completions",
        ),
        (
            "http://127.0.0.1:8080/v1/chat/completions/",
            "http://127.0.0.1:8080/v1/chat/completions",
        ),
        ("https://host.example/serve/qwen", "https://host.example/serve/qwen/v1/chat/completions"),
        ("https://router.huggingface.co/v1", "https://router.huggingface.co/v1/chat/completions"),
    ],
)
def test_chat_completions_url(base_url: str, expected: str) -> None:
    assert chat_completions_url(base_url) == expected


def test_router_url() -> None:
    assert ROUTER_URL == "https://router.huggingface.co/v1/chat/completions"


ENDPOINT = "https://abc123.us-east-1.aws.endpoints.huggingface.cloud"


@pytest.mark.parametrize(
    ("base_url", "backend", "expected"),
    [
        pytest.param(None, "auto", (ROUTER_URL, "router", True, True), id="router-default"),
        pytest.param(None, "router", (ROUTER_URL, "router", True, True), id="router-explicit"),
        pytest.param(
            "https://router.huggingface.co/v1",
            "auto",
            (ROUTER_URL, "router", True, True),
            id="router-as-base-url",
        ),
        pytest.param(
            ENDPOINT,
            "auto",
            (f"{ENDPOINT}/v1/chat/completions", "tgi", True, True),
            id="inference-endpoint-is-tgi",
        ),
        pytest.param(
            f"{ENDPOINT}/v1/",
            "vllm",
            (f"{ENDPOINT}/v1/chat/completions", "vllm", True, True),
            id="inference-endpoint-explicit-vllm",
        ),
        pytest.param(
            "http://localhost:8000",
            "auto",
            ("http://localhost:8000/v1/chat/completions", "openai", False, False),
            id="other-host-guessed-openai",
        ),
        pytest.param(
            "https://user-space.hf.space",
            "auto",
            ("https://user-space.hf.space/v1/chat/completions", "openai", True, False),
            id="space-guessed-openai",
        ),
        pytest.param(
            "http://localhost:8000/v1",
            "tgi",
            ("http://localhost:8000/v1/chat/completions", "tgi", False, True),
            id="explicit-tgi",
        ),
        pytest.param(
            "http://localhost:8000",
            "openai",
            ("http://localhost:8000/v1/chat/completions", "openai", False, True),
            id="explicit-openai",
        ),
    ],
)
def test_resolve_endpoint(
    base_url: str | None, backend: Backend, expected: tuple[str, str, bool, bool]
) -> None:
    url, dialect, hf_host, known = expected
    endpoint = resolve_endpoint(base_url, backend)
    assert endpoint == Endpoint(url, DIALECTS[dialect], hf_host=hf_host, dialect_known=known)


@pytest.mark.parametrize(
    ("base_url", "info_url"),
    [
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/info"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/info"),
        ("https://host.example/serve/qwen", "https://host.example/serve/qwen/info"),
    ],
)
def test_info_url(base_url: str, info_url: str) -> None:
    tgi = FINGERPRINTS[0]
    assert tgi.dialect == "tgi"
    assert resolve_endpoint(base_url, "auto").root + tgi.route == info_url


@pytest.mark.parametrize(
    ("info", "dialect"),
    [
        ({"model_id": "Qwen/Qwen2.5-VL-7B-Instruct", "version": "3.3.4"}, "tgi"),
        ({"detail": "Not Found"}, "openai"),
        (None, "openai"),
        ("model_id version", "openai"),
    ],
)
def test_identified_settles_the_dialect(info: object, dialect: str) -> None:
    guessed = resolve_endpoint("http://127.0.0.1:8080", "auto")
    tgi = FINGERPRINTS[0]
    settled = guessed.identified(tgi.dialect if tgi.matches(info) else None)
    assert settled == Endpoint(
        "http://127.0.0.1:8080/v1/chat/completions", DIALECTS[dialect], False, dialect_known=True
    )


VLLM_MODELS = {  # vLLM 0.32's GET /v1/models, trimmed
    "object": "list",
    "data": [{"id": "tiny/vlm", "object": "model", "owned_by": "vllm", "max_model_len": 1024}],
}


@pytest.mark.parametrize(
    ("answers", "dialect"),
    [
        pytest.param(({"detail": "Not Found"}, VLLM_MODELS), "vllm", id="vllm"),
        pytest.param((None, {"data": [{"id": "m", "owned_by": "sglang"}]}), "openai", id="other"),
        pytest.param((None, {"data": "vllm"}), "openai", id="malformed"),
        pytest.param((None, {"version": "0.32.0"}), "openai", id="version-shape"),
        pytest.param(({"model_id": "m", "version": "3.3.4"},), "tgi", id="tgi-first"),
    ],
)
def test_probes_tell_vllm_from_tgi_and_others(answers: tuple[object, ...], dialect: str) -> None:
    guessed = resolve_endpoint("http://127.0.0.1:8080/v1", "auto")
    routes = [guessed.root + fingerprint.route for fingerprint in FINGERPRINTS]
    assert routes == ["http://127.0.0.1:8080/info", "http://127.0.0.1:8080/v1/models"]
    settled = next(
        (
            fingerprint.dialect
            for fingerprint, answer in zip(FINGERPRINTS, answers, strict=False)
            if fingerprint.matches(answer)
        ),
        None,
    )
    assert guessed.identified(settled).dialect == DIALECTS[dialect]


@pytest.mark.parametrize("backend", ["tgi", "vllm", "openai"])
def test_backend_without_base_url_is_an_error(backend: Backend) -> None:
    with pytest.raises(ValueError, match=f"backend={backend!r} needs a base_url"):
        resolve_endpoint(None, backend)


@pytest.mark.parametrize("base_url", ["localhost:8000", "ftp://host/v1", "/v1", ""])
def test_non_http_base_url_is_an_error(base_url: str) -> None:
    with pytest.raises(ValueError, match="base_url must be an http"):
        resolve_endpoint(base_url, "auto")


def test_dialect_table() -> None:
    tgi = DIALECTS["tgi"]
    assert (tgi.json_schema_wire, tgi.response_format_with_tools, tgi.accepts_top_p_one) == (
        "tgi",
        False,
        False,
    )
    for name in ("router", "vllm", "openai"):
        dialect = DIALECTS[name]
        assert dialect.name == name
        assert (dialect.json_schema_wire, dialect.response_format_with_tools) == ("openai", True)
        assert dialect.accepts_top_p_one


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://huggingface.co/api", True),
        ("https://HuggingFace.co", True),
        ("https://router.huggingface.co/v1/chat/completions", True),
        ("https://x.us-east-1.aws.endpoints.huggingface.cloud/v1", True),
        ("https://someone-space.hf.space", True),
        ("https://evilhuggingface.co", False),
        ("https://huggingface.co.evil.example", False),
        ("https://huggingface.co@evil.example/v1", False),
        ("https://endpoints.huggingface.cloud.evil.example", False),
        ("https://hf.space.evil.example", False),
        ("http://localhost:8080", False),
        ("http://127.0.0.1", False),
        ("not a url", False),
    ],
)
def test_is_hf_host(url: str, expected: bool) -> None:
    assert is_hf_host(url) is expected


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
        "        assert m._target.url == 'https://router.huggingface.co/v1/chat/completions'\n"
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


def test_every_dialect_is_keyword_built_and_only_the_router_needs_a_token() -> None:
    assert {name for name, dialect in DIALECTS.items() if dialect.needs_token} == {"router"}
    with pytest.raises(TypeError):
        Dialect("x")  # type: ignore[call-arg]


# ---------------------------------------------------------------- no ambient token over plain HTTP


def test_the_ambient_token_never_goes_over_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_ambientSecret123")
    model = ChatHuggingFaceVLM(model="m", base_url="http://router.huggingface.co/v1")
    with pytest.raises(MissingTokenError, match="over plain HTTP") as info:
        model.invoke("hi")
    assert "hf_ambientSecret123" not in str(info.value)
    endpoint = ChatHuggingFaceVLM(model="m", base_url="http://x.endpoints.huggingface.cloud")
    assert "authorization" not in _request.probe_headers(endpoint)


def test_an_explicit_key_goes_where_the_user_sends_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    model = ChatHuggingFaceVLM(
        model="m", base_url="http://router.huggingface.co/v1", api_key=SecretStr("hf_x1")
    )
    assert _request.probe_headers(model)["authorization"] == "Bearer hf_x1"
