"""Where requests go and which dialect they speak (``_servers.dialects``): URLs, endpoints,
the fingerprints that identify a server, the dialect table, Hugging Face hosts."""

from __future__ import annotations

import pytest

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


def test_every_dialect_is_keyword_built_and_only_the_router_needs_a_token() -> None:
    assert {name for name, dialect in DIALECTS.items() if dialect.needs_token} == {"router"}
    with pytest.raises(TypeError):
        Dialect("x")  # type: ignore[call-arg]
