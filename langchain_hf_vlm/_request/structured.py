"""Structured output: schemas in, a response format or forced tool, and a parser out."""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any, Literal

from langchain_core.exceptions import ModelRefusalError
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.output_parsers import (
    JsonOutputKeyToolsParser,
    JsonOutputParser,
    PydanticOutputParser,
    PydanticToolsParser,
)
from langchain_core.runnables import Runnable, RunnableLambda, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

from langchain_hf_vlm._servers.dialects import Dialect

Method = Literal["json_schema", "function_calling", "json_mode"]
METHODS = ("json_schema", "function_calling", "json_mode")


def schema_function(schema: Any, strict: bool | None = None) -> dict[str, Any]:
    """The OpenAI ``function`` dict (name, description, parameters) of any schema kind."""
    function: dict[str, Any] = convert_to_openai_tool(schema, strict=strict)["function"]
    return function


def json_schema_format(schema: Any, strict: bool | None) -> dict[str, Any]:
    """OpenAI's ``response_format`` for a JSON schema."""
    function = schema_function(schema, strict=strict)
    spec: dict[str, Any] = {"name": function["name"], "schema": function["parameters"]}
    if function.get("description"):
        spec["description"] = function["description"]
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def response_format_for(value: Mapping[str, Any], dialect: Dialect) -> dict[str, Any]:
    """Rewrite an OpenAI ``response_format`` into the shape the dialect's server enforces.

    TGI reads a grammar ``{"type": "json_object", "value": <schema>}``; everyone else takes
    OpenAI's ``json_schema`` shape unchanged (vLLM silently ignores the TGI shape's schema).
    """
    if dialect.json_schema_wire != "tgi":
        return dict(value)
    kind = value.get("type")
    if kind == "json_schema":
        spec = value.get("json_schema") or {}
        return {"type": "json_object", "value": spec.get("schema", {})}
    if kind == "json_object" and "value" not in value:
        return {"type": "json_object", "value": {"type": "object"}}
    return dict(value)


def _refusal_check(message: BaseMessage) -> BaseMessage:
    refusal = message.additional_kwargs.get("refusal") if isinstance(message, AIMessage) else None
    if refusal:
        raise ModelRefusalError(
            f"Model refused to produce the requested output: {refusal}", raw_message=message
        )
    return message


def output_parser(schema: Any, method: Method) -> Runnable[Any, Any]:
    """Parser of the model's answer for ``method``; raises OutputParserException on bad JSON."""
    pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    refusal = RunnableLambda(_refusal_check)
    if method == "function_calling":
        if pydantic:
            return refusal | PydanticToolsParser(tools=[schema], first_tool_only=True)
        name = schema_function(schema)["name"]
        return refusal | JsonOutputKeyToolsParser(key_name=name, first_tool_only=True)
    if pydantic:
        return refusal | PydanticOutputParser(pydantic_object=schema)
    return refusal | JsonOutputParser()


def with_raw(llm: Runnable[Any, Any], parser: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """``{"raw", "parsed", "parsing_error"}`` output, as every LangChain chat model gives."""
    parse = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    no_parse = RunnablePassthrough.assign(parsed=lambda _: None)
    return RunnableMap(raw=llm) | parse.with_fallbacks([no_parse], exception_key="parsing_error")


def structured_output(
    llm: BaseChatModel,
    schema: dict[str, Any] | type | None,
    *,
    method: Method,
    include_raw: bool,
    strict: bool | None,
    **unsupported: Any,
) -> Runnable[Any, Any]:
    """``llm`` bound for ``method`` and piped into the parser of ``schema`` (None, with
    "json_mode" only: whatever JSON object the model wrote, as ChatOpenAI does)."""
    if unsupported:
        raise ValueError(f"unsupported arguments: {sorted(unsupported)}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if schema is None and method != "json_mode":
        raise ValueError(f'method={method!r} needs a schema (only "json_mode" does not)')
    output_format = None
    if schema is not None:
        output_format = {
            "kwargs": {"method": method, "strict": strict},
            "schema": schema_function(schema),
        }
    bound: Runnable[Any, Any]
    if method == "function_calling" and schema is not None:
        name = schema_function(schema)["name"]
        bound = llm.bind_tools(
            [schema], tool_choice=name, strict=strict, ls_structured_output_format=output_format
        )
    elif method == "json_schema":
        bound = llm.bind(
            response_format=json_schema_format(schema, strict),
            ls_structured_output_format=output_format,
        )
    else:
        bound = llm.bind(
            response_format={"type": "json_object"}, ls_structured_output_format=output_format
        )
    parser = output_parser(schema, method)
    return with_raw(bound, parser) if include_raw else bound | parser
