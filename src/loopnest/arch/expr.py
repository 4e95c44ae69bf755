"""Safe arithmetic for numeric spec fields: ``"108 * 1024 * 8 / 16"`` -> 55296.

Specs are data: a string in a numeric field is parsed with ``ast`` and only numeric literals,
parentheses, unary +/- and the binary operators + - * / // % ** are accepted; names only where
the caller supplies their values (``names``: a sweep's axis names, ``"side * side"``). Names, calls,
attributes, subscripts, strings and everything else are refused. Size limits keep hostile input
(``9**9**9``, very long or deeply nested text) from exhausting time or memory. Never ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Any

MAX_CHARS = 200
MAX_MAGNITUDE = 1e18
MAX_EXPONENT = 64

_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class ExprError(ValueError):
    """An expression that is not plain arithmetic on numbers, or whose value is out of range."""


def safe_eval(text: str, names: dict[str, int | float] | None = None) -> int | float:
    """Value of an arithmetic expression; ``/`` of two ints that divide evenly gives an ``int``.
    ``names``: the values of the variables the expression may use (None: no variables at all)."""
    if len(text) > MAX_CHARS:
        raise ExprError(f"expression longer than {MAX_CHARS} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise ExprError(f"not an arithmetic expression: {text!r} ({type(exc).__name__})") from None
    return _eval(tree.body, names)


def numeric_field(value: Any) -> Any:
    """Pydantic before-validator: evaluate expression strings, refuse booleans, pass the rest on."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")  # noqa: TRY004 - pydantic reports ValueError as a field error
    if isinstance(value, str):
        return safe_eval(value)
    return value


def _eval(node: ast.AST, names: dict[str, int | float] | None) -> int | float:
    if isinstance(node, ast.Name) and names is not None:
        if node.id not in names:
            known = f"names are {', '.join(sorted(names))}" if names else "no names are defined here, only numbers"
            raise ExprError(f"unknown name {node.id!r}; {known}")
        return names[node.id]
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExprError(f"only numbers are allowed, got {node.value!r}")
        return _checked(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_eval(node.operand, names)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left, names), _eval(node.right, names)
        if isinstance(node.op, ast.Pow) and (abs(right) > MAX_EXPONENT or (left == 0 and right < 0)):
            raise ExprError(f"exponent {right} out of range (|exponent| <= {MAX_EXPONENT}, no 0 to a negative power)")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ExprError("division by zero")
        try:
            result = _BINOPS[type(node.op)](left, right)
        except (OverflowError, ZeroDivisionError) as exc:
            raise ExprError(f"arithmetic error: {exc}") from None
        if isinstance(result, complex):
            raise ExprError("result is not a real number")
        if isinstance(node.op, ast.Div) and float(result).is_integer():
            result = int(result) if isinstance(left, int) and isinstance(right, int) else result
        return _checked(result)
    raise ExprError(f"only numbers and + - * / // % ** are allowed, found {type(node).__name__}")


def _checked(value: float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise ExprError(f"value {value!r} out of range (|value| <= {MAX_MAGNITUDE:g})")
    return value
