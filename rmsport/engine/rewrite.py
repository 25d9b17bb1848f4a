"""Apply a call plan (``plan.py``) to the libcst tree of just that call's text.

Working on the call's own text keeps comments and layout inside the call, and
leaves every byte outside it alone by construction.
"""

from __future__ import annotations

import dataclasses
import functools

import libcst as cst

from ..tables.optimizers import PARAMS_METHOD_SWAP
from .literals import format_float, is_number
from .plan import ArgAction, CallPlan

# --------------------------------------------------------------------------
# Applying a plan to the libcst tree of the call.
# --------------------------------------------------------------------------


_NODE_FIELDS: dict[type, tuple[str, ...]] = {}


def comments_in(node: cst.CSTNode) -> list[str]:
    """Every comment inside ``node`` (in no particular order).

    A plain walk over the nodes' fields: libcst's visitor rebuilds and
    re-validates every node it passes, which made this walk most of the cost
    of a call that holds a comment.
    """
    found: list[str] = []
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.Comment):
            found.append(item.value)
            continue
        for name in _fields(item):
            value = getattr(item, name)
            if isinstance(value, cst.CSTNode):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(child for child in value if isinstance(child, cst.CSTNode))
    return found


def _fields(node: object) -> tuple[str, ...]:
    names = _NODE_FIELDS.get(type(node))
    if names is None:
        names = _NODE_FIELDS[type(node)] = tuple(f.name for f in dataclasses.fields(node))  # type: ignore[arg-type]
    return names


@functools.lru_cache(maxsize=256)
def parse_value(text: str) -> cst.BaseExpression:
    """An expression from its text, parsed once: libcst nodes are immutable, so
    the same pinned value or function name can sit in any number of calls."""
    return cst.parse_expression(text)


class CannotRewrite(Exception):
    """The call could be rewritten in principle, but not without losing something."""


def build_call(call: cst.Call, plan: CallPlan, func: cst.BaseExpression, *, comments: bool = True) -> cst.Call:
    """The rewritten call: new function, renamed/coerced/dropped args, pins.

    ``comments=False`` says the call's text holds no ``#``, so there is no
    comment to lose: the walks that look for them (43% of a call-dense
    ``convert``) are skipped.
    """
    new_func = func.with_changes(lpar=call.func.lpar, rpar=call.func.rpar) if hasattr(func, "lpar") else func
    if plan.spelling_only:
        return call.with_changes(func=new_func)
    positional = [a for a in call.args if a.keyword is None]
    keywords = [a for a in call.args if a.keyword is not None]
    by_node: dict[int, ArgAction] = {}
    pos_actions = [a for a in plan.actions if a.src_keyword is None]
    kw_actions = [a for a in plan.actions if a.src_keyword is not None]
    if len(pos_actions) != len(positional) or len(kw_actions) != len(keywords):
        raise CannotRewrite("the call's arguments did not line up between parsers")
    for arg, action in zip(positional, pos_actions):
        by_node[id(arg)] = action
    for arg, action in zip(keywords, kw_actions):
        by_node[id(arg)] = action

    kept: list[cst.Arg] = []
    args = list(call.args)
    for index, arg in enumerate(args):
        action = by_node[id(arg)]
        is_last = index == len(args) - 1
        if action.dst_keyword is None:
            if not kept:
                if comments and comments_in(arg):
                    raise CannotRewrite(f"dropping {action.concept} would lose a comment")
                continue
            prev = kept[-1]
            trail = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
            lead = prev.comma.whitespace_after if isinstance(prev.comma, cst.Comma) else prev.whitespace_after_arg
            merged = merge_whitespace(lead, trail) if comments and comments_in(trail) else (trail if is_last else lead)
            if is_last:
                if isinstance(arg.comma, cst.Comma):
                    kept[-1] = prev.with_changes(comma=arg.comma.with_changes(whitespace_after=merged),
                                                 whitespace_after_arg=arg.whitespace_after_arg)
                else:
                    kept[-1] = prev.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=merged)
            elif isinstance(prev.comma, cst.Comma):
                kept[-1] = prev.with_changes(comma=prev.comma.with_changes(whitespace_after=merged))
            continue
        kept.append(_rewrite_arg(arg, action))

    kept = _append_pins(call, kept, plan.pins)
    new_call = call.with_changes(func=new_func, args=kept)
    if comments and sorted(comments_in(call)) != sorted(comments_in(new_call)):
        raise CannotRewrite("dropping an argument would lose a comment inside the call; drop it by hand first")
    return new_call


_NO_SPACE = cst.SimpleWhitespace("")


def merge_whitespace(
    lead: cst.BaseParenthesizableWhitespace, trail: cst.BaseParenthesizableWhitespace
) -> cst.BaseParenthesizableWhitespace:
    """Whitespace for the gap left by a dropped element, keeping its comment.

    ``lead`` led into the dropped element, ``trail`` followed it.  A comment that
    trailed the dropped element gets a line of its own instead of moving onto a
    neighbour it does not describe.
    """
    if not isinstance(trail, cst.ParenthesizedWhitespace):
        return lead
    if not isinstance(lead, cst.ParenthesizedWhitespace):
        return trail
    moved = []
    if trail.first_line.comment is not None:
        moved.append(
            cst.EmptyLine(
                indent=lead.indent,
                whitespace=lead.last_line,
                comment=trail.first_line.comment,
                newline=trail.first_line.newline,
            )
        )
    return cst.ParenthesizedWhitespace(
        first_line=lead.first_line,
        empty_lines=[*lead.empty_lines, *moved, *trail.empty_lines],
        indent=trail.indent,
        last_line=trail.last_line,
    )


def _rewrite_arg(arg: cst.Arg, action: ArgAction) -> cst.Arg:
    value = arg.value
    if action.params_method is not None:
        value = _swap_method(value, *action.params_method)
    if action.group_methods:
        value = _swap_group_methods(value)  # type: ignore[assignment]
    if action.eps_power is not None:
        if is_number(action.value):
            value = cst.Float(format_float(action.value))  # type: ignore[arg-type]
        else:
            base = value
            if not isinstance(base, (cst.Name, cst.Attribute, cst.Call, cst.Subscript)) or base.lpar:
                base = base.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if not base.lpar else base
            exponent = cst.Integer("2") if action.eps_power == 2.0 else cst.Float("0.5")
            value = cst.BinaryOperation(left=base, operator=cst.Power(), right=exponent)
    elif action.to_float:
        value = _to_float(value)
    if action.literal_text is not None:  # ``torch.tensor(0.01)`` -> ``0.01``
        value = cst.parse_expression(action.literal_text)
    elif action.wrap_float:  # ``float(cfg.momentum)``: MindSpore checks isinstance(x, float)
        value = cst.Call(func=cst.Name("float"), args=[cst.Arg(value)])
    if isinstance(value, (cst.GeneratorExp, cst.NamedExpr)) and not value.lpar:
        # ``f(x for x in y)`` borrows the call's parentheses, and ``f(p := x)``
        # needs none; as a keyword's value both need their own.
        value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    equal = arg.equal
    if arg.keyword is None:
        equal = cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE)
    return arg.with_changes(keyword=cst.Name(action.dst_keyword), equal=equal, value=value)


def _to_float(value: cst.BaseExpression) -> cst.BaseExpression:
    if isinstance(value, cst.Integer):
        text = value.value
        if text.isdigit() or text.replace("_", "").isdigit():
            return cst.Float(text + ".0", lpar=value.lpar, rpar=value.rpar)
        return cst.Float(format_float(float(int(text, 0))), lpar=value.lpar, rpar=value.rpar)
    if isinstance(value, cst.UnaryOperation):
        return value.with_changes(expression=_to_float(value.expression))
    return value


def _swap_method(value: cst.BaseExpression, old: str, new: str) -> cst.BaseExpression:
    if (
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == old
        and not value.args
    ):
        return value.with_changes(func=value.func.with_changes(attr=cst.Name(new)))
    return value


def _swap_group_methods(node: cst.CSTNode) -> cst.CSTNode:
    """Inside param-group dicts: model.parameters() <-> net.trainable_params().

    Bottom-up like a transformer's ``leave_Call``, but only the nodes on the
    path to a change are rebuilt (libcst's transformer rebuilds every node).
    """
    changes: dict[str, object] = {}
    for name in _fields(node):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            new = _swap_group_methods(value)
            if new is not value:
                changes[name] = new
        elif isinstance(value, (list, tuple)):
            items = [_swap_group_methods(v) if isinstance(v, cst.CSTNode) else v for v in value]
            if any(new is not old for new, old in zip(items, value)):
                changes[name] = type(value)(items)
    if changes:
        node = node.with_changes(**changes)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not node.args:
        swapped = PARAMS_METHOD_SWAP.get(node.func.attr.value)
        if swapped is not None:
            return node.with_changes(func=node.func.with_changes(attr=cst.Name(swapped)))
    return node


def _trailing_ws(arg: cst.Arg) -> cst.BaseParenthesizableWhitespace:
    if isinstance(arg.comma, cst.Comma):
        return arg.comma.whitespace_after
    return arg.whitespace_after_arg


def _append_pins(call: cst.Call, kept: list[cst.Arg], pins: list[tuple[str, str]]) -> list[cst.Arg]:
    if not pins:
        return kept
    new_args = [
        cst.Arg(
            keyword=cst.Name(kw),
            value=parse_value(text),
            equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
        )
        for kw, text in pins
    ]
    if not kept:
        return new_args
    last = kept[-1]
    closing = _trailing_ws(last)
    had_trailing_comma = isinstance(last.comma, cst.Comma)
    # The whitespace that leads into an argument on its own line, if the call
    # is laid out one argument per line.
    template: cst.ParenthesizedWhitespace | None = None
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace):
        template = call.whitespace_before_args
    for arg in kept[:-1]:
        if template is None and isinstance(arg.comma, cst.Comma) and isinstance(arg.comma.whitespace_after, cst.ParenthesizedWhitespace):
            template = arg.comma.whitespace_after
    if isinstance(closing, cst.ParenthesizedWhitespace) and template is not None:
        lead = cst.ParenthesizedWhitespace(indent=template.indent, last_line=template.last_line)
        close = cst.ParenthesizedWhitespace(indent=closing.indent, last_line=closing.last_line)
        # The last argument keeps its own trailing comment; then a line per pin.
        kept[-1] = last.with_changes(
            comma=cst.Comma(
                whitespace_before=last.comma.whitespace_before if had_trailing_comma else _NO_SPACE,
                whitespace_after=closing.with_changes(indent=template.indent, last_line=template.last_line),
            ),
            whitespace_after_arg=_NO_SPACE if not had_trailing_comma else last.whitespace_after_arg,
        )
        for i, arg in enumerate(new_args):
            if i < len(new_args) - 1:
                new_args[i] = arg.with_changes(comma=cst.Comma(whitespace_after=lead))
            elif had_trailing_comma:
                new_args[i] = arg.with_changes(comma=cst.Comma(whitespace_after=close))
            else:
                new_args[i] = arg.with_changes(whitespace_after_arg=close)
        return kept + new_args
    # Inline: ", k=v" after the last argument, keeping what closed the call.
    kept[-1] = last.with_changes(
        comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
        whitespace_after_arg=_NO_SPACE,
    )
    for i, arg in enumerate(new_args):
        if i < len(new_args) - 1:
            new_args[i] = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            new_args[i] = arg.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
    return kept + new_args
