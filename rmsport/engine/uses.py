"""Follow a rewritten optimizer through its module: where it goes, and how it is used.

A constructor rewrite alone leaves the rest of the optimizer's life in the source
framework: the training loop (``optimizer.step()``), learning-rate updates through
``param_groups``, checkpoints, schedulers, ``TrainOneStepCell`` wiring.  This pass
finds where the rewritten call's result is stored, within the module:

- a local or module-level variable (``opt = RMSprop(...)``), and names it is copied to;
- ``self.<attr>`` across every method of the class that assigns it;
- the return value of a function or method, at each call of it in the module;
- a parameter of a function of the module that the object is passed to;

and reports every use the target does not support (RMS501-RMS505), naming what
breaks and the target's idiom.  Schedulers built on the optimizer are rewritten
where the target has the same class (``engine/schedulers.py``) and reported where it
cannot have one (RMS505, RMS506).  It reads the ``ast`` only; it is conservative:
a name rebound to something else in the same function is not followed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..options import Options
from ..tables.optimizers import MS_EXPERIMENTAL, MS_NN, TORCH
from ..tables.schedulers import BY_QUALNAME, NN_EQUIVALENTS, TORCH_ONLY_QUALNAMES
from .analysis import Analysis, Reference, Scope
from .literals import is_number
from .pipeline import Module, Selection, Site
from .plan import CallPlan, Report
from .lr_to_torch import lr_argument, plan_schedule
from .schedulers import SchedulePlan, plan_scheduler

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.Module)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)

# What the target offers instead, written once for the messages.
_NN_STEP = (
    "mindspore.nn.RMSProp is called with the gradients: grads = mindspore.value_and_grad(forward_fn, None, "
    "optimizer.parameters)(...)[1]; optimizer(grads)"
)
_EXP_STEP = (
    "mindspore.experimental.optim.RMSprop is called with the gradients: grads = mindspore.value_and_grad("
    "forward_fn, None, optimizer.parameters)(...)[1]; optimizer(grads)"
)
_TORCH_STEP = "in torch: loss.backward(); optimizer.step(); optimizer.zero_grad()"
# MindSpore objects that call optimizer(grads) themselves.
_MS_WIRING = frozenset({"TrainOneStepCell", "TrainOneStepWithLossScaleCell", "Model", "build_train_network"})


@dataclass(frozen=True)
class Handle:
    """Where an optimizer object lives: ("name", scope node, name) or ("attr", class node, attr)."""

    kind: str
    owner: ast.AST
    name: str


@dataclass
class Followed:
    reports: list[Report] = field(default_factory=list)
    rewrites: list[tuple[Reference, CallPlan]] = field(default_factory=list)


def follow(module: Module, selection: Selection, options: Options) -> None:
    """The pipeline's stage after ``select``: findings on uses, and scheduler sites to rewrite."""
    tracker: _Tracker | None = None
    if options.to == "torch":
        tracker = _Tracker(module.analysis)
        _schedules_to_torch(module, selection, options, tracker)
    if not selection.sites:
        return
    followed = follow_uses(
        module.analysis, [(s.ref, s.plan) for s in selection.sites], options.to, options.target, tracker
    )
    for code, message, node, severity in followed.reports:
        selection.findings.append(module.finding(code, message, node, severity))
    for ref, plan in followed.rewrites:
        assert ref.call is not None
        start, end = module.index.span(ref.call)
        selection.sites.append(Site(ref, ref.call, plan, start, end))
    if options.verify:
        _verify_with_schedules(selection.sites)


def _verify_with_schedules(sites: list[Site]) -> None:
    """Give ``--verify`` the optimizer + scheduler pair: each side's per-step rates as its lr.

    Only when one scheduler with literal arguments drives the optimizer, and only when
    ``simulate`` takes per-step rates for every API (``per_step_lr_supported``).
    """
    from ..numerics.lr_schedules import lr_sequence, per_step_lr_supported, plateau_metrics
    from ..numerics.verify import STANDARD_STEPS

    attached: dict[int, list[SchedulePlan]] = {}
    for site in sites:
        if isinstance(site.plan, SchedulePlan) and site.plan.optimizer_plan is not None:
            attached.setdefault(id(site.plan.optimizer_plan), []).append(site.plan)
    for site in sites:
        plans = attached.get(id(site.plan), [])
        opt = site.plan
        if len(plans) != 1 or not plans[0].all_literal or not opt.all_literal or not per_step_lr_supported():
            continue
        sched = plans[0]
        src_lr, dst_lr = opt.src.keywords["lr"], opt.dst.keywords["lr"]
        base = opt.src_kwargs.get(src_lr, opt.src.defaults.get("lr"))
        metrics = plateau_metrics(STANDARD_STEPS)
        try:
            a = lr_sequence(sched.src.qualname, dict(sched.src_kwargs), STANDARD_STEPS, base, metrics=metrics)
            b = lr_sequence(sched.dst.qualname, dict(sched.dst_kwargs), STANDARD_STEPS, base, metrics=metrics)
        except (ValueError, TypeError, KeyError, ZeroDivisionError, OverflowError):
            continue
        opt.src_kwargs[src_lr] = [float(x) for x in a]
        opt.dst_kwargs[dst_lr] = [float(x) for x in b]


def _schedules_to_torch(module: Module, selection: Selection, options: Options, tracker: _Tracker) -> None:
    """``nn.RMSProp(learning_rate=<MindSpore schedule>)`` that ``select`` refused (RMS208) but a
    torch scheduler reproduces exactly: rewritten after all (``lr_to_torch.py``)."""
    have = {id(s.call) for s in selection.sites}
    for ref in module.analysis.references:
        if ref.call is None or id(ref.call) in have or ref.indirect:
            continue
        planned = plan_schedule(module, ref, options, tracker)
        if planned is None:
            continue
        plan, insert = planned
        # Read by lr_to_torch.insert_edits once the call is built and its spelling known.
        plan.torch_schedule_insert = insert  # type: ignore[attr-defined]
        lr = lr_argument(ref.call)
        assert lr is not None
        line, column = module.index.position(module.index.span(lr)[0])
        selection.findings[:] = [
            f for f in selection.findings if not (f.code == "RMS208" and (f.line, f.column) == (line, column))
        ]
        start, end = module.index.span(ref.call)
        selection.sites.append(Site(ref, ref.call, plan, start, end))  # type: ignore[arg-type]


def follow_uses(
    analysis: Analysis,
    rewritten: list[tuple[Reference, CallPlan]],
    to: str,
    target: str,
    tracker: _Tracker | None = None,
) -> Followed:
    """Findings on the uses of each rewritten optimizer, and the scheduler rewrites they call for."""
    out = Followed()
    if not rewritten:
        return out
    tracker = tracker or _Tracker(analysis)
    seen_calls: set[int] = set()
    for ref, plan in rewritten:
        if plan.spelling_only or ref.call is None:
            continue
        lr = plan.src_kwargs.get(plan.src.keywords.get("lr", "lr"))
        base_lr = float(lr) if is_number(lr) else None  # type: ignore[arg-type]
        for use in tracker.uses_of(ref.call):
            tracker.classify(use, plan, to, target, base_lr, out, seen_calls)
    return out


def _lines_of(node: ast.AST) -> tuple[int, int] | None:
    """First and last line of everything inside ``node`` (decorators stand above
    its ``def``/``class`` line); None for the module."""
    if not hasattr(node, "end_lineno"):
        return None
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])  # type: ignore[attr-defined]
    return first, node.end_lineno  # type: ignore[attr-defined,return-value]


# Callables that run ``target`` with ``args``/``kwargs`` in a new thread or process.
_RUNS_TARGET = frozenset({"Thread", "Process"})


class _Tracker:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.tree = analysis.tree
        # One walk: parents, and the loads / calls the questions below need.
        # (Repeated ``ast.walk`` calls made this pass cost five times the analysis.)
        self.parents: dict[int, ast.AST] = {}
        self.name_loads: dict[str, list[ast.Name]] = {}
        self.attr_loads: dict[str, list[ast.Attribute]] = {}
        self.calls_named: dict[str, list[ast.Call]] = {}  # f(...) and x.f(...), by f
        parents = self.parents
        stack: list[ast.AST] = [self.tree]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Name:
                if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                    self.name_loads.setdefault(node.id, []).append(node)  # type: ignore[attr-defined]
                continue
            if kind is ast.Attribute and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                self.attr_loads.setdefault(node.attr, []).append(node)  # type: ignore[attr-defined]
            elif kind is ast.Call:
                func = node.func  # type: ignore[attr-defined]
                name = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
                if name is not None:
                    self.calls_named.setdefault(name, []).append(node)  # type: ignore[arg-type]
            for field_name in _fields(kind):
                value = getattr(node, field_name, None)
                if type(value) is list:
                    for item in value:
                        if isinstance(item, ast.AST):
                            parents[id(item)] = node
                            stack.append(item)
                elif isinstance(value, ast.AST):
                    parents[id(value)] = node
                    stack.append(value)
        self._binds_cache: dict[tuple[int, str], bool] = {}
        # Functions that hold an import: their names may resolve differently from the module's.
        self.func_scopes: dict[int, Scope] = {}
        for owner in analysis.scopes:
            written = [*(b for bs in owner.bindings.values() for b in bs), *owner.star_modules]
            for binding in written:
                scope = binding.written_in
                if binding.kind == "import" and scope is not None and scope.kind == "function" and scope.node is not None:
                    self.func_scopes[id(scope.node)] = scope

    # -- structure -------------------------------------------------------------
    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(id(node))

    def enclosing(self, node: ast.AST, kinds: tuple[type, ...] = _SCOPES) -> ast.AST | None:
        p = self.parent(node)
        while p is not None and not isinstance(p, kinds):
            p = self.parent(p)
        return p

    def scope_of(self, node: ast.AST) -> Scope:
        func = self.enclosing(node, _FUNCS)
        while func is not None:
            scope = self.func_scopes.get(id(func))
            if scope is not None:
                return scope
            func = self.enclosing(func, _FUNCS)
        return self.analysis.module_scope

    def qualname(self, node: ast.expr) -> str | None:
        return self.analysis.qualname_of(node, self.scope_of(node))

    # -- where the object goes -------------------------------------------------
    def uses_of(self, value: ast.expr) -> list[ast.expr]:
        """Every load of the object ``value`` evaluates to, in this module."""
        handles: list[Handle] = []
        pending = [value]
        visited: set[int] = set()
        passed: set[int] = set()
        found: list[ast.expr] = []
        seen_handles: set[Handle] = set()
        while pending:
            expr = pending.pop()
            if id(expr) in visited:
                continue
            visited.add(id(expr))
            for handle in self._stored_in(expr):
                if handle in seen_handles:
                    continue
                seen_handles.add(handle)
                handles.append(handle)
                loads = self._loads(handle)
                while loads:
                    use = loads.pop()
                    found.append(use)
                    pending.append(use)  # copies: ``opt = self.optimizer``
                    for inner in self._passed_to(use):  # ``f(opt)``: f's parameter
                        if id(inner) not in passed:
                            passed.add(id(inner))
                            loads.append(inner)
        found.sort(key=lambda n: (n.lineno, n.col_offset))
        return list({id(n): n for n in found}.values())

    def _stored_in(self, expr: ast.expr, factories: frozenset[int] = frozenset()) -> list[Handle]:
        p = self.parent(expr)
        targets: list[ast.expr] = []
        if isinstance(p, ast.Assign) and p.value is expr:
            targets = list(p.targets)
        elif isinstance(p, (ast.AnnAssign, ast.NamedExpr)) and p.value is expr:
            targets = [p.target]
        elif isinstance(p, ast.Return) and p.value is expr:
            func = self.enclosing(p, _FUNCS)
            if func is None or id(func) in factories:  # ``return make(...)`` inside make itself
                return []
            inner = factories | {id(func)}
            return [h for call in self._calls_of(func) for h in self._stored_in(call, inner)]
        out = []
        for t in targets:
            handle = self._handle_of_target(t)
            if handle is not None:
                out.append(handle)
        return out

    def _handle_of_target(self, target: ast.expr) -> Handle | None:
        if isinstance(target, ast.Name):
            owner = self.enclosing(target, (*_FUNCS, ast.ClassDef, ast.Module))
            if owner is None or isinstance(owner, ast.ClassDef):
                return None  # a class attribute: reached as self.x or Cls.x, not followed
            return Handle("name", owner, target.id)
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            method = self.enclosing(target, _FUNCS)
            cls = self.enclosing(method, (ast.ClassDef,)) if method is not None else None
            if method is not None and cls is not None and self.parent(method) is cls:
                args = method.args.posonlyargs + method.args.args  # type: ignore[union-attr]
                if args and args[0].arg == target.value.id:
                    return Handle("attr", cls, target.attr)
        return None

    def _calls_of(self, func: ast.AST | None) -> list[ast.Call]:
        """Calls of a module-level function (``f(...)``) or a method (``self.f(...)``)."""
        if not isinstance(func, _FUNCS):
            return []
        holder = self.parent(func)
        calls = []
        for node in self.calls_named.get(func.name, ()):
            if isinstance(holder, ast.Module) and isinstance(node.func, ast.Name):
                calls.append(node)
            elif (
                isinstance(holder, ast.ClassDef)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("self", "cls")
                and self.enclosing(node, (ast.ClassDef,)) is holder
            ):
                calls.append(node)
        return calls

    def _passed_to(self, use: ast.expr) -> list[ast.expr]:
        """A use passed to a function of this module: its parameter's loads.

        ``f(opt)`` and ``f(optimizer=opt)``; and the function a thread or process
        runs, ``Thread(target=f, args=(..., opt))`` / ``kwargs={"optimizer": opt}``
        (``threading``, ``multiprocessing`` and ``torch.multiprocessing`` alike),
        which is how asynchronous trainers hand the optimizer to their learner.
        """
        parent = self.parent(use)
        if isinstance(parent, (ast.Tuple, ast.List, ast.Dict)):
            return self._passed_to_target(use, parent)
        keyword = parent.arg if isinstance(parent, ast.keyword) else None
        call = self.parent(parent) if isinstance(parent, ast.keyword) else parent
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
            return []
        if keyword is None and use not in call.args:
            return []
        if keyword is None and any(isinstance(a, ast.Starred) for a in call.args[: call.args.index(use)]):
            return []  # ``f(*rest, opt)``: its position is not known
        index = call.args.index(use) if keyword is None else None
        return self._parameter_loads(call.func.id, index, keyword)

    def _passed_to_target(self, use: ast.expr, holder: ast.expr) -> list[ast.expr]:
        """``Thread(target=f, args=(a, opt))`` or ``kwargs={"optimizer": opt}``: f's parameter's loads."""
        keyword = self.parent(holder)
        call = self.parent(keyword)
        if not isinstance(keyword, ast.keyword) or not isinstance(call, ast.Call):
            return []
        callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
        target = next((k.value for k in call.keywords if k.arg == "target"), None)
        if callee not in _RUNS_TARGET or not isinstance(target, ast.Name):
            return []
        if keyword.arg == "args" and isinstance(holder, (ast.Tuple, ast.List)) and use in holder.elts:
            position = holder.elts.index(use)
            if any(isinstance(e, ast.Starred) for e in holder.elts[:position]):
                return []
            return self._parameter_loads(target.id, position, None)
        if keyword.arg == "kwargs" and isinstance(holder, ast.Dict) and use in holder.values:
            key = holder.keys[holder.values.index(use)]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                return self._parameter_loads(target.id, None, key.value)
        return []

    def _parameter_loads(self, function: str, index: int | None, keyword: str | None) -> list[ast.expr]:
        """Loads of the parameter of module-level ``function`` at ``index`` (or named ``keyword``)."""
        out: list[ast.expr] = []
        for stmt in self.tree.body:
            if isinstance(stmt, _FUNCS) and stmt.name == function:
                positional = stmt.args.posonlyargs + stmt.args.args
                if index is not None:
                    names = [positional[index].arg] if index < len(positional) else []
                else:
                    names = [a.arg for a in (*stmt.args.args, *stmt.args.kwonlyargs) if a.arg == keyword]
                for name in names:
                    out.extend(self._loads(Handle("name", stmt, name)))
        return out

    def _loads(self, handle: Handle) -> list[ast.expr]:
        out: list[ast.expr] = []
        owner = handle.owner
        lines = _lines_of(owner)
        if handle.kind == "attr":
            for node in self.attr_loads.get(handle.name, ()):
                if not isinstance(node.value, ast.Name):
                    continue
                if lines is not None and not lines[0] <= node.lineno <= lines[1]:
                    continue  # not inside ``owner``: the walk up below would say so, at more cost
                # The method of ``owner`` the load is in (closures inside it included).
                method: ast.AST | None = node
                while method is not None and self.parent(method) is not owner:
                    method = self.parent(method)
                if not isinstance(method, _FUNCS):
                    continue
                args = method.args.posonlyargs + method.args.args
                if args and args[0].arg == node.value.id:
                    out.append(node)
            return out
        for node in self.name_loads.get(handle.name, ()):
            if lines is not None and not lines[0] <= node.lineno <= lines[1]:
                continue  # not inside ``owner`` (a call-dense file has one load per function)
            inside = self.parent(node)
            while inside is not None and inside is not owner:
                inside = self.parent(inside)
            if inside is None or self._binds_locally_between(node, owner, handle.name):
                continue
            out.append(node)
        return out

    def _binds_locally_between(self, node: ast.AST, owner: ast.AST, name: str) -> bool:
        """Is ``name`` a different variable at ``node`` (bound by a function nested in ``owner``)?"""
        func = self.enclosing(node, (*_FUNCS, ast.Lambda))
        while func is not None and func is not owner:
            key = (id(func), name)
            if key not in self._binds_cache:
                self._binds_cache[key] = _binds(func, name)
            if self._binds_cache[key]:
                return True
            func = self.enclosing(func, (*_FUNCS, ast.Lambda))
        return False

    # -- what each use does ----------------------------------------------------
    def classify(
        self,
        use: ast.expr,
        plan: CallPlan,
        to: str,
        target: str,
        base_lr: float | None,
        out: Followed,
        seen_calls: set[int],
    ) -> None:
        src, dst = plan.src.qualname, plan.dst.qualname
        p = self.parent(use)
        if isinstance(p, ast.Attribute) and p.value is use:
            pp = self.parent(p)
            called = isinstance(pp, ast.Call) and pp.func is p
            self._attribute(use, p, pp if called else None, src, dst, out)
            return
        if isinstance(p, ast.Call) and p.func is use and src != TORCH:
            out.reports.append(("RMS501", f"optimizer(grads) calls the {src} to apply gradients; a torch optimizer "
                                f"is not callable: {_TORCH_STEP}", p, None))
            return
        call, keyword = p, None
        if isinstance(p, ast.keyword):
            call, keyword = self.parent(p), p.arg
        if not isinstance(call, ast.Call) or call.func is use:
            return
        if keyword is None and use not in call.args:
            return
        callee = self.qualname(call.func)
        if callee is not None and (callee in BY_QUALNAME or callee in TORCH_ONLY_QUALNAMES):
            if keyword in (None, "optimizer") and (keyword == "optimizer" or call.args and call.args[0] is use):
                if id(call) not in seen_calls:
                    seen_calls.add(id(call))
                    self._scheduler(call, callee, plan, to, target, base_lr, out)
            return
        if src == TORCH:
            if isinstance(call.func, ast.Attribute) and call.func.attr == "step" and call.args and call.args[0] is use:
                out.reports.append((
                    "RMS501",
                    f"{ast.unparse(call.func.value)}.step(optimizer) is torch.amp.GradScaler's step: it unscales "
                    f"the gradients and calls optimizer.step(), which {dst} lacks; in MindSpore scale the loss "
                    "with mindspore.amp (DynamicLossScaler: scale, unscale the grads, all_finite), then "
                    "optimizer(grads)",
                    call, None))
            return
        # MindSpore wiring going to torch (resolved by binding: a class of the user's named Model is not it).
        name = (callee or "").rsplit(".", 1)[-1]
        if (callee or "").startswith("mindspore.") and name in _MS_WIRING:
            out.reports.append((
                "RMS507",
                f"{name}(..., optimizer) wires the {src} into MindSpore's training step, which calls "
                f"optimizer(grads); torch has no {name}: write the loop ({_TORCH_STEP})",
                call, None))

    def _attribute(self, use: ast.expr, attr: ast.Attribute, call: ast.AST | None, src: str, dst: str,
                   out: Followed) -> None:
        name = attr.attr
        site = call if call is not None else attr
        if src == TORCH:
            step_idiom = _NN_STEP if dst == MS_NN else _EXP_STEP
            if name in ("step", "zero_grad") and call is not None:
                what = (
                    "applies the gradients that loss.backward() left in .grad"
                    if name == "step"
                    else "clears the gradients that loss.backward() accumulates"
                )
                extra = ""
                if name == "zero_grad":
                    extra = "; MindSpore computes fresh gradients each step, so there is nothing to zero"
                message = f"optimizer.{name}() {what}; {dst} has no {name}(){extra}: {step_idiom}"
                out.reports.append(("RMS501", message, site, None))
            elif name in ("param_groups", "add_param_group") and dst == MS_NN:
                out.reports.append((
                    "RMS502",
                    f"optimizer.{name} does not exist on {dst}: its learning rate is the Parameter "
                    "optimizer.learning_rate (mindspore.ops.assign(optimizer.learning_rate, value)) or a schedule "
                    "given as learning_rate= (a per-step list or a LearningRateSchedule); groups are fixed at "
                    "construction. --target experimental keeps param_groups",
                    site, None))
            elif name == "param_groups":
                write = self._lr_write(attr)
                if write is not None:
                    out.reports.append((
                        "RMS503",
                        f"in {dst}, param_groups[i]['lr'] is a Parameter that schedulers update in place: "
                        "assigning a number replaces it, so the step uses the number but a scheduler built "
                        "afterwards fails (AttributeError: 'float' object has no attribute 'value') and one "
                        "built before stops having any effect; write mindspore.ops.assign(group['lr'], value)",
                        write, None))
            elif name == "load_state_dict" and call is not None and dst == MS_EXPERIMENTAL:
                # Measured with MindSpore 2.10: the Cell's load_state_dict wants its own names.
                out.reports.append((
                    "RMS504",
                    f"optimizer.load_state_dict() of {dst} takes MindSpore's names (mean_square.<param>, "
                    "moment.<param>, mean_grad.<param> and the weights themselves, as its state_dict() returns "
                    "them); a state saved by torch ({'state': ..., 'param_groups': ...}) raises RuntimeError "
                    "(missing and unexpected keys): convert that checkpoint with `rmsport state convert` first",
                    site, None))
            elif name in ("state_dict", "load_state_dict") and call is not None and dst == MS_NN:
                out.reports.append((
                    "RMS504",
                    f"optimizer.{name}() does not exist on {dst}: its state is Parameters (mean_square.*, moment.*, "
                    "learning_rate, global_step) saved with mindspore.save_checkpoint(optimizer, path) and loaded "
                    "with mindspore.load_param_into_net(optimizer, mindspore.load_checkpoint(path)); a torch "
                    "checkpoint cannot be loaded",
                    site, None))
            return
        # MindSpore source going to torch.
        if name == "parameters" and call is None:
            out.reports.append((
                "RMS501",
                f"optimizer.parameters is the {src}'s tuple of Parameters (the weights of "
                "mindspore.value_and_grad); a torch optimizer has no such attribute (AttributeError): gradients "
                "come from loss.backward() on the model, and the optimizer's tensors are in param_groups "
                f"({_TORCH_STEP})",
                site, None))
        elif name == "learning_rate" or (name == "get_lr" and call is not None):
            spelled = "optimizer.get_lr()" if name == "get_lr" else "optimizer.learning_rate"
            out.reports.append((
                "RMS502",
                f"{spelled} is the {src}'s learning-rate Parameter; torch keeps it in "
                "optimizer.param_groups[i]['lr'] (a float; assign to it, or use torch.optim.lr_scheduler)",
                site, None))

    def _lr_write(self, attr: ast.Attribute) -> ast.AST | None:
        """``opt.param_groups[i]['lr'] = v`` or ``for g in opt.param_groups: g['lr'] = v``: the store."""
        sub = self.parent(attr)
        if isinstance(sub, ast.Subscript) and sub.value is attr:
            outer = self.parent(sub)
            if isinstance(outer, ast.Subscript) and outer.value is sub and _is_lr_store(outer):
                return self.parent(outer) or outer
            return None
        loop = sub
        if isinstance(loop, (ast.For, ast.comprehension)) and loop.iter is attr and isinstance(loop.target, ast.Name):
            body = loop.body if isinstance(loop, ast.For) else []
            for stmt in body:
                for node in ast.walk(stmt):
                    if (
                        isinstance(node, ast.Subscript)
                        and isinstance(node.value, ast.Name)
                        and node.value.id == loop.target.id
                        and _is_lr_store(node)
                    ):
                        return self.parent(node) or node
        return None

    # -- schedulers ------------------------------------------------------------
    def _scheduler(self, call: ast.Call, callee: str, plan: CallPlan, to: str, target: str,
                   base_lr: float | None, out: Followed) -> None:
        src, dst = plan.src.qualname, plan.dst.qualname
        if callee in TORCH_ONLY_QUALNAMES:
            if dst == MS_NN:
                out.reports.append(("RMS505", _nn_scheduler_message(callee, dst), call, None))
            else:
                out.reports.append(("RMS506", f"{callee.rsplit('.', 1)[1]}: {TORCH_ONLY_QUALNAMES[callee]}; "
                                    "call left unchanged", call, None))
            return
        sched, framework = BY_QUALNAME[callee]
        if framework == "torch" and to == "mindspore":
            if dst == MS_NN:
                out.reports.append(("RMS505", _nn_scheduler_message(callee, dst), call, None))
                return
        elif framework == "mindspore" and to == "torch":
            if src == MS_NN:
                out.reports.append((
                    "RMS505",
                    f"{callee} needs a mindspore.experimental.optim optimizer; on {src} it fails in MindSpore too "
                    "(TypeError: not an Optimizer): nothing to port. Give nn.RMSProp the schedule as "
                    "learning_rate=, or use mindspore.experimental.optim.RMSprop",
                    call, None))
                return
        else:
            return  # the scheduler already speaks the target framework
        sched_plan = plan_scheduler(call, sched, to, base_lr)
        if sched_plan.blocked:
            for code, message, node, severity in sched_plan.reports:
                out.reports.append((code, message, node if node is not None else call, severity))
            return
        root = call.func
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name):
            return
        scope = self.scope_of(call)
        _, bindings, owner = self.analysis.resolve(root.id, scope)
        if not bindings or owner is None:
            return
        ref = Reference(call.func, callee, sched_plan.src, root, bindings, scope, call)
        sched_plan.optimizer_plan = plan
        out.rewrites.append((ref, sched_plan))
        if to == "mindspore":
            self._scheduler_uses(call, sched_plan.dst.qualname, out)

    def _scheduler_uses(self, call: ast.Call, dst: str, out: Followed) -> None:
        """MindSpore's schedulers have no state_dict()/load_state_dict(): checkpoints that save one break."""
        for use in self.uses_of(call):
            attr = self.parent(use)
            if not (isinstance(attr, ast.Attribute) and attr.value is use):
                continue
            called = self.parent(attr)
            if attr.attr in ("state_dict", "load_state_dict") and isinstance(called, ast.Call) and called.func is attr:
                out.reports.append((
                    "RMS504",
                    f"scheduler.{attr.attr}() does not exist on {dst} (AttributeError): a MindSpore scheduler's "
                    "position is scheduler.last_epoch (a Parameter); to resume, build it again with "
                    "last_epoch=<epochs done> on an optimizer whose param_groups hold 'initial_lr'",
                    called, None))


_FIELDS: dict[type, tuple[str, ...]] = {}
_NO_NODES = frozenset({"ctx", "op", "ops", "type_comment", "kind", "conversion", "is_async", "level", "simple",
                       "id", "attr", "arg", "name", "names", "module", "asname"})


def _fields(kind: type) -> tuple[str, ...]:
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in kind._fields if f not in _NO_NODES)  # type: ignore[attr-defined]
    return fields


def _nn_scheduler_message(callee: str, dst: str) -> str:
    name = callee.rsplit(".", 1)[1]
    hint = NN_EQUIVALENTS.get(name)
    return (
        f"{name} needs an optimizer with param_groups; {dst} takes its schedule through learning_rate= and "
        f"cannot be driven by it (TypeError). Either convert with --target experimental "
        f"(mindspore.experimental.optim.lr_scheduler.{name} takes the same arguments) if it has one, or pass "
        f"learning_rate= a per-step list built with mindspore.nn dynamic-lr functions"
        + (f" ({hint})" if hint else "")
        + ": they count optimizer steps, while scheduler.step() is usually called once per epoch, so "
        "total_step = epochs * steps_per_epoch and step_per_epoch = len(train loader) (decay_epoch in epochs)"
    )


def _is_lr_store(node: ast.Subscript) -> bool:
    key = node.slice
    return isinstance(node.ctx, ast.Store) and isinstance(key, ast.Constant) and key.value == "lr"


def _binds(func: ast.AST, name: str) -> bool:
    args = func.args  # type: ignore[attr-defined]
    params = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if args.vararg:
        params.append(args.vararg.arg)
    if args.kwarg:
        params.append(args.kwarg.arg)
    if name in params:
        return True
    if isinstance(func, ast.Lambda):
        return False
    declared = set()
    for node in ast.walk(func):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    if name in declared:
        return False
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store) for n in ast.walk(func))

