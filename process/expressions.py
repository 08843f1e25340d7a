"""The restricted evaluator for expressions written in a diagram.

A process owner edits gateway conditions in the browser, so an expression is
untrusted input. Two layers keep it harmless:

1. `check()` walks the syntax tree and accepts only reading names, literals,
   comparisons, boolean logic, arithmetic and calls of whitelisted functions.
   Attribute access, subscripts of anything but a name, comprehensions,
   lambdas and starred forms are refused. The validator reports its messages.
2. `evaluate()` runs `check()` again and then evaluates with simpleeval, which
   itself has no builtins and blocks dunder access, so an expression that
   somehow skipped validation still cannot reach Python internals.

Every value an expression makes also stays small, so an evaluation is
quick whatever is written (a condition never needs more): text is at most
MAX_TEXT characters, lists are not repeated, text is not formatted with
`%`, `str`/`lower`/`upper` take single values, and `round` keeps at most
ROUND_DIGITS digits. Without these, a condition as short as
`len(str([[1]*99999]*99999))` held a request for minutes.
"""
from __future__ import annotations

import ast
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Mapping

from simpleeval import SimpleEval

from process.messages import Text

MAX_LENGTH = 500
MAX_TEXT = 10_000
ROUND_DIGITS = 15


class ExpressionError(ValueError):
    """An expression that is refused or that failed to evaluate; `args[0]` is the `Text`."""


class ExpressionRefused(ExpressionError):
    """An expression that uses something outside the safe subset (a name, a node, a call)."""


_SINGLE = (str, int, float, bool, type(None), date, datetime)


def _single(value: Any, function: str) -> Any:
    if not isinstance(value, _SINGLE):
        raise ExpressionError(Text("%(function)s() hanya menerima satu nilai, bukan %(kind)s",
                                   function=function, kind=type(value).__name__))
    return value


def _round(number: Any, digits: int | None = None) -> Any:
    if digits is None:
        return round(number)  # a whole number, as round() gives
    if isinstance(digits, bool) or not isinstance(digits, int) or abs(digits) > ROUND_DIGITS:
        raise ExpressionError(Text("round() menyimpan antara -%(n)d dan %(n)d digit", n=ROUND_DIGITS))
    return round(number, digits)


def _repeat(a: Any, b: Any) -> Any:
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        raise ExpressionError(Text("daftar tidak dapat diulang"))
    if isinstance(a, str) or isinstance(b, str):
        text, times = (a, b) if isinstance(a, str) else (b, a)
        if isinstance(times, int) and len(text) * times > MAX_TEXT:
            raise ExpressionError(Text("teks lebih dari %(n)d karakter", n=MAX_TEXT))
    return a * b


def _join(a: Any, b: Any) -> Any:
    if hasattr(a, "__len__") and hasattr(b, "__len__") and len(a) + len(b) > MAX_TEXT:
        raise ExpressionError(Text("nilai lebih panjang dari %(n)d", n=MAX_TEXT))
    return a + b


def _modulo(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        raise ExpressionError(Text("teks tidak dapat diformat dengan %"))
    return a % b


FUNCTIONS = {
    "len": len,
    "abs": abs,
    "min": min,
    "max": max,
    "round": _round,
    "lower": lambda s: str(_single(s, "lower")).lower(),
    "upper": lambda s: str(_single(s, "upper")).upper(),
    "bool": bool,
    "int": int,
    "str": lambda s: str(_single(s, "str")),
}

_ALLOWED_NODES = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn,
    ast.Is, ast.IsNot, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod,
    ast.Name, ast.Load, ast.Constant, ast.List, ast.Tuple, ast.IfExp, ast.Call, ast.Subscript,
)


@lru_cache(maxsize=4096)
def check(expression: str) -> None:
    """Raise ExpressionError unless the expression uses only the safe subset."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError(Text("ekspresi kosong"))
    if len(expression) > MAX_LENGTH:
        raise ExpressionError(Text("ekspresi lebih dari %(n)d karakter", n=MAX_LENGTH))
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(Text("bukan ekspresi yang sah: %(reason)s", reason=err.msg)) from None
    for node in ast.walk(tree):
        _check_node(node)


def _check_node(node: ast.AST) -> None:
    if not isinstance(node, _ALLOWED_NODES):
        raise ExpressionRefused(Text("%(node)s tidak diizinkan dalam ekspresi", node=type(node).__name__))
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionRefused(Text("nama %(name)s tidak diizinkan", name=repr(node.id)))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise ExpressionRefused(Text("hanya fungsi berikut yang boleh dipanggil: %(functions)s",
                                         functions=", ".join(sorted(FUNCTIONS))))
        if node.keywords:
            raise ExpressionRefused(Text("argumen bernama (keyword argument) tidak diizinkan"))
    if isinstance(node, ast.Subscript) and not isinstance(node.value, ast.Name):
        raise ExpressionRefused(Text("hanya data tugas yang boleh diindeks"))
    if isinstance(node, ast.Constant) and isinstance(node.value, (bytes, complex, type(...))):
        raise ExpressionRefused(Text("literal %(value)s tidak diizinkan", value=repr(node.value)))


class _Evaluator(SimpleEval):
    """SimpleEval plus the list and tuple literals `check()` allows (`x in ["a", "b"]`).

    Plain SimpleEval refuses them, so a condition the validator accepted
    failed only when an instance reached the gateway. Nothing else is added:
    no dicts, sets or comprehensions.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.nodes[ast.List] = lambda node: [self._eval(x) for x in node.elts]
        self.nodes[ast.Tuple] = lambda node: tuple(self._eval(x) for x in node.elts)
        self.operators = {**self.operators, ast.Mult: _repeat, ast.Add: _join, ast.Mod: _modulo}


def evaluate(expression: str, data: Mapping[str, Any]) -> Any:
    """Evaluate a checked expression against task data."""
    check(expression)
    evaluator = _Evaluator(functions=FUNCTIONS, names=dict(data))
    try:
        return evaluator.eval(expression.strip())
    except Exception as err:  # simpleeval raises many types; the caller needs one
        raise ExpressionError(Text("%(expression)s tidak dapat dihitung: %(reason)s",
                                   expression=repr(expression), reason=str(err))) from None


def names_used(expression: str) -> set[str]:
    """The task-data names an expression reads (for validation messages)."""
    check(expression)
    tree = ast.parse(expression.strip(), mode="eval")
    return {
        n.id for n in ast.walk(tree)
        if isinstance(n, ast.Name) and n.id not in FUNCTIONS and n.id not in ("True", "False", "None")
    }
