"""Evaluate the literal arguments of a call, and write numbers back as source."""

from __future__ import annotations

import ast
import math
import operator
import sys

NOT_LITERAL = object()

# Every number we fold must fit a Python float: the frameworks store learning
# rates and epsilons as floats, and the rewrite may write a value back as one.
# Bounding the *size* of every intermediate result (not only the exponent)
# keeps the cost of folding any expression tiny: ``((9**64)**64)**64`` would
# otherwise build a number with millions of digits before anyone looked at it.
MAX_INT_BITS = 1024
_FLOAT_MAX = sys.float_info.max

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
        value = node.value
        if _is_number(value) and not _fits(value):
            return NOT_LITERAL  # 1e999 (inf) or an integer no float can hold
        return value
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
        if isinstance(node.op, ast.Pow) and _pow_too_large(left, right):  # type: ignore[arg-type]
            return NOT_LITERAL  # decided before computing it: the cost is the point
        try:
            result = _BINOPS[type(node.op)](left, right)
        except (ArithmeticError, ValueError):
            return NOT_LITERAL
        # (-1) ** 0.5 is complex; 1e300 * 1e300 is inf: neither is a literal we can write back.
        return result if _is_number(result) and _fits(result) else NOT_LITERAL
    if isinstance(node, (ast.List, ast.Tuple)):
        values = [literal_value(elt) for elt in node.elts]
        if any(v is NOT_LITERAL for v in values):
            return NOT_LITERAL
        return values if isinstance(node, ast.List) else tuple(values)
    return NOT_LITERAL


def _fits(value: int | float) -> bool:
    """A finite number a float can hold (ints beyond ~1.8e308 cannot)."""
    if isinstance(value, int):
        return value.bit_length() <= MAX_INT_BITS and abs(value) <= _FLOAT_MAX
    return math.isfinite(value)


def _pow_too_large(base: int | float, exponent: int | float) -> bool:
    """Whether ``base ** exponent`` would be an integer beyond :data:`MAX_INT_BITS`.

    Only int ** positive int builds big numbers; floats overflow (and raise)
    at once.  The result has at least ``(bits(base) - 1) * exponent`` bits.
    """
    if not (isinstance(base, int) and isinstance(exponent, int)) or exponent <= 0 or abs(base) <= 1:
        return False
    return (abs(base).bit_length() - 1) * exponent > MAX_INT_BITS


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
