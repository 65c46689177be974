"""Tools and tool_choice as they go on the wire."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_hf_vlm._request.tools import format_tool_choice, format_tools, tool_names


@tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the weather for a city."""
    return f"12 {unit} in {city}"


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str = Field(description="The city")


class Movie(TypedDict):
    """A movie."""

    title: Annotated[str, ..., "The title"]
    year: int


LOOKUP_SCHEMA = {
    "title": "lookup",
    "description": "Look something up.",
    "type": "object",
    "properties": {"q": {"type": "string"}},
    "required": ["q"],
}
OPENAI_TOOL = {
    "type": "function",
    "function": {
        "name": "zoom",
        "description": "Zoom into the image.",
        "parameters": {
            "type": "object",
            "properties": {"factor": {"type": "number"}},
            "required": ["factor"],
        },
    },
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            get_weather,
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the weather for a city.",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "city": {"type": "string"},
                            "unit": {"type": "string", "default": "celsius"},
                        },
                        "required": ["city"],
                    },
                },
            },
            id="tool-function",
        ),
        pytest.param(
            GetWeather,
            {
                "type": "function",
                "function": {
                    "name": "GetWeather",
                    "description": "Get the weather for a city.",
                    "parameters": {
                        "type": "object",
                        "properties": {"city": {"type": "string", "description": "The city"}},
                        "required": ["city"],
                    },
                },
            },
            id="pydantic",
        ),
        pytest.param(
            Movie,
            {
                "type": "function",
                "function": {
                    "name": "Movie",
                    "description": "A movie.",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "title": {"type": "string", "description": "The title"},
                            "year": {"type": "integer"},
                        },
                        "required": ["title", "year"],
                    },
                },
            },
            id="typeddict",
        ),
        pytest.param(
            LOOKUP_SCHEMA,
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Look something up.",
                    "parameters": {
                        "type": "object",
                        "properties": {"q": {"type": "string"}},
                        "required": ["q"],
                    },
                },
            },
            id="json-schema",
        ),
        pytest.param(OPENAI_TOOL, OPENAI_TOOL, id="openai-tool"),
    ],
)
def test_format_tools(given: Any, expected: dict[str, Any]) -> None:
    assert format_tools([given]) == [expected]


def test_format_tools_keeps_order_and_names() -> None:
    formatted = format_tools([get_weather, GetWeather, Movie, LOOKUP_SCHEMA, OPENAI_TOOL])
    assert tool_names(formatted) == ["get_weather", "GetWeather", "Movie", "lookup", "zoom"]


def test_format_tools_strict() -> None:
    assert format_tools([GetWeather], strict=True) == [
        {
            "type": "function",
            "function": {
                "name": "GetWeather",
                "description": "Get the weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "description": "The city"}},
                    "required": ["city"],
                    "additionalProperties": False,
                },
                "strict": True,
            },
        }
    ]


def test_unconvertible_tool_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"^tool 1 \(42\) cannot be converted: "):
        format_tools([get_weather, 42])  # type: ignore[list-item]


ONE = format_tools([get_weather])
TWO = format_tools([get_weather, OPENAI_TOOL])


@pytest.mark.parametrize(
    ("choice", "tools", "expected"),
    [
        pytest.param("auto", TWO, "auto", id="auto"),
        pytest.param("none", TWO, "none", id="none"),
        pytest.param("any", TWO, "required", id="any"),
        pytest.param("required", TWO, "required", id="required"),
        pytest.param(
            "zoom", TWO, {"type": "function", "function": {"name": "zoom"}}, id="tool-name"
        ),
        pytest.param(
            True, ONE, {"type": "function", "function": {"name": "get_weather"}}, id="true"
        ),
        pytest.param(
            {"type": "function", "function": {"name": "zoom"}},
            TWO,
            {"type": "function", "function": {"name": "zoom"}},
            id="openai-dict",
        ),
        pytest.param(None, TWO, None, id="not-set"),
        pytest.param(False, TWO, None, id="false"),
    ],
)
def test_format_tool_choice(
    choice: Any, tools: list[dict[str, Any]], expected: dict[str, Any] | str | None
) -> None:
    assert format_tool_choice(choice, tools) == expected


@pytest.mark.parametrize(
    ("choice", "tools", "message"),
    [
        pytest.param(
            True,
            TWO,
            r"^tool_choice=True needs exactly one tool, got 2: \['get_weather', 'zoom'\]$",
            id="true-two-tools",
        ),
        pytest.param(True, [], r"needs exactly one tool, got 0", id="true-no-tools"),
        pytest.param(
            "get_time",
            TWO,
            r"^tool_choice 'get_time' is neither 'auto', 'none', 'any', 'required' nor one of "
            r"the bound tools \['get_weather', 'zoom'\]$",
            id="unknown-name",
        ),
        pytest.param(
            {"type": "function", "function": {"name": "get_time"}},
            TWO,
            r"^tool_choice names 'get_time', which is not among the tools",
            id="dict-unknown-name",
        ),
        pytest.param(
            {"type": "function", "name": "zoom"},
            TWO,
            r"^a tool_choice dict must look like \{'type': 'function', 'function': \{'name': \.\.\.\}\}",
            id="dict-flat",
        ),
        pytest.param({"type": "tool"}, TWO, r"must look like", id="dict-no-function"),
        pytest.param(3, TWO, r"^unsupported tool_choice 3$", id="int"),
        pytest.param(["auto"], TWO, r"^unsupported tool_choice \['auto'\]$", id="list"),
    ],
)
def test_bad_tool_choice_is_a_clear_error(
    choice: Any, tools: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        format_tool_choice(choice, tools)
