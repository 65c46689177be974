"""One root for every error: ``except HuggingFaceVLMError`` catches whatever the package raises.

The walk covers the exported classes and every exception class defined anywhere in the package:
a new one is either placed under the root or listed below as internal, with what it becomes
before it reaches the caller.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from huggingface_hub.errors import HfHubHTTPError
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelTimeoutError,
)

import langchain_hf_vlm
from langchain_hf_vlm import errors
from langchain_hf_vlm.errors import (
    APIConnectionError,
    APIError,
    APIResponseError,
    APITimeoutError,
    AuthenticationError,
    HuggingFaceVLMError,
    HuggingFaceVLMHTTPError,
    IncompleteStreamError,
    InternalServerError,
    InvalidContentError,
    MalformedResponseError,
    MissingTokenError,
    ResponseTooLargeError,
)

INTERNAL = {
    # raised and caught inside the package; what the caller gets instead
    "langchain_hf_vlm._wire.json_limits.JSONTooDeepError": "APIResponseError",
    "langchain_hf_vlm._wire.sse.MalformedEventError": "IncompleteStreamError",
    "langchain_hf_vlm._wire.sse.EventTooLargeError": "ResponseTooLargeError",
    "langchain_hf_vlm._wire.policy._Expired": "APITimeoutError",
    "langchain_hf_vlm._wire.addresses.AddressRefused": "APIConnectionError, InvalidContentError",
    "langchain_hf_vlm._answers.shape.Unreadable": "MalformedResponseError",
    "langchain_hf_vlm._media.fetch._RedirectRefused": "InvalidContentError",
    "langchain_hf_vlm._media.refs.ImageProblem": "InvalidContentError",
}


def _package_modules() -> list[str]:
    names = [langchain_hf_vlm.__name__]
    for info in pkgutil.walk_packages(langchain_hf_vlm.__path__, "langchain_hf_vlm."):
        names.append(info.name)
    return names


def _defined_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _package_modules():
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exported_error_is_under_the_root() -> None:
    exported = [
        getattr(langchain_hf_vlm, name)
        for name in langchain_hf_vlm.__all__
        if inspect.isclass(getattr(langchain_hf_vlm, name))
    ]
    exceptions = [cls for cls in exported if issubclass(cls, BaseException)]
    assert len(exceptions) == len(errors.__all__)  # every error of errors.py is exported
    for cls in exceptions:
        assert issubclass(cls, HuggingFaceVLMError), cls


def test_every_exception_class_in_the_package_is_under_the_root_or_internal() -> None:
    defined = _defined_exceptions()
    internal = {name for name, cls in defined.items() if not issubclass(cls, HuggingFaceVLMError)}
    assert internal == set(INTERNAL)
    assert set(errors.__all__) <= {cls.__name__ for cls in defined.values()}


@pytest.mark.parametrize(
    ("error", "bases"),
    [
        (InvalidContentError, (ValueError,)),
        (MissingTokenError, (ModelAuthenticationError, ValueError)),
        (APIConnectionError, (ModelConnectionError,)),
        (APITimeoutError, (ModelTimeoutError,)),
        (MalformedResponseError, (APIError, ModelAPIError)),
        (ResponseTooLargeError, (APIError, ModelAPIError)),
        (IncompleteStreamError, (APIError, ModelAPIError)),
        (APIResponseError, (APIError, HuggingFaceVLMHTTPError, HfHubHTTPError)),
        (InternalServerError, (APIError, HuggingFaceVLMHTTPError)),
        (AuthenticationError, (ModelAuthenticationError, HfHubHTTPError)),
    ],
)
def test_each_error_keeps_the_bases_it_had(
    error: type[BaseException], bases: tuple[type[BaseException], ...]
) -> None:
    for base in bases:
        assert issubclass(error, base), (error, base)


def test_no_deprecated_aliases() -> None:
    with pytest.raises(AttributeError):
        errors.ContextOverflow  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(ImportError):
        from langchain_hf_vlm import ContextOverflow  # type: ignore[attr-defined]  # noqa: F401


def test_the_tree_in_the_docstring_names_every_error() -> None:
    assert errors.__doc__ is not None
    for name in errors.__all__:
        assert f" {name} " in errors.__doc__, name
