"""Tools in, OpenAI tool dicts and ``tool_choice`` out. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

_CHOICE_WORDS = {"auto": "auto", "none": "none", "any": "required", "required": "required"}


def format_tools(
    tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    strict: bool | None = None,
) -> list[dict[str, Any]]:
    """Every tool as an OpenAI ``{"type": "function", "function": {...}}`` dict."""
    formatted = []
    for index, tool in enumerate(tools):
        try:
            formatted.append(convert_to_openai_tool(tool, strict=strict))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"tool {index} ({tool!r:.80}) cannot be converted: {exc}") from exc
    return formatted


def tool_binding(
    tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    tool_choice: dict[str, Any] | str | bool | None,
    strict: bool | None,
    parallel_tool_calls: bool | None,
    **kwargs: Any,
) -> dict[str, Any]:
    """The request arguments ``bind_tools`` binds: the tools, the choice, the rest as given."""
    formatted = format_tools(tools, strict=strict)
    bound: dict[str, Any] = {"tools": formatted, **kwargs}
    choice = format_tool_choice(tool_choice, formatted)
    if choice is not None:
        bound["tool_choice"] = choice
    if parallel_tool_calls is not None:
        bound["parallel_tool_calls"] = parallel_tool_calls
    return bound


def tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [tool["function"]["name"] for tool in tools if tool.get("type") == "function"]


def format_tool_choice(
    choice: dict[str, Any] | str | bool | None, tools: Sequence[dict[str, Any]]
) -> dict[str, Any] | str | None:
    """LangChain's ``tool_choice`` spellings to the OpenAI wire value."""
    if choice is None or choice is False:
        return None
    names = tool_names(tools)
    if choice is True:
        if len(names) != 1:
            raise ValueError(f"tool_choice=True needs exactly one tool, got {len(names)}: {names}")
        return _function_choice(names[0])
    if isinstance(choice, str):
        if choice in _CHOICE_WORDS:
            return _CHOICE_WORDS[choice]
        if choice in names:
            return _function_choice(choice)
        raise ValueError(
            f"tool_choice {choice!r} is neither 'auto', 'none', 'any', 'required' nor one of "
            f"the bound tools {names}"
        )
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if choice.get("type") != "function" or not isinstance(name, str):
            raise ValueError(
                "a tool_choice dict must look like {'type': 'function', 'function': "
                f"{{'name': ...}}}}, got {choice!r}"
            )
        if names and name not in names:
            raise ValueError(f"tool_choice names {name!r}, which is not among the tools {names}")
        return choice
    raise ValueError(f"unsupported tool_choice {choice!r}")


def _function_choice(name: str) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name}}
