"""Plan the rewrite of one learning-rate scheduler call (``ast`` only).

The result is a ``plan.CallPlan`` so that ``rewrite.build_call`` applies it like an
optimizer's plan (keywords written out, int literals made floats, pins appended).
The rules come from ``tables/schedulers.py``; this module only reads them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..tables.schedulers import APIS, TORCH_REMOVED_KEYWORDS, Scheduler, ms_qualname, torch_qualname
from .literals import NOT_LITERAL, format_float, format_value, literal_value
from .plan import ArgAction, CallPlan, bind_arguments


# torch keywords with no MindSpore counterpart that change behaviour: RMS506 before anything else.
_REMOVED = {kw: ("RMS506", note) for kw, note in TORCH_REMOVED_KEYWORDS.items()}


@dataclass
class SchedulePlan(CallPlan):
    """A scheduler's plan, with what ``--verify`` needs to replay it."""

    scheduler: Scheduler | None = None
    base_lr: float | None = None  # the optimizer's literal learning rate, when known
    optimizer_plan: CallPlan | None = None  # the rewritten optimizer it is built on


def plan_scheduler(call: ast.Call, sched: Scheduler, to: str, base_lr: float | None) -> SchedulePlan:
    """``to`` is the framework written: "mindspore" (experimental) or "torch"."""
    src_q, dst_q = (torch_qualname(sched.name), ms_qualname(sched.name)) if to == "mindspore" else (
        ms_qualname(sched.name), torch_qualname(sched.name))
    src, dst = APIS[src_q], APIS[dst_q]
    plan = SchedulePlan(src, dst, scheduler=sched, base_lr=base_lr)
    given = bind_arguments(plan, call, removed=_REMOVED)
    if given is None:
        return plan
    values = {name: literal_value(node) for name, _, node, _ in given}

    if to == "mindspore":
        _torch_only(plan, sched, given, values)
        if plan.blocked:
            return plan

    for name, src_kw, node, where in given:
        value = values[name]
        if name != "optimizer":
            if value is NOT_LITERAL:
                plan.all_literal = False
                plan.not_literal.append(f"{name}={ast.unparse(node)}")
            else:
                plan.src_kwargs[name] = value
        action = ArgAction(name, src_kw, node, value=value)
        plan.actions.append(action)
        if name not in dst.keywords:
            plan.report("RMS202", _DROP_NOTES[name], where)
            continue
        action.dst_keyword = name
        if to == "mindspore":
            _ms_types(plan, sched, action, where)
            if plan.blocked:
                return plan
        if name != "optimizer" and action.value is not NOT_LITERAL:
            plan.dst_kwargs[name] = action.value

    if to == "torch":
        for name, value in sched.pin_to_torch.items():
            if name not in values:
                plan.pins.append((name, format_value(value)))
                plan.dst_kwargs[name] = value
                plan.report(
                    "RMS201",
                    f"{name}={format_value(value)} written out: {src.qualname} never cycles momentum, "
                    f"{dst.qualname} does by default ({name}={format_value(sched.torch[name])}), which would "
                    "move the optimizer's momentum between base_momentum and max_momentum every step",
                )
    return plan


_DROP_NOTES = {
    "cycle_momentum": "cycle_momentum=False dropped: MindSpore's CyclicLR never cycles momentum",
    "base_momentum": "base_momentum dropped: unused without momentum cycling",
    "max_momentum": "max_momentum dropped: unused without momentum cycling",
}


def _torch_only(plan: SchedulePlan, sched: Scheduler, given, values: dict[str, object]) -> None:
    """torch features MindSpore lacks: dropped when they are off, an error (RMS506) otherwise."""
    if "cycle_momentum" not in sched.torch_only:
        return
    where = {name: w for name, _, _, w in given}
    nodes = {name: node for name, _, node, _ in given}
    if values.get("cycle_momentum", sched.torch["cycle_momentum"]) is not False:
        if "cycle_momentum" in nodes:
            shown = f"cycle_momentum={ast.unparse(nodes['cycle_momentum'])}"
        else:
            shown = "cycle_momentum is left at its default True"
        plan.block(
            "RMS506",
            f"{shown}: torch's CyclicLR then also cycles the optimizer's momentum between base_momentum and "
            "max_momentum (0.8..0.9 by default, even for RMSprop(momentum=0)); MindSpore's CyclicLR cannot. "
            "If that is not wanted, pass cycle_momentum=False and convert again",
            where.get("cycle_momentum"),
        )


def _ms_types(plan: SchedulePlan, sched: Scheduler, action: ArgAction, where: ast.AST) -> None:
    """MindSpore's isinstance checks on scheduler arguments."""
    name, value, dst = action.concept, action.value, plan.dst.qualname
    if name in sched.ms_float:
        if isinstance(value, int) and not isinstance(value, bool):
            action.to_float = True
            action.value = float(value)
            plan.report(
                "RMS203",
                f"{name}={value} written as {name}={format_float(value)}: {dst} raises TypeError unless it is "
                "a Python float",
                where,
            )
        elif value is NOT_LITERAL or isinstance(value, bool):
            plan.report(
                "RMS204",
                f"{dst} raises TypeError unless {name} is a Python float; make sure "
                f"{ast.unparse(action.node)} is one (e.g. float(...))",
                where,
            )
    elif name in sched.ms_int:
        if value is NOT_LITERAL:
            plan.report(
                "RMS509",
                f"{dst} raises TypeError unless {name} is a Python int; make sure {ast.unparse(action.node)} is one",
                where,
            )
        elif not isinstance(value, int):
            plan.block(
                "RMS508",
                f"{dst} raises TypeError unless {name} is a Python int (got {format_value(value)}); "
                f"write it as an int, then convert",
                where,
            )
    elif name in sched.ms_list:
        if value is NOT_LITERAL:
            if not isinstance(action.node, (ast.List, ast.ListComp)):
                plan.report(
                    "RMS509",
                    f"{dst} raises TypeError unless {name} is a Python list; make sure "
                    f"{ast.unparse(action.node)} is one (e.g. list(...))",
                    where,
                )
        elif not isinstance(value, list) or not all(isinstance(v, int) for v in value):
            plan.block(
                "RMS508",
                f"{dst} requires {name} to be a list of ints (got {ast.unparse(action.node)}); "
                "write it as a list, then convert",
                where,
            )

