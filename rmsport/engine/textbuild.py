"""Build a rewritten call's text by offset edits on its own text, without libcst.

Why: on call-dense files (an RMSprop call every ~15 lines) libcst was most of
the cost of ``convert``.  Measured in-process on 40 such files (21.5k lines,
1418 calls, ~2.0 s in all): ``cst.parse_expression`` of each call's text 452 ms,
``build_call`` 215 ms and ``code_for_node`` 206 ms, so ~870 ms per run went into
libcst for the text of the rewritten calls alone (issue 11: convert must cost
<= 0.6x of libcst's own parse + codegen of the same files).

Most calls need only local edits that the ``ast`` nodes we already hold locate
exactly: a new function spelling, keyword names, ``kw=`` before a positional
value, ``1`` -> ``1.0``, ``float(...)`` around a value, a method name inside
the value, and pinned defaults appended.  :func:`build_text` makes those edits
on the call's text, byte for byte as ``rewrite.build_call`` + libcst's code
generator would write them, and returns None for any call where that is not
plainly so (a dropped argument, a nested rewritten call, parentheses around an
argument, an f-string, ``*args``/``**kwargs``, a comment inside a value that is
replaced ...): those go through the libcst path (``pipeline.build``) as before.
``tests/test_textbuild.py`` checks both paths give the same text.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Callable

from ..tables.optimizers import PARAMS_METHOD_SWAP
from .literals import format_float, is_number
from .plan import ArgAction, CallPlan, power_text

__all__ = ["build_text"]

# Between two tokens of the call: blanks, line breaks and comments, nothing
# else (no backslash continuation, no parenthesis around an argument).
_GAP = r"(?:[ \t\f\r\n]|#[^\r\n]*)*"
_OPEN = re.compile(_GAP + r"\((" + _GAP + ")")
_COMMA = re.compile(_GAP + ",(" + _GAP + ")")
_EMPTY = re.compile(_GAP + r"\(\)")
_EQUAL = re.compile(_GAP + "=" + _GAP)
_CLOSE = re.compile(r"(" + _GAP + r")(?:,(" + _GAP + r"))?\)")
_NAME = re.compile(r"\w+")
_LAST_NAME = re.compile(r"\w+$")
# An f-string inside the call: the positions of the expressions in it are not
# reliable before Python 3.12, and the group-method swap would look into it.
_FSTRING = re.compile(r"(?<![\w])(?:[rRbB]?[fF]|[fF][rRbB])['\"]")


class _NotHere(Exception):
    """This call is not one the text path writes exactly: use libcst."""


def build_text(
    text: str,
    call: ast.Call,
    where: Callable[[int, int], int],
    plan: CallPlan,
    func_text: str | None,
    attr_name: str | None,
    newline: str,
) -> str | None:
    """The rewritten text of ``text`` (the source of ``call``), or None to fall back.

    ``where(lineno, byte_col)`` is the offset in ``text`` of an ast position.
    The function becomes ``func_text``, or, when ``attr_name`` is given (a
    misspelled attribute), only its last name becomes ``attr_name``.
    """
    try:
        return _build(text, call, where, plan, func_text, attr_name, newline)
    except _NotHere:
        return None


def _span(node: ast.AST, where: Callable[[int, int], int]) -> tuple[int, int]:
    return (
        where(node.lineno, node.col_offset),  # type: ignore[attr-defined]
        where(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
    )


def _build(
    text: str,
    call: ast.Call,
    where: Callable[[int, int], int],
    plan: CallPlan,
    func_text: str | None,
    attr_name: str | None,
    newline: str,
) -> str:
    if "\\" in text or _FSTRING.search(text) or not _only_line_breaks(text, newline):
        raise _NotHere
    func_start, func_end = _span(call.func, where)
    if func_start != 0:
        raise _NotHere  # ``(optim.RMSprop)(...)``
    edits: list[tuple[int, int, str]] = []
    if attr_name is not None:
        if not isinstance(call.func, ast.Attribute):
            raise _NotHere
        edits.append((*_attr_span(text, call.func, func_start, func_end), attr_name))
    else:
        assert func_text is not None
        edits.append((func_start, func_end, func_text))

    # The arguments in source order, and the gaps between them.
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise _NotHere
    pos = func_end
    gaps: list[tuple[int, int]] = []  # after the "(" and after each comma: (start, end)
    values: list[tuple[int, int]] = []
    names: list[tuple[int, int] | None] = []
    for i, node in enumerate([*call.args, *call.keywords]):
        if isinstance(node, ast.keyword):
            start, _ = _span(node, where)
            name = _NAME.match(text, start)
            if name is None or unicodedata.normalize("NFKC", name.group()) != node.arg:
                raise _NotHere
            value = node.value
            value_start, value_end = _span(value, where)
            if not _EQUAL.fullmatch(text, name.end(), value_start):
                raise _NotHere  # a parenthesized value
        else:
            start, value_end = _span(node, where)
            value_start = start
            name = None
            if isinstance(node, (ast.GeneratorExp, ast.NamedExpr)):
                raise _NotHere
        if start < pos:
            raise _NotHere
        gap = (_OPEN if i == 0 else _COMMA).fullmatch(text, pos, start)
        if gap is None:
            raise _NotHere  # parentheses around an argument, or not in source order
        gaps.append(gap.span(1))
        values.append((value_start, value_end))
        names.append((name.start(), name.end()) if name is not None else None)
        pos = value_end
    close = _CLOSE.fullmatch(text, pos) if values else _EMPTY.fullmatch(text, pos)
    if close is None:
        raise _NotHere

    if not plan.spelling_only:
        nodes = [*call.args, *[k.value for k in call.keywords]]
        pos_actions = [a for a in plan.actions if a.src_keyword is None]
        kw_actions = [a for a in plan.actions if a.src_keyword is not None]
        if len(pos_actions) != len(call.args) or len(kw_actions) != len(call.keywords):
            raise _NotHere  # libcst says why (CannotRewrite)
        for node, action, (value_start, value_end), name_span in zip(
            nodes, [*pos_actions, *kw_actions], values, names
        ):
            if action.dst_keyword is None:
                raise _NotHere  # dropping an argument moves whitespace and comments: libcst's job
            if name_span is None:
                edits.append((value_start, value_start, action.dst_keyword + "="))
            else:
                edits.append((name_span[0], name_span[1], action.dst_keyword))
            new_value = _value(text, node, action, where, value_start, value_end)
            if new_value is not None:
                edits.append((value_start, value_end, new_value))
        if plan.pins:
            edits.append(_pins(text, plan.pins, gaps, close, pos, newline))
    return _splice(text, edits)


def _value(
    text: str, node: ast.expr, action: ArgAction, where: Callable[[int, int], int], start: int, end: int
) -> str | None:
    """The new text of one argument's value (``rewrite._rewrite_arg``), None when unchanged."""
    inner: list[tuple[int, int, str]] = []
    if action.params_method is not None or action.group_methods:
        renamed: dict[int, tuple[int, int, str, str]] = {}  # id(call) -> (start, end, old text, new text)
        if action.params_method is not None:
            old, new = action.params_method
            found = _method(text, node, where)
            if found is not None and found[2] == old:
                renamed[id(node)] = (found[0], found[1], found[2], new)
        if action.group_methods:
            for sub in ast.walk(node):
                found = _method(text, sub, where) if isinstance(sub, ast.Call) else None
                if found is None:
                    continue
                current = renamed[id(sub)][3] if id(sub) in renamed else found[2]
                swapped = PARAMS_METHOD_SWAP.get(current)
                if swapped is not None:
                    renamed[id(sub)] = (found[0], found[1], found[2], swapped)
        inner.extend((s - start, e - start, new) for s, e, old, new in renamed.values() if new != old)
    value = text[start:end]
    replaced = False
    if action.eps_power is not None:
        if is_number(action.value):
            if "#" in value:
                raise _NotHere  # libcst refuses to lose the comment
            value, replaced = format_float(action.value), True  # type: ignore[arg-type]
        else:
            value, replaced = power_text(_splice(value, inner), node, action.eps_power), True
    elif action.to_float:
        inner.extend(_to_float(text, node, where, start))
    if not replaced:
        value = _splice(value, inner)
    if action.literal_text is not None:
        if "#" in text[start:end]:
            raise _NotHere
        value = action.literal_text
    elif action.wrap_float:
        value = f"float({value})"
    return value if value != text[start:end] else None


def _method(text: str, node: ast.expr, where: Callable[[int, int], int]) -> tuple[int, int, str] | None:
    """``x.name()`` with no arguments: where ``name`` is in ``text`` and how it is written."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)) or node.args or node.keywords:
        return None
    func_start, func_end = _span(node.func, where)
    start, end = _attr_span(text, node.func, func_start, func_end)
    return start, end, text[start:end]


def _attr_span(text: str, node: ast.Attribute, start: int, end: int) -> tuple[int, int]:
    """Where the last name of ``a.b.name`` (spanning ``text[start:end]``) is written.

    ``\\w`` does not cover every character an identifier may hold (combining
    marks): the name found must be the whole one, as the parser read it.
    """
    name = _LAST_NAME.search(text, start, end)
    if name is None or unicodedata.normalize("NFKC", name.group()) != node.attr:
        raise _NotHere
    return name.start(), name.end()


def _to_float(text: str, node: ast.expr, where: Callable[[int, int], int], base: int) -> list[tuple[int, int, str]]:
    """``rewrite._to_float``: an int literal (under unary operators) written as a float."""
    if isinstance(node, ast.UnaryOp):
        return _to_float(text, node.operand, where, base)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        start, end = _span(node, where)
        literal = text[start:end]
        try:  # the text must be the literal the parser read (a wrong offset must not edit a wrong place)
            same = int(literal, 0) == node.value
        except ValueError:
            same = literal.isdigit() and int(literal) == node.value  # base 0 refuses 0-prefixed digits
        if not same:
            raise _NotHere
        if literal.isdigit() or literal.replace("_", "").isdigit():
            new = literal + ".0"
        else:
            new = format_float(float(int(literal, 0)))
        return [(start - base, end - base, new)]
    return []


def _pins(
    text: str,
    pins: list[tuple[str, str]],
    gaps: list[tuple[int, int]],
    close: re.Match[str],
    last_end: int,
    newline: str,
) -> tuple[int, int, str]:
    """The edit that appends ``k=v`` pins, laid out as ``rewrite._append_pins`` does."""
    written = [f"{k}={v}" for k, v in pins]
    if not gaps:  # ``f()``: the pins are the arguments
        return close.end() - 1, close.end() - 1, ", ".join(written)
    before_comma, after_comma = close.group(1), close.group(2)
    had_comma = after_comma is not None
    closing = after_comma if had_comma else before_comma
    # The gap before the first argument, else the first after a comma, that
    # breaks the line: the arguments are one per line.
    template = None
    for gap_start, gap_end in gaps:
        gap = text[gap_start:gap_end]
        if "\n" in gap or "\r" in gap:
            template = gap
            break
    if template is None or not ("\n" in closing or "\r" in closing):
        return last_end, last_end, "".join(", " + w for w in written)
    if had_comma and ("\n" in before_comma or "\r" in before_comma or "#" in before_comma):
        raise _NotHere
    indent = _last_line(template)
    closing_indent = _last_line(closing)
    head = closing[: len(closing) - len(closing_indent)]
    out = (before_comma + "," if had_comma else ",") + head + indent
    out += ("," + newline + indent).join(written)
    out += ("," if had_comma else "") + newline + closing_indent
    return last_end, close.end() - 1, out


def _last_line(gap: str) -> str:
    """What follows the last line break of ``gap``."""
    return re.split(r"\r\n|\r|\n", gap)[-1]


def _only_line_breaks(text: str, newline: str) -> bool:
    """Whether every line break in ``text`` is ``newline``: libcst writes the
    file's first line break for every one it parses in a call's whitespace."""
    if newline == "\n":
        return "\r" not in text
    if newline == "\r":
        return "\n" not in text
    return text.count("\r") == text.count("\n") == text.count("\r\n")


def _splice(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = []
    pos = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise _NotHere  # overlapping edits: not a case this module writes
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:])
    return "".join(out)
