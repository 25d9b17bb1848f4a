"""Apply a call plan (``plan.py``) to the libcst tree of just that call's text.

Working on the call's own text keeps comments and layout inside the call, and
leaves every byte outside it alone by construction.
"""

from __future__ import annotations

import libcst as cst

from .literals import format_float, is_number
from .plan import ArgAction, CallPlan

# --------------------------------------------------------------------------
# Applying a plan to the libcst tree of the call.
# --------------------------------------------------------------------------


class _Comments(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.found.append(node.value)


def comments_in(node: cst.CSTNode) -> list[str]:
    visitor = _Comments()
    node.visit(visitor)
    return visitor.found


class CannotRewrite(Exception):
    """The call could be rewritten in principle, but not without losing something."""


def build_call(call: cst.Call, plan: CallPlan, func: cst.BaseExpression) -> cst.Call:
    """The rewritten call: new function, renamed/coerced/dropped args, pins."""
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
                if comments_in(arg):
                    raise CannotRewrite(f"dropping {action.concept} would lose a comment")
                continue
            prev = kept[-1]
            trail = arg.comma.whitespace_after if isinstance(arg.comma, cst.Comma) else arg.whitespace_after_arg
            lead = prev.comma.whitespace_after if isinstance(prev.comma, cst.Comma) else prev.whitespace_after_arg
            merged = merge_whitespace(lead, trail) if comments_in(trail) else (trail if is_last else lead)
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
    if sorted(comments_in(call)) != sorted(comments_in(new_call)):
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
        value = value.visit(_GroupParams())  # type: ignore[assignment]
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


class _GroupParams(cst.CSTTransformer):
    """Inside param-group dicts: model.parameters() <-> net.trainable_params()."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if isinstance(updated.func, cst.Attribute) and not updated.args:
            attr = updated.func.attr.value
            swap = {"parameters": "trainable_params", "trainable_params": "parameters"}
            if attr in swap:
                return updated.with_changes(func=updated.func.with_changes(attr=cst.Name(swap[attr])))
        return updated


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
            value=cst.parse_expression(text),
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
