"""Plan the rewrite of one RMSProp call (``ast`` only; no libcst here).

``plan_call`` reads the call's ``ast`` node and the two API tables and decides,
argument by argument, what happens (rename, coerce, drop, pin a default) and what
to report.  ``rewrite.build_call`` then applies the plan to the libcst tree of
just that call's text.  The same code runs in both directions: only the tables
differ.  Keeping libcst out of this module lets ``rmsport check`` answer without
paying libcst's import (~110 ms) when no diff is asked for.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from ..numerics import advice
from ..tables.optimizers import APIS, DROPS, MS_LR_SCHEDULES, PARAMS_METHOD_SWAP, Api
from .flow import NOT_BOUND, Followed
from .literals import NOT_LITERAL, format_float, format_value, is_number, literal_value

# (code, message, ast node for the location or None for the whole call, severity override)
Report = tuple[str, str, "ast.AST | None", "str | None"]


@dataclass
class ArgAction:
    concept: str
    src_keyword: str | None  # None when the argument was positional
    node: ast.expr
    dst_keyword: str | None = None  # None: dropped
    # Value transforms, applied in build_call.
    params_method: tuple[str, str] | None = None  # (old method, new method)
    group_methods: bool = False  # rewrite the idiom inside param-group dicts
    to_float: bool = False
    eps_power: float | None = None  # 2.0 (eps**2) or 0.5 (sqrt)
    value: object = NOT_LITERAL  # the value the target will see, when literal
    followed: Followed | None = None  # what a plain name holds at the call
    wrap_float: bool = False  # written as float(<value>)
    literal_text: str | None = None  # the value written as this literal instead (``torch.tensor(0.01)``)


@dataclass
class CallPlan:
    src: Api
    dst: Api
    actions: list[ArgAction] = field(default_factory=list)
    pins: list[tuple[str, str]] = field(default_factory=list)  # (dst keyword, source text)
    reports: list[Report] = field(default_factory=list)
    blocked: bool = False  # an error finding: leave the call unchanged
    spelling_only: bool = False
    src_kwargs: dict[str, object] = field(default_factory=dict)  # literal values, src names
    dst_kwargs: dict[str, object] = field(default_factory=dict)  # literal values, dst names
    all_literal: bool = True
    not_literal: list[str] = field(default_factory=list)  # source keywords whose value is an expression
    grouped: bool = False

    def report(self, code: str, message: str, node: ast.AST | None = None, severity: str | None = None) -> None:
        self.reports.append((code, message, node, severity))

    def block(self, code: str, message: str, node: ast.AST | None = None) -> None:
        self.blocked = True
        self.report(code, message, node)


def _eps_inside_root(api: Api) -> bool:
    return api.semantics.eps_placement == "inside"


def _call_qualname(node: ast.expr, qualname_of: Callable[[ast.expr], str | None]) -> str | None:
    if isinstance(node, ast.Call):
        return qualname_of(node.func)
    return None


def _group_dicts(node: ast.expr) -> list[ast.expr] | None:
    """The dicts of a literal param-group list, or None when params are not grouped."""
    if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts:
        return None
    groups = []
    for elt in node.elts:
        if isinstance(elt, ast.Dict) or isinstance(elt, ast.Call) and isinstance(elt.func, ast.Name) and elt.func.id == "dict" and not elt.args:
            groups.append(elt)
        else:
            return None
    return groups


def _group_keys(group: ast.expr) -> list[tuple[str | None, ast.AST]]:
    """(key, node) pairs of a group dict; key None for a ``**splat`` or non-string key."""
    out: list[tuple[str | None, ast.AST]] = []
    if isinstance(group, ast.Dict):
        for key, value in zip(group.keys, group.values):
            if key is None:
                out.append((None, value))
            elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                out.append((key.value, key))
            else:
                out.append((None, key))
    else:
        assert isinstance(group, ast.Call)
        for kw in group.keywords:
            out.append((kw.arg, kw))
    return out


def _params_method(node: ast.expr) -> str | None:
    """``parameters`` for ``model.parameters()``, ``trainable_params`` likewise."""
    if (
        isinstance(node, ast.Call)
        and not node.args
        and not node.keywords
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in PARAMS_METHOD_SWAP
    ):
        return node.func.attr
    return None


# -- rules per concept ---------------------------------------------------------
# A rule looks at one argument (``ArgAction``) of a call being planned and may
# change how it is written or report on it.  Rules register per concept, like
# pyupgrade's plugins; ``"*"`` rules run for every kept argument, after the
# concept's own rules.  Adding a concept (or an optimizer) adds rules, not
# branches in ``plan_call``.


@dataclass
class Context:
    """What a rule may read besides the argument: the plan so far and the lookups."""

    plan: CallPlan
    eps_mapping: str
    qualname_of: Callable[[ast.expr], str | None]
    value_of: Callable[[ast.expr], Followed]


Rule = Callable[[Context, ArgAction, ast.AST], None]
RULES: dict[str, list[Rule]] = {}


def rule(*concepts: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for concept in concepts:
            RULES.setdefault(concept, []).append(fn)
        return fn

    return register


def _identity(node: ast.expr) -> Followed:
    return Followed(node)


def plan_call(
    call: ast.Call,
    src: Api,
    dst: Api,
    *,
    eps_mapping: str,
    qualname_of: Callable[[ast.expr], str | None],
    value_of: Callable[[ast.expr], Followed] | None = None,
    device: str = advice.DEFAULT_DEVICE,
) -> CallPlan:
    """Decide every argument of ``call`` going from ``src`` to ``dst``.

    ``value_of`` follows a plain name to the value it holds at the call (see
    ``Flow.follow``); without it, names are judged as written.  ``device`` is
    where the MindSpore side trains (``--mindspore-device``): RMS302's advice
    and RMS305 depend on it.
    """
    plan = CallPlan(src, dst)
    if src.qualname == dst.qualname:
        plan.spelling_only = True
        return plan
    ctx = Context(plan, eps_mapping, qualname_of, value_of or _identity)
    given = bind_arguments(plan, call)
    if given is None:
        return plan
    present = {concept for concept, *_ in given}

    for concept, src_kw, node, where in given:
        followed = ctx.value_of(node) if isinstance(node, (ast.Name, ast.Attribute)) else Followed(node)
        judged = followed.value if followed.value is not None else node
        value = literal_value(judged)
        if concept != "params":
            if value is NOT_LITERAL:
                plan.all_literal = False
                plan.not_literal.append(f"{src.keywords[concept]}={ast.unparse(node)}")
            else:
                plan.src_kwargs[src.keywords[concept]] = value
        action = ArgAction(concept, src_kw, node, value=value, followed=followed)
        plan.actions.append(action)
        dst_kw = dst.keywords.get(concept)
        if dst_kw is None:
            _plan_drop(plan, action, where, value)
            continue
        action.dst_keyword = dst_kw
        for fn in (*RULES.get(concept, ()), *RULES.get("*", ())):
            fn(ctx, action, where)
            if plan.blocked:
                return plan
        if concept != "params" and (is_number(action.value) or isinstance(action.value, (bool, list, tuple))):
            plan.dst_kwargs[dst_kw] = action.value
    if plan.blocked:
        return plan
    _pin_defaults(plan, present, eps_mapping)
    _semantic_drift(plan, device)
    return plan


def bind_arguments(
    plan: CallPlan, call: ast.Call, removed: dict[str, tuple[str, str]] | None = None
) -> list[tuple[str, str | None, ast.expr, ast.AST]] | None:
    """(concept, keyword as written or None, value, node to report at) per argument; None when blocked.

    Shared by optimizer and scheduler plans.  ``removed`` maps keywords the
    source class no longer (or never really) supports to ``(code, message)``;
    they block the call before the table is consulted.
    """
    src = plan.src
    for node in call.args:
        if isinstance(node, ast.Starred):
            plan.block("RMS209", "a *args splat hides which arguments are passed; rewrite it by hand", node)
            return None
    for kw in call.keywords:
        if kw.arg is None:
            plan.block("RMS209", "a **kwargs splat hides which keywords are passed; rewrite it by hand", kw)
            return None
    if len(call.args) > len(src.positional):
        plan.block("RMS214", f"{src.qualname} takes at most {len(src.positional)} positional arguments", call)
        return None
    given: list[tuple[str, str | None, ast.expr, ast.AST]] = []
    for concept, node in zip(src.positional, call.args):
        given.append((concept, None, node, node))
    concept_of = src.concept_of
    for kw in call.keywords:
        if removed and kw.arg in removed:
            plan.block(*removed[kw.arg], kw)
            return None
        concept = concept_of.get(kw.arg or "")
        if concept is None:
            plan.block("RMS214", f"{src.qualname} has no argument {kw.arg!r}", kw)
            return None
        given.append((concept, kw.arg, kw.value, kw))
    seen: set[str] = set()
    for concept, _, _, where in given:
        if concept in seen:
            plan.block("RMS214", f"{src.keywords[concept]} is given twice (positionally and by keyword)", where)
            return None
        seen.add(concept)
    return given


@rule("params")
def _params_rule(ctx: Context, action: ArgAction, where: ast.AST) -> None:
    _plan_params(ctx, action, action.node)


@rule("lr")
def _lr_rule(ctx: Context, action: ArgAction, where: ast.AST) -> None:
    plan = ctx.plan
    scalar = _scalar_tensor(ctx, action)
    if scalar is not None:
        callee, number = scalar
        action.value = number
        action.literal_text = format_value(number)
        plan.src_kwargs[plan.src.keywords["lr"]] = number
        if plan.not_literal and plan.not_literal[-1].startswith(plan.src.keywords["lr"] + "="):
            plan.not_literal.pop()
            plan.all_literal = not plan.not_literal and not plan.grouped
        plan.report(
            "RMS218",
            f"{action.src_keyword or plan.src.keywords['lr']}={ast.unparse(action.node)} is a one-element "
            f"{callee}; written as {action.dst_keyword}={action.literal_text}, a constant learning rate",
            where,
        )
        return
    if plan.dst.framework == "torch":
        _check_lr_for_torch(plan, action, ctx.qualname_of)
    else:
        _check_lr_for_mindspore(plan, action, ctx.qualname_of)


@rule("eps")
def _eps_rule(ctx: Context, action: ArgAction, where: ast.AST) -> None:
    plan, src, dst = ctx.plan, ctx.plan.src, ctx.plan.dst
    if ctx.eps_mapping != "matched" or _eps_inside_root(src) == _eps_inside_root(dst):
        return
    node, value = action.node, action.value
    action.eps_power = 2.0 if _eps_inside_root(dst) else 0.5
    if is_number(value):
        action.value = float(f"{value ** action.eps_power:.12g}")  # type: ignore[operator]
    plan.report(
        "RMS213",
        f"{action.src_keyword or action.concept}={_show(node, value)} written as "
        f"{action.dst_keyword}={_eps_power_text(node, action)}"
        " so that the denominator's floor stays the same (--eps-mapping matched)",
        where,
    )


@rule("*")
def _float_only_rule(ctx: Context, action: ArgAction, where: ast.AST) -> None:
    """MindSpore checks ``isinstance(x, float)``: an int (or anything not provably a float) fails."""
    plan, dst = ctx.plan, ctx.plan.dst
    if action.concept not in dst.float_only:
        return
    value, dst_kw, node = action.value, action.dst_keyword, action.node
    inline = action.followed is None or action.followed.via is None
    if isinstance(value, bool):
        plan.report(
            "RMS204",
            f"{dst.qualname} raises TypeError unless {dst_kw} is a Python float; {value} is a bool "
            f"(write {float(value)} if that is what is meant)",
            where,
        )
    elif isinstance(value, int) and inline:
        action.to_float = True
        action.value = float(value)
        plan.report(
            "RMS203",
            f"{dst_kw}={value} written as {dst_kw}={format_float(value)}: {dst.qualname} raises "
            "TypeError unless it is a Python float",
            where,
        )
    elif isinstance(value, float) or _is_float_call(node):
        return  # provably a float already
    else:
        action.wrap_float = True
        if isinstance(value, int):
            action.value = float(value)
        held = ""
        if action.followed is not None and action.followed.via is not None:
            shown = _show(action.followed.value, value)  # type: ignore[arg-type]
            held = f" (it holds {shown}, line {action.followed.via.lineno})"
        inner = ast.unparse(node) if action.eps_power is None else _eps_power_text(node, action)
        plan.report(
            "RMS216",
            f"{dst_kw}={ast.unparse(node)} written as {dst_kw}=float({inner}){held}: "
            f"{dst.qualname} raises TypeError unless it is a Python float (an int such as an argparse default 0 fails)",
            where,
        )


@rule("*")
def _positive_rule(ctx: Context, action: ArgAction, where: ast.AST) -> None:
    plan, dst = ctx.plan, ctx.plan.dst
    if action.concept in dst.positive and is_number(action.value) and action.value <= 0:  # type: ignore[operator]
        plan.block(
            "RMS205" if action.concept == "eps" else "RMS214",
            f"{dst.qualname} requires {action.dst_keyword} > 0 (got {_show(action.node, action.value)}); "
            "pick a positive value, then convert",
            where,
        )


def _is_float_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"


# Tensor constructors whose one-element result is a constant learning rate.
_TENSOR_CALLS = {
    "torch": ("torch.tensor", "torch.Tensor", "torch.as_tensor", "torch.FloatTensor", "torch.DoubleTensor"),
    "mindspore": ("mindspore.Tensor", "mindspore.tensor", "mindspore.common.Tensor", "mindspore.common.tensor.Tensor"),
}


def _tensor_call(ctx: Context, node: ast.expr | None) -> str | None:
    """The qualified name of a source-framework tensor constructor that ``node`` calls."""
    if not isinstance(node, ast.Call):
        return None
    callee = ctx.qualname_of(node.func)
    return callee if callee in _TENSOR_CALLS[ctx.plan.src.framework] else None


def _scalar_tensor(ctx: Context, action: ArgAction) -> tuple[str, float] | None:
    """``Tensor(0.01)`` / ``torch.tensor(0.01, dtype=...)``: (constructor, the number)."""
    judged = action.followed.value if action.followed is not None else action.node
    callee = _tensor_call(ctx, judged)
    if callee is None:
        return None
    assert isinstance(judged, ast.Call)
    extra = any(k.arg not in ("dtype", "device", "requires_grad") for k in judged.keywords)
    if not judged.args or len(judged.args) > 2 or extra:
        return None
    number = literal_value(judged.args[0])
    if not is_number(number):
        return None
    return callee.rsplit(".", 1)[1], float(number)  # type: ignore[arg-type]


def _pin_defaults(plan: CallPlan, present: set[str], eps_mapping: str) -> None:
    """Pin every default that differs, with the source's value."""
    src, dst = plan.src, plan.dst
    pinned = []
    for concept, dst_kw in dst.keywords.items():
        if concept in present or concept not in src.defaults or concept not in dst.defaults:
            continue
        src_default, dst_default = src.defaults[concept], dst.defaults[concept]
        if src_default == dst_default and type(src_default) is type(dst_default) or (
            is_number(src_default) and is_number(dst_default) and src_default == dst_default
        ):
            continue
        value = src_default
        if concept == "eps" and eps_mapping == "matched" and _eps_inside_root(src) != _eps_inside_root(dst):
            value = float(f"{value ** (2.0 if _eps_inside_root(dst) else 0.5):.12g}")  # type: ignore[operator]
        if concept in dst.float_only and isinstance(value, int):
            value = float(value)
        text = format_value(value)
        plan.pins.append((dst_kw, text))
        plan.dst_kwargs[dst_kw] = value
        pinned.append(f"{dst_kw}={text} ({dst.qualname} defaults to {format_value(dst_default)})")
    if pinned:
        plan.report(
            "RMS201",
            f"{src.qualname} defaults written out so the rewritten call keeps them: " + ", ".join(pinned),
        )


def _semantic_drift(plan: CallPlan, device: str = advice.DEFAULT_DEVICE) -> None:
    """What renaming cannot fix: worded from the tables' semantics (``rmsport.numerics.advice``)."""
    src, dst = plan.src, plan.dst
    if src.semantics.square_avg_start != dst.semantics.square_avg_start:
        plan.report("RMS301", advice.square_avg_message(src, dst, _decay_of(plan), _experimental_hint(dst)))
    if src.semantics.eps_placement != dst.semantics.eps_placement:
        plan.report("RMS302", advice.eps_placement_message(src, dst, device))
    if src.semantics.lr_placement != dst.semantics.lr_placement:
        plan.report("RMS303", advice.lr_placement_message(src, dst))
    cpu_note = advice.cpu_kernel_note(src.qualname, dst.qualname, device)
    if cpu_note is not None:
        plan.report("RMS305", cpu_note)
    if src.semantics.weight_decay_skips != dst.semantics.weight_decay_skips:
        nn, other = (dst, src) if dst.semantics.weight_decay_skips else (src, dst)
        wd = [a for a in plan.actions if a.concept == "weight_decay"]
        if wd and not plan.grouped and not (is_number(wd[0].value) and wd[0].value == 0):
            plan.report(
                "RMS304",
                f"{nn.qualname} with ungrouped params skips weight decay for parameters whose name contains "
                + " or ".join(f"'{part}'" for part in nn.semantics.weight_decay_skips)
                + f" (norm layers); {other.qualname} decays every parameter",
                wd[0].node,
            )


def _decay_of(plan: CallPlan) -> object:
    """The call's own decay (its literal, or the source default); None when it is an expression."""
    for action in plan.actions:
        if action.concept == "alpha":
            return action.value if is_number(action.value) else None
    return plan.src.defaults.get("alpha")


def _eps_power_text(node: ast.expr, action: ArgAction) -> str:
    """The epsilon expression exactly as rewrite.build_call writes it."""
    if is_number(action.value):
        return format_float(action.value)  # type: ignore[arg-type]
    return power_text(ast.unparse(node), node, action.eps_power)  # type: ignore[arg-type]


def power_text(text: str, node: ast.expr, power: float) -> str:
    """``text`` (the source of ``node``) raised to ``power`` (2 or 0.5), as rewrite._rewrite_arg
    writes it: the nodes libcst leaves bare are names (None, True and False are names to it),
    attributes, calls and subscripts; everything else gets parentheses."""
    bare_constant = isinstance(node, ast.Constant) and any(node.value is c for c in (None, True, False))
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)) and not bare_constant:
        text = f"({text})"
    return f"{text} ** {'2' if power == 2.0 else '0.5'}"


def _sibling_with(dst: Api, test: Callable[[Api], bool]) -> Api | None:
    """Another API of the target's framework for which ``test`` holds (the --target alternative)."""
    for api in APIS.values():
        if api.framework == dst.framework and api.qualname != dst.qualname and test(api):
            return api
    return None


def _experimental_hint(dst: Api) -> str:
    if dst.semantics.square_avg_start != 0 and _sibling_with(dst, lambda a: a.semantics.square_avg_start == 0):
        return "; --target experimental writes mindspore.experimental.optim.RMSprop, which matches torch"
    return ""


def _show(node: ast.expr, value: object) -> str:
    if value is NOT_LITERAL:
        return ast.unparse(node)
    return format_value(value)


def _plan_drop(plan: CallPlan, action: ArgAction, where: ast.AST, value: object) -> None:
    src, dst = plan.src, plan.dst
    name = action.src_keyword or src.keywords[action.concept]
    rule = DROPS.get(action.concept)
    if rule is None:  # pragma: no cover - the tables cover every concept
        plan.block("RMS214", f"{dst.qualname} has no counterpart for {name}", where)
        return
    if rule.how == "always":
        plan.report("RMS202", f"{name} dropped: {rule.note}", where)
    elif rule.how == "at_default":
        if value is not NOT_LITERAL and value == src.defaults.get(action.concept):
            plan.report("RMS202", f"{name}={format_value(value)} dropped: it is the default and {dst.qualname} has no {name}", where)
        else:
            plan.block(
                "RMS206" if action.concept == "maximize" else "RMS214",
                f"{name}={_show(action.node, value)} changes the update and {dst.qualname} has no {name}"
                + (
                    "; --target experimental supports maximize"
                    if action.concept == "maximize" and _sibling_with(dst, lambda a: "maximize" in a.keywords)
                    else ""
                ),
                where,
            )
    elif rule.how == "loss_scale":
        if is_number(value) and value == 1:
            plan.report("RMS202", f"{name}={format_value(value)} dropped: no scaling, and torch has no loss_scale", where)
        else:
            plan.report(
                "RMS210",
                f"{name}={_show(action.node, value)} dropped: {src.qualname} divides gradients by it because the "
                "loss was multiplied by it elsewhere (a LossScaleManager); in torch, scale the loss with "
                "torch.amp.GradScaler, whose step() unscales the gradients before the optimizer sees them",
                where,
            )


def _why(action: ArgAction) -> str:
    node = action.node
    if action.followed is not None and action.followed.why:
        return action.followed.why
    if isinstance(node, ast.Attribute):
        return "an attribute"
    if isinstance(node, ast.Call):
        return "the result of a call"
    return "an expression"


def _uses_method(node: ast.expr, method: str) -> bool:
    return any(_params_method(n) == method for n in ast.walk(node) if isinstance(n, ast.Call))


def _plan_params(ctx: Context, action: ArgAction, node: ast.expr) -> None:
    plan = ctx.plan
    src, dst = plan.src, plan.dst
    method = _params_method(node)
    if method == src.params_method and method != dst.params_method:
        action.params_method = (src.params_method, dst.params_method)
        plan.report("RMS212", f".{src.params_method}() written as .{dst.params_method}()", node)
        return
    followed = action.followed
    judged = followed.value if followed is not None and followed.value is not None else node
    via = followed.via if followed is not None else None
    where_held = f" ({ast.unparse(node)}, assigned on line {via.lineno})" if via is not None else ""
    groups = _group_dicts(judged)
    if groups is None:
        if via is not None and src.params_method != dst.params_method and _uses_method(judged, src.params_method):
            plan.report(
                "RMS215",
                f"params={ast.unparse(node)} holds {ast.unparse(judged)} (line {via.lineno}): {dst.qualname} "
                f"needs .{dst.params_method}() there (AttributeError otherwise); rewrite that line too",
                node,
            )
        elif via is None and src.params_method != dst.params_method and _uses_method(node, src.params_method):
            # ``filter(lambda p: p.requires_grad, model.parameters())``: the idiom inside.
            action.group_methods = True
            plan.report("RMS212", f".{src.params_method}() written as .{dst.params_method}()", node)
        elif (followed is not None and followed.value is None and followed.why != NOT_BOUND) or isinstance(
            judged, (ast.Attribute, ast.Call)
        ):
            rejected = sorted(src.group_keys - dst.group_keys)
            if rejected and not (isinstance(judged, ast.Call) and _uses_method(judged, src.params_method)):
                plan.report(
                    "RMS215",
                    f"params={ast.unparse(node)} is {_why(action)}, so rmsport cannot see whether it holds "
                    f"param groups: {dst.qualname} rejects group keys {', '.join(rejected)}",
                    node,
                )
        return
    plan.grouped = True
    plan.all_literal = False  # per-group values are not verified
    for group in groups:
        for key, where in _group_keys(group):
            if key is None:
                plan.block("RMS209", "a param group with a **splat or computed key hides its keys; rewrite it by hand"
                           + where_held, where if via is None else node)
                return
            if key not in dst.group_keys:
                plan.block(
                    "RMS207",
                    f"param group key {key!r} is not accepted by {dst.qualname} "
                    f"(it takes {', '.join(sorted(dst.group_keys))})" + where_held,
                    where if via is None else node,
                )
                return
            if key == "lr" and dst.framework == "torch" and isinstance(group, ast.Dict):
                value = group.values[group.keys.index(where)]  # type: ignore[arg-type]
                _check_group_lr(ctx, value, node if via is not None else value)
                if plan.blocked:
                    return
    if src.params_method != dst.params_method:
        if via is None:
            action.group_methods = True
        elif _uses_method(judged, src.params_method):
            plan.report(
                "RMS215",
                f"the param groups in {ast.unparse(node)} (line {via.lineno}) call .{src.params_method}(); "
                f"{dst.qualname} needs .{dst.params_method}() there (AttributeError otherwise); rewrite that line too",
                node,
            )


def _check_group_lr(ctx: Context, value: ast.expr, where: ast.AST) -> None:
    followed = ctx.value_of(value) if isinstance(value, ast.Name) else Followed(value)
    judged = followed.value if followed.value is not None else value
    held = literal_value(judged)
    callee = _call_qualname(judged, ctx.qualname_of)
    if isinstance(held, (list, tuple)) or callee is not None and _is_ms_schedule(callee):
        ctx.plan.block(
            "RMS208",
            f"a param group's 'lr' is {ast.unparse(value)}"
            + (f" (= {ast.unparse(judged)}, line {followed.via.lineno})" if followed.via is not None else "")
            + ": a per-step list, Tensor or schedule has no torch spelling; torch needs a float lr per group",
            where,
        )


def _is_ms_schedule(callee: str) -> bool:
    return callee in MS_LR_SCHEDULES or callee.endswith("LR") and callee.startswith("mindspore.")


def _check_lr_for_torch(plan: CallPlan, action: ArgAction, qualname_of: Callable[[ast.expr], str | None]) -> None:
    node, value = action.node, action.value
    followed = action.followed
    judged = followed.value if followed is not None and followed.value is not None else node
    held = ""
    if followed is not None and followed.via is not None:
        held = f" ({ast.unparse(node)} = {ast.unparse(judged)}, line {followed.via.lineno})"
    if isinstance(value, (list, tuple)):
        plan.block(
            "RMS208",
            "a per-step learning-rate list has no torch constructor spelling; use a float lr and "
            "torch.optim.lr_scheduler (e.g. LambdaLR) for the schedule" + held,
            node,
        )
        return
    callee = _call_qualname(judged, qualname_of)
    if callee is not None and _is_ms_schedule(callee):
        plan.block(
            "RMS208",
            f"learning_rate={callee.rsplit('.', 1)[1]}(...) is a MindSpore "
            + ("Tensor (of per-step values, unless it holds one number)" if "ensor" in callee else "schedule")
            + "; torch needs a float lr plus a torch.optim.lr_scheduler" + held,
            node,
        )
        return
    if value is NOT_LITERAL:
        plan.report(
            "RMS211",
            f"learning_rate={ast.unparse(node)} is not a literal ({_why(action)}): torch needs a float (or a "
            "Tensor); a list, Tensor of per-step values or LearningRateSchedule needs torch.optim.lr_scheduler "
            "instead (TypeError or a wrong schedule otherwise)",
            node,
        )


def _check_lr_for_mindspore(plan: CallPlan, action: ArgAction, qualname_of: Callable[[ast.expr], str | None]) -> None:
    followed = action.followed
    judged = followed.value if followed is not None and followed.value is not None else action.node
    callee = _call_qualname(judged, qualname_of)
    if callee is not None and callee in _TENSOR_CALLS["torch"]:
        plan.block(
            "RMS217",
            f"lr={ast.unparse(action.node)} is a torch Tensor that is not a one-element literal; "
            f"{plan.dst.qualname} rejects a torch Tensor: pass a float (or a MindSpore Tensor or schedule)",
            action.node,
        )
