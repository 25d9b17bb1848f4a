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
from ..tables.optimizers import APIS, DROPS, MS_LR_SCHEDULES, Api
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
        and node.func.attr in ("parameters", "trainable_params")
    ):
        return node.func.attr
    return None


def plan_call(
    call: ast.Call,
    src: Api,
    dst: Api,
    *,
    eps_mapping: str,
    qualname_of: Callable[[ast.expr], str | None],
    device: str = advice.DEFAULT_DEVICE,
) -> CallPlan:
    plan = CallPlan(src, dst)
    if src.qualname == dst.qualname:
        plan.spelling_only = True
        return plan

    # 1. Every argument gets its concept; what we cannot see, we do not touch.
    for node in call.args:
        if isinstance(node, ast.Starred):
            plan.block("RMS209", "a *args splat hides which arguments are passed; rewrite it by hand", node)
            return plan
    for kw in call.keywords:
        if kw.arg is None:
            plan.block("RMS209", "a **kwargs splat hides which keywords are passed; rewrite it by hand", kw)
            return plan
    if len(call.args) > len(src.positional):
        plan.block("RMS214", f"{src.qualname} takes at most {len(src.positional)} positional arguments", call)
        return plan
    given: list[tuple[str, str | None, ast.expr, ast.AST]] = []
    for concept, node in zip(src.positional, call.args):
        given.append((concept, None, node, node))
    concept_of = src.concept_of
    for kw in call.keywords:
        concept = concept_of.get(kw.arg)  # type: ignore[arg-type]
        if concept is None:
            plan.block("RMS214", f"{src.qualname} has no argument {kw.arg!r}", kw)
            return plan
        given.append((concept, kw.arg, kw.value, kw))
    present = {concept for concept, *_ in given}
    if len(present) != len(given):
        seen: set[str] = set()
        for concept, src_kw, node, where in given:
            if concept in seen:
                plan.block("RMS214", f"{src.keywords[concept]} is given twice (positionally and by keyword)", where)
                return plan
            seen.add(concept)

    # 2. Decide each argument.
    for concept, src_kw, node, where in given:
        value = literal_value(node)
        if concept != "params":
            if value is NOT_LITERAL:
                plan.all_literal = False
                plan.not_literal.append(f"{src.keywords[concept]}={ast.unparse(node)}")
            else:
                plan.src_kwargs[src.keywords[concept]] = value
        action = ArgAction(concept, src_kw, node, value=value)
        plan.actions.append(action)
        dst_kw = dst.keywords.get(concept)
        if dst_kw is None:
            _plan_drop(plan, action, where, value)
            continue
        action.dst_keyword = dst_kw
        if concept == "params":
            _plan_params(plan, action, node)
            continue
        if concept == "lr" and dst.framework == "torch":
            _check_lr_for_torch(plan, node, value, qualname_of)
            if plan.blocked:
                return plan
        if concept == "eps" and eps_mapping == "matched" and _eps_inside_root(src) != _eps_inside_root(dst):
            action.eps_power = 2.0 if _eps_inside_root(dst) else 0.5
            if is_number(value):
                action.value = float(f"{value ** action.eps_power:.12g}")  # type: ignore[operator]
            plan.report(
                "RMS213",
                f"{src_kw or concept}={_show(node, value)} written as {dst_kw}={_eps_power_text(node, action)}"
                " so that the denominator's floor stays the same (--eps-mapping matched)",
                where,
            )
        if concept in dst.float_only:
            if isinstance(value, int) and not isinstance(value, bool):
                action.to_float = True
                action.value = float(value)
                plan.report(
                    "RMS203",
                    f"{dst_kw}={value} written as {dst_kw}={format_float(value)}: {dst.qualname} raises "
                    "TypeError unless it is a Python float",
                    where,
                )
            elif isinstance(value, bool):
                plan.report(
                    "RMS204",
                    f"{dst.qualname} raises TypeError unless {dst_kw} is a Python float; {value} is a bool "
                    f"(write {float(value)} if that is what is meant)",
                    where,
                )
            elif value is NOT_LITERAL:
                plan.report(
                    "RMS204",
                    f"{dst.qualname} raises TypeError unless {dst_kw} is a Python float; "
                    f"make sure {_show(node, value)} is one (e.g. float(...))",
                    where,
                )
        if concept in dst.positive and is_number(action.value) and action.value <= 0:  # type: ignore[operator]
            plan.block(
                "RMS205" if concept == "eps" else "RMS214",
                f"{dst.qualname} requires {dst_kw} > 0 (got {_show(node, value)}); "
                "pick a positive value, then convert",
                where,
            )
            return plan
        if is_number(action.value) or isinstance(action.value, (bool, list, tuple)):
            plan.dst_kwargs[dst_kw] = action.value
    if plan.blocked:
        return plan

    # 3. Pin every default that differs, with the source's value.
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

    # 4. What renaming cannot fix (wording from the tables' semantics: rmsport.numerics.advice).
    if src.semantics.square_avg_start != dst.semantics.square_avg_start:
        plan.report("RMS301", advice.square_avg_message(src, dst, _decay_of(plan), _experimental_hint(dst)))
    if src.semantics.eps_placement != dst.semantics.eps_placement:
        plan.report("RMS302", advice.eps_placement_message(src, dst, device))
    if src.semantics.lr_placement != dst.semantics.lr_placement:
        plan.report("RMS303", advice.lr_placement_message(src, dst))
    cpu_note = advice.cpu_kernel_note(src.qualname, dst.qualname, device)
    if cpu_note is not None:
        plan.report("RMS305", cpu_note)
    if (src.semantics.weight_decay_skips, dst.semantics.weight_decay_skips) != ((), ()) and (
        src.semantics.weight_decay_skips != dst.semantics.weight_decay_skips
    ):
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
    return plan


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
    text = ast.unparse(node)
    if not isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        text = f"({text})"
    return f"{text} ** {'2' if action.eps_power == 2.0 else '0.5'}"


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


def _plan_params(plan: CallPlan, action: ArgAction, node: ast.expr) -> None:
    src, dst = plan.src, plan.dst
    method = _params_method(node)
    if method == src.params_method and method != dst.params_method:
        action.params_method = (src.params_method, dst.params_method)
        plan.report("RMS212", f".{src.params_method}() written as .{dst.params_method}()", node)
        return
    groups = _group_dicts(node)
    if groups is None:
        return
    plan.grouped = True
    plan.all_literal = False  # per-group values are not verified
    for group in groups:
        for key, where in _group_keys(group):
            if key is None:
                plan.block("RMS209", "a param group with a **splat or computed key hides its keys; rewrite it by hand", where)
                return
            if key not in dst.group_keys:
                plan.block(
                    "RMS207",
                    f"param group key {key!r} is not accepted by {dst.qualname} "
                    f"(it takes {', '.join(sorted(dst.group_keys))})",
                    where,
                )
                return
    if src.params_method != dst.params_method:
        action.group_methods = True


def _check_lr_for_torch(
    plan: CallPlan, node: ast.expr, value: object, qualname_of: Callable[[ast.expr], str | None]
) -> None:
    if isinstance(value, (list, tuple)):
        plan.block(
            "RMS208",
            "a per-step learning-rate list has no torch constructor spelling; use a float lr and "
            "torch.optim.lr_scheduler (e.g. LambdaLR) for the schedule",
            node,
        )
        return
    callee = _call_qualname(node, qualname_of)
    if callee is not None and (callee in MS_LR_SCHEDULES or callee.endswith("LR") and callee.startswith("mindspore.")):
        plan.block(
            "RMS208",
            f"learning_rate={callee.rsplit('.', 1)[1]}(...) is a MindSpore schedule; torch needs a float lr "
            "plus a torch.optim.lr_scheduler",
            node,
        )
        return
    if value is NOT_LITERAL:
        plan.report(
            "RMS211",
            f"learning_rate={ast.unparse(node)} is not a literal: torch needs a float (or a Tensor); a list, "
            "Tensor of per-step values or LearningRateSchedule needs torch.optim.lr_scheduler instead",
            node,
        )
