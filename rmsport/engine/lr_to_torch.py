"""``nn.RMSProp(learning_rate=<MindSpore schedule>)`` going to torch: a torch scheduler, when one is exact.

torch's optimizer takes a number; its schedule is a separate object stepped by
the training loop.  When ``learning_rate=`` is a MindSpore dynamic-lr function or
LearningRateSchedule with literal arguments, and a torch scheduler gives the same
learning rate at every optimizer step, the call becomes ``torch.optim.RMSprop(...,
lr=<first rate>)`` and the scheduler is built on the next line::

    optimizer = nn.RMSProp(params, learning_rate=nn.exponential_decay_lr(0.1, 0.9, 100, 10, 1, True))
    ->
    optimizer = torch.optim.RMSprop(params=params, lr=0.1, ...)
    optimizer_scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=10, gamma=0.9)

"The same" is checked, not assumed: each candidate below is accepted only when
``lr_sequence`` of the MindSpore schedule and of the torch scheduler agree to 1e-9
at every step (the list's length, or 2,000 steps for a LearningRateSchedule).
Everything else keeps RMS208 and the call stays as it is.  The training loop must
then call ``scheduler.step()`` after each optimizer step, which the RMS510 finding
says; rmsport does not write into loops.
"""

from __future__ import annotations

import ast
import copy
import math
from dataclasses import dataclass

from ..options import Options
from ..tables.optimizers import APIS, MS_NN, TORCH
from ..tables.schedulers import MS_SCHEDULES, REQUIRED
from .analysis import Reference
from .imports import Edit, ImportPlan
from .literals import NOT_LITERAL, format_value, literal_value
from .plan import plan_call

HORIZON = 2000  # steps compared for a LearningRateSchedule, which never ends
RTOL = 1e-9


@dataclass
class TorchSchedule:
    """The torch scheduler that replaces a MindSpore schedule."""

    name: str  # class in torch.optim.lr_scheduler, or "" for a constant rate (no scheduler)
    kwargs: dict[str, object]
    first_lr: float
    steps_checked: int
    list_length: int | None  # a dynamic-lr list's length (MindSpore fails past it)


def torch_schedule_for(name: str, kwargs: dict[str, object]) -> TorchSchedule | None:
    """The exact torch counterpart of a MindSpore schedule, or None."""
    for candidate in _candidates(name, kwargs):
        if _same_rates(name, kwargs, candidate):
            return candidate
    return None


def _candidates(name: str, a: dict[str, object]) -> list[TorchSchedule]:
    def sched(cls: str, kwargs: dict, first: float, length: int | None = None) -> TorchSchedule:
        if cls == "StepLR" and kwargs.get("step_size") == 1:
            cls, kwargs = "ExponentialLR", {"gamma": kwargs["gamma"]}
        # Checked as written: a computed gamma (exp(-0.1)) is rounded to the literal the output shows.
        kwargs = {k: _as_written(v) for k, v in kwargs.items()}
        return TorchSchedule(cls, kwargs, _as_written(float(first)), 0, length)

    out: list[TorchSchedule] = []
    try:
        if name == "piecewise_constant_lr":
            milestone, rates = list(a["milestone"]), list(a["learning_rates"])  # type: ignore[call-overload]
            if len(rates) == 1:
                out.append(sched("", {}, rates[0], milestone[0]))
            elif len(rates) > 1 and rates[0] != 0:
                gamma = rates[1] / rates[0]
                kwargs = {"milestones": milestone[:-1], "gamma": gamma}
                out.append(sched("MultiStepLR", kwargs, rates[0], milestone[-1]))
        elif name in ("exponential_decay_lr", "natural_exp_decay_lr"):
            spe, de, stair = a["step_per_epoch"], a["decay_epoch"], a.get("is_stair", False)
            if name == "exponential_decay_lr" and (stair or de == 1):
                gamma = a["decay_rate"]
            elif name == "natural_exp_decay_lr":
                gamma = math.exp(-a["decay_rate"] * (de if stair else 1))  # type: ignore[operator]
            else:
                return []
            step = spe * de if stair else spe  # type: ignore[operator]
            kwargs = {"step_size": step, "gamma": gamma}
            out.append(sched("StepLR", kwargs, a["learning_rate"], a["total_step"]))  # type: ignore[arg-type]
        elif name == "cosine_decay_lr":
            # torch climbs back after T_max; MindSpore stays at min_lr: exact only while the list lasts.
            if a["step_per_epoch"] == 1 and a["total_step"] <= a["decay_epoch"] + 1:  # type: ignore[operator]
                out.append(sched("CosineAnnealingLR", {"T_max": a["decay_epoch"], "eta_min": a["min_lr"]},
                                 a["max_lr"], a["total_step"]))  # type: ignore[arg-type]
        elif name == "polynomial_decay_lr":
            if a["end_learning_rate"] == 0 and a["step_per_epoch"] == 1 and not a.get("update_decay_epoch", False):
                out.append(sched("PolynomialLR", {"total_iters": a["decay_epoch"], "power": a["power"]},
                                 a["learning_rate"], a["total_step"]))  # type: ignore[arg-type]
        elif name == "ExponentialDecayLR":
            if a.get("is_stair", False) or a["decay_steps"] == 1:
                kwargs = {"step_size": a["decay_steps"], "gamma": a["decay_rate"]}
                out.append(sched("StepLR", kwargs, a["learning_rate"]))  # type: ignore[arg-type]
        elif name == "NaturalExpDecayLR":
            ds, stair = a["decay_steps"], a.get("is_stair", False)
            gamma = math.exp(-a["decay_rate"] * (ds if stair else 1))  # type: ignore[operator]
            kwargs = {"step_size": ds if stair else 1, "gamma": gamma}
            out.append(sched("StepLR", kwargs, a["learning_rate"]))  # type: ignore[arg-type]
        elif name == "PolynomialDecayLR":
            if a["end_learning_rate"] == 0 and not a.get("update_decay_steps", False):
                kwargs = {"total_iters": a["decay_steps"], "power": a["power"]}
                out.append(sched("PolynomialLR", kwargs, a["learning_rate"]))  # type: ignore[arg-type]
    except (KeyError, TypeError, ZeroDivisionError, OverflowError):
        return []
    return out


def _as_written(value: object) -> object:
    if isinstance(value, float):
        return float(format_value(value))
    return value


def _same_rates(name: str, kwargs: dict, candidate: TorchSchedule) -> bool:
    from ..numerics.lr_schedules import lr_sequence

    steps = candidate.list_length if candidate.list_length is not None else HORIZON
    try:
        ms = lr_sequence(f"mindspore.nn.{name}", kwargs, steps, 0.0)
        if candidate.name:
            torch = lr_sequence(f"torch.optim.lr_scheduler.{candidate.name}", dict(candidate.kwargs), steps,
                                candidate.first_lr)
        else:
            torch = [candidate.first_lr] * steps
    except (ValueError, TypeError, KeyError, ZeroDivisionError, OverflowError):
        return False
    candidate.steps_checked = steps
    return all(math.isclose(x, y, rel_tol=RTOL, abs_tol=0.0) for x, y in zip(ms, torch))


# -- the pipeline stage ---------------------------------------------------------------------


def _bind(call: ast.Call, signature: dict[str, object]) -> dict[str, object] | None:
    """Literal keyword arguments of a call, by the signature; None when not all literal."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None
    names = list(signature)
    if len(call.args) > len(names):
        return None
    out: dict[str, object] = {}
    for name, node in [*zip(names, call.args), *((k.arg, k.value) for k in call.keywords)]:
        value = literal_value(node)
        if value is NOT_LITERAL or name not in signature or name in out:
            return None
        out[name] = value  # type: ignore[index]
    if any(d is REQUIRED and n not in out for n, d in signature.items()):
        return None
    return out


def lr_argument(call: ast.Call) -> ast.expr | None:
    """The ``learning_rate`` argument of an ``nn.RMSProp`` call (keyword or second positional)."""
    for kw in call.keywords:
        if kw.arg == "learning_rate":
            return kw.value
    return call.args[1] if len(call.args) > 1 else None


@dataclass
class Insert:
    """The scheduler statement to write after the optimizer's assignment."""

    stmt: ast.stmt
    target: str  # the optimizer as written on the left of the assignment
    name: str  # the new scheduler variable
    schedule: TorchSchedule


def plan_schedule(module, ref: Reference, options: Options, tracker) -> tuple[object, Insert | None] | None:
    """A plan for an ``nn.RMSProp`` call whose learning rate is a mappable MindSpore schedule.

    Returns ``(plan, insert)`` or None when the call is not such a case (then RMS208 stays).
    """
    call = ref.call
    if options.to != "torch" or call is None or ref.api.qualname != MS_NN:
        return None
    lr = lr_argument(call)
    if not isinstance(lr, ast.Call):
        return None
    callee = module.analysis.qualname_of(lr.func, ref.scope)
    hit = MS_SCHEDULES.get(callee or "")
    if hit is None:
        return None
    name, signature = hit
    kwargs = _bind(lr, signature)
    if kwargs is None:
        return None
    schedule = torch_schedule_for(name, kwargs)
    if schedule is None:
        return None
    insert = _insert_for(module, tracker, call, schedule)
    if insert is None and schedule.name:
        return None
    patched = copy.copy(call)
    constant = ast.copy_location(ast.Constant(schedule.first_lr), lr)
    constant.end_lineno, constant.end_col_offset = lr.end_lineno, lr.end_col_offset
    patched.args = [constant if a is lr else a for a in call.args]
    patched.keywords = [ast.keyword(k.arg, constant) if k.value is lr else k for k in call.keywords]
    for new, old in zip(patched.keywords, call.keywords):
        ast.copy_location(new, old)
        new.end_lineno, new.end_col_offset = old.end_lineno, old.end_col_offset
    plan = plan_call(
        patched,
        ref.api,
        APIS[TORCH],
        eps_mapping=options.eps_mapping,
        qualname_of=lambda node: module.analysis.qualname_of(node, ref.scope),
        device=options.mindspore_device,
    )
    if plan.blocked:
        return None
    for action in plan.actions:
        if action.concept == "lr":
            action.literal_text = format_value(schedule.first_lr)
    _verify_with_rates(plan, name, kwargs, schedule, lr)
    spelled = ast.unparse(lr)
    if schedule.name:
        message = (
            f"learning_rate={spelled} written as lr={format_value(schedule.first_lr)} plus "
            f"torch.optim.lr_scheduler.{schedule.name}({_args_text(schedule.kwargs)}) on the next line, as "
            f"{insert.name} (same rate at each of {schedule.steps_checked} steps, checked with "
            f"rmsport.reference.lr_sequence): call {insert.name}.step() after every optimizer.step(); "
            "nn.RMSProp advanced the schedule by itself"
        )
    else:
        message = f"learning_rate={spelled} is one constant rate: written as lr={format_value(schedule.first_lr)}"
    if schedule.list_length is not None:
        message += (
            f"; the list holds {schedule.list_length} rates: MindSpore fails after step {schedule.list_length}, "
            "torch keeps going"
        )
    plan.report("RMS510", message, lr)
    return plan, insert


def _verify_with_rates(plan, name: str, kwargs: dict, schedule: TorchSchedule, lr: ast.expr) -> None:
    """What ``--verify`` simulates: each side's per-step rates, when ``simulate`` takes them for
    torch too; otherwise the call is unverifiable (a constant rate would verify the wrong thing)."""
    from ..numerics.lr_schedules import lr_sequence, per_step_lr_supported
    from ..numerics.verify import STANDARD_STEPS

    if plan.all_literal and per_step_lr_supported():
        steps = min(STANDARD_STEPS, schedule.list_length or STANDARD_STEPS)
        src_lr, dst_lr = plan.src.keywords["lr"], plan.dst.keywords["lr"]
        plan.src_kwargs[src_lr] = [float(x) for x in lr_sequence(f"mindspore.nn.{name}", kwargs, steps, 0.0)]
        if schedule.name:
            rates = lr_sequence(f"torch.optim.lr_scheduler.{schedule.name}", dict(schedule.kwargs), steps,
                                schedule.first_lr)
            plan.dst_kwargs[dst_lr] = [float(x) for x in rates]
        return
    plan.all_literal = False
    plan.not_literal.append(f"learning_rate={ast.unparse(lr)}")


def _args_text(kwargs: dict[str, object]) -> str:
    return ", ".join(f"{k}={format_value(v)}" for k, v in kwargs.items())


def _insert_for(module, tracker, call: ast.Call, schedule: TorchSchedule) -> Insert | None:
    """Where the scheduler goes: after ``NAME = call`` / ``self.attr = call`` written on lines of its own."""
    stmt = tracker.parent(call)
    if not isinstance(stmt, ast.Assign) or stmt.value is not call or len(stmt.targets) != 1:
        return None
    target = stmt.targets[0]
    index = module.index
    start, end = index.span(stmt)
    line_start = index.starts[stmt.lineno - 1]
    if module.source[line_start:start].strip():
        return None  # shares its line with code before it (``if x: opt = ...``, ``a = 1; opt = ...``)
    rest = index.line_text(stmt.end_lineno)[end - index.starts[stmt.end_lineno - 1]:].strip()
    if rest and not rest.startswith("#"):
        return None
    counts = module.analysis.name_counts
    if isinstance(target, ast.Name):
        for name in (f"{target.id}_scheduler", f"{target.id}_lr_scheduler"):
            if counts.get(name, 0) == 0:
                return Insert(stmt, target.id, name, schedule)
        return None
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
        name = f"{target.attr}_scheduler"
        if name not in tracker.attr_loads and f".{name}" not in module.source:
            return Insert(stmt, ast.unparse(target), f"{target.value.id}.{name}", schedule)
    return None


def insert_edits(module, built, imports: ImportPlan) -> list[Edit]:
    """The scheduler statements (after ``build``, when the optimizer's spelling is known)."""
    edits: list[Edit] = []
    for item in built:
        insert = getattr(item.site.plan, "torch_schedule_insert", None)
        if insert is None or not insert.schedule.name:
            continue
        spelled = imports.spellings.get(TORCH, "")
        prefix = spelled[: -len("RMSprop")] if spelled.endswith("optim.RMSprop") else None
        index = module.index
        stmt = insert.stmt
        line = index.line_text(stmt.lineno)
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        cls = insert.schedule.name
        statements = []
        if prefix is None:  # ``from torch.optim import RMSprop`` was reused: import the scheduler beside it
            statements.append(f"from torch.optim.lr_scheduler import {cls}")
            func = cls
        else:
            func = f"{prefix}lr_scheduler.{cls}"
        args = ", ".join([insert.target, *(f"{k}={format_value(v)}" for k, v in insert.schedule.kwargs.items())])
        statements.append(f"{insert.name} = {func}({args})")
        text = "".join(indent + s + module.newline for s in statements)
        if stmt.end_lineno < len(index.starts):  # type: ignore[operator]
            pos = index.starts[stmt.end_lineno]  # type: ignore[index]
            edits.append(Edit(pos, pos, text))
        else:
            pos = len(module.source)
            edits.append(Edit(pos, pos, module.newline + text.rstrip("\r\n")))
    return edits

