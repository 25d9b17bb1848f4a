"""Evaluate the literal arguments of a call, and write numbers back as source."""

from __future__ import annotations

import ast
import math
import operator

NOT_LITERAL = object()

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}


def literal_value(node: ast.expr) -> object:
    """The value of a literal expression, or ``NOT_LITERAL``.

    Beyond ``ast.literal_eval`` this folds arithmetic on numbers (``1e-3 * 2``,
    ``10 ** -8``), which real code writes for learning rates.
    """
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal_value(node.operand)
        if _is_number(value):
            return -value if isinstance(node.op, ast.USub) else +value  # type: ignore[operator]
        return NOT_LITERAL
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = literal_value(node.left), literal_value(node.right)
        if not (_is_number(left) and _is_number(right)):
            return NOT_LITERAL
        if isinstance(node.op, ast.Pow) and abs(right) > 64:  # type: ignore[arg-type]
            return NOT_LITERAL  # no 10**10**10 surprises
        try:
            return _BINOPS[type(node.op)](left, right)
        except (ArithmeticError, ValueError):
            return NOT_LITERAL
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [literal_value(elt) for elt in node.elts]
        if any(v is NOT_LITERAL for v in values):
            return NOT_LITERAL
        return values if isinstance(node, ast.List) else tuple(values)
    return NOT_LITERAL


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    return _is_number(value)


def format_float(value: float) -> str:
    """Shortest clean spelling: ``1e-16`` rather than ``1.0000000000000001e-16``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return repr(value)
    value = float(value)
    if math.isfinite(value):
        value = float(f"{value:.12g}")
    return repr(value)


def format_value(value: object) -> str:
    if isinstance(value, float):
        return format_float(value)
    return repr(value)
