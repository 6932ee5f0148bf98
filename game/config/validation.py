"""Checking loaded YAML against typed schemas (pydantic) and turning every failure into a
Problem with file, line, key path and what was expected, all of them at once."""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, TypeVar, Union

from pydantic import BaseModel, ConfigDict, ValidationError

from game.config.errors import InputError, Problem, short
from game.config.yamlfile import YamlDoc

M = TypeVar("M", bound=BaseModel)
_EXP = re.compile(r"^[-+]?[0-9.]+[eE][0-9]+$")


class Strict(BaseModel):
    """Base for every schema: unknown keys are errors, no type is silently converted and every
    number is finite (.inf or .nan would turn the model's sums into NaN)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _describe(value: Any) -> str:
    """A user's value for a message, never longer than a line (a value may be huge)."""
    if isinstance(value, str):
        return short(repr(value))
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return short(repr(value))


def _unwrap(tp: Any) -> Any:
    """Strip Optional/Annotated so that the schema can be walked along a key path."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
            tp = models[0] if models else args[0]
        else:
            return tp


def allowed_keys(model_cls: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys a schema accepts at the mapping that holds loc[-1]."""
    tp: Any = model_cls
    for key in loc[:-1]:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(key))
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) in (list, tuple):
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(tp.model_fields)
    return None


def _message(err: dict[str, Any], model_cls: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    got = _describe(err.get("input"))
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        keys = allowed_keys(model_cls, loc) or []
        near = difflib.get_close_matches(str(loc[-1]), keys, n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown key{hint}; expected one of: {', '.join(keys)}"
    if kind == "missing":
        return "missing required key"
    if kind == "finite_number":
        return f"expected a finite number, got {got}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing", "int_from_float"):
        what = "a whole number" if kind.startswith("int") else "a number"
        hint = ""
        if isinstance(err.get("input"), str) and _EXP.match(err["input"].strip()):
            hint = " (YAML reads an exponent without a sign as text: write e.g. 2.1e+25)"
        return f"expected {what}, got {got}{hint}"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {got}"
    if kind in ("string_type", "str_type"):
        return f"expected text, got {got}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping of keys to values, got {got}"
    if kind in ("list_type", "tuple_type"):
        return f"expected a list, got {got}"
    if kind == "too_short" or kind == "too_long":
        return f"{err['msg'].lower()}, got {got}"
    bounds = {
        "greater_than": "> {gt}",
        "greater_than_equal": ">= {ge}",
        "less_than": "< {lt}",
        "less_than_equal": "<= {le}",
    }
    if kind in bounds:
        return f"expected a value {bounds[kind].format(**ctx)}, got {got}"
    if kind == "literal_error":
        return f"expected one of {ctx.get('expected', '')}, got {got}"
    if kind == "value_error":
        return short(str(ctx.get("error", err["msg"])), 300)
    return f"{short(err['msg'], 200)}, got {got}"


def problems_from(
    exc: ValidationError, doc: YamlDoc, model_cls: type[BaseModel], prefix: tuple[Any, ...] = ()
) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = tuple(k for k in err["loc"] if not (isinstance(k, str) and k.startswith("function-")))
        if loc and loc[-1] == "[key]":  # a mapping key of the wrong type
            loc = loc[:-1]
            message = f"keys here must be text, got {_describe(err.get('input'))}"
        elif err["type"] == "invalid_key":
            message = f"keys must be text, got {_describe(err.get('input'))}"
        else:
            message = _message(err, model_cls, loc)
        out.append(doc.problem(prefix + loc, message))
    return out


def validate(doc: YamlDoc, model_cls: type[M], data: Any = None, prefix: tuple[Any, ...] = ()) -> M:
    """Build model_cls from doc.data (or data, found at prefix in doc) or raise InputError."""
    value = doc.data if data is None and not prefix else data
    if value is None:
        raise InputError(doc.problem(prefix, "is empty, expected a mapping of keys to values"))
    try:
        return model_cls.model_validate(value)
    except ValidationError as exc:
        raise InputError(problems_from(exc, doc, model_cls, prefix)) from None
