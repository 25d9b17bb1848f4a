"""Per-step learning rates of the schedulers, in plain Python: ``lr_sequence``.

``lr_sequence(api, kwargs, steps, base_lr)`` returns the learning rate the optimizer
uses at each of ``steps`` optimizer steps when ``scheduler.step()`` is called once
after every optimizer step: element 0 is the rate right after the scheduler is
built, element t the rate after t calls of ``step()``.

The models follow torch 2.13's ``torch/optim/lr_scheduler.py`` recursion (each
rate computed from the previous one, as ``step()`` without an epoch does, so the
float64 rounding is torch's own); MindSpore 2.10's
``mindspore/experimental/optim/lr_scheduler.py`` ports the same recursions, in
float32.  Recorded fixtures (``fixtures/schedules/``, made by
``scripts/record_schedules.py``) and live tests check both.

Only ``last_epoch=-1`` (a fresh scheduler) is modelled; resuming raises ValueError.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections import Counter
from collections.abc import Callable

import numpy as np

__all__ = ["lr_sequence", "verify_schedule", "schedule_verification", "SCHEDULE_APIS", "per_step_lr_supported"]

_TORCH = "torch.optim.lr_scheduler."
_MS = "mindspore.experimental.optim.lr_scheduler."


class _Group:
    def __init__(self, lr: float) -> None:
        self.lr = lr
        self.initial_lr = lr


class _Sched:
    """torch's LRScheduler: construction performs the first step (last_epoch -1 -> 0)."""

    closed_form: bool = False

    def __init__(self, group: _Group) -> None:
        self.group = group
        self.base_lr = group.initial_lr
        self.last_epoch = -1
        self.step()

    def step(self) -> None:
        self.last_epoch += 1
        self.group.lr = self.get_lr()

    def step_to(self, epoch: int) -> None:
        # SequentialLR restarts a scheduler at epoch 0 this way (closed form when the class has one).
        self.last_epoch = epoch
        self.group.lr = self.closed(epoch) if self.closed_form else self.get_lr()

    def get_lr(self) -> float:  # pragma: no cover - every subclass has one
        raise NotImplementedError

    def closed(self, epoch: int) -> float:  # pragma: no cover
        raise NotImplementedError


class StepLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size, self.gamma = step_size, gamma
        super().__init__(group)

    def get_lr(self) -> float:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.group.lr
        return self.group.lr * self.gamma

    def closed(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class MultiStepLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, milestones, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(group)

    def get_lr(self) -> float:
        if self.last_epoch not in self.milestones:
            return self.group.lr
        return self.group.lr * self.gamma ** self.milestones[self.last_epoch]

    def closed(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** bisect.bisect_right(sorted(self.milestones.elements()), epoch)


class ExponentialLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(group)

    def get_lr(self) -> float:
        return self.group.lr if self.last_epoch == 0 else self.group.lr * self.gamma

    def closed(self, epoch: int) -> float:
        return self.base_lr * self.gamma**epoch


class CosineAnnealingLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(group)

    def get_lr(self) -> float:
        e, t, lo, lr = self.last_epoch, self.T_max, self.eta_min, self.group.lr
        if e == 0:
            return lr
        if (e - 1 - t) % (2 * t) == 0:
            return lr + (self.base_lr - lo) * (1 - math.cos(math.pi / t)) / 2
        return (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t)) * (lr - lo) + lo

    def closed(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class CosineAnnealingWarmRestarts(_Sched):
    def __init__(self, group: _Group, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = -1
        super().__init__(group)

    def step(self) -> None:
        if self.last_epoch < 0:
            epoch = 0
            self.T_cur = 0
        else:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        self.last_epoch = epoch
        self.group.lr = self.get_lr()

    def step_to(self, epoch: int) -> None:
        if epoch >= self.T_0:  # pragma: no cover - SequentialLR only restarts at 0
            raise ValueError("restarting CosineAnnealingWarmRestarts past T_0 is not modelled")
        self.T_i, self.T_cur, self.last_epoch = self.T_0, epoch, epoch
        self.group.lr = self.get_lr()

    def get_lr(self) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2


class ConstantLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1) -> None:
        self.factor, self.total_iters = factor, total_iters
        super().__init__(group)

    def get_lr(self) -> float:
        if self.last_epoch == 0:
            return self.group.lr * self.factor
        if self.last_epoch != self.total_iters:
            return self.group.lr
        return self.group.lr * (1.0 / self.factor)

    def closed(self, epoch: int) -> float:
        return self.base_lr * (self.factor + (epoch >= self.total_iters) * (1 - self.factor))


class LinearLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.start, self.end, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(group)

    def get_lr(self) -> float:
        e, lr = self.last_epoch, self.group.lr
        if e == 0:
            return lr * self.start
        if e > self.total_iters:
            return lr
        slope = self.end - self.start
        return lr * (1.0 + slope / (self.total_iters * self.start + (e - 1) * slope))

    def closed(self, epoch: int) -> float:
        return self.base_lr * (
            self.start + (self.end - self.start) * min(self.total_iters, epoch) / self.total_iters
        )


class PolynomialLR(_Sched):
    closed_form = True

    def __init__(self, group: _Group, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(group)

    def get_lr(self) -> float:
        e, n = self.last_epoch, self.total_iters
        if e == 0 or e > n:
            return self.group.lr
        return self.group.lr * ((1.0 - e / n) / (1.0 - (e - 1) / n)) ** self.power

    def closed(self, epoch: int) -> float:
        return self.base_lr * (1.0 - min(self.total_iters, epoch) / self.total_iters) ** self.power


class LambdaLR(_Sched):
    def __init__(self, group: _Group, lr_lambda: Callable[[int], float], last_epoch: int = -1) -> None:
        self.fn = lr_lambda
        super().__init__(group)

    def get_lr(self) -> float:
        return self.base_lr * self.fn(self.last_epoch)


class MultiplicativeLR(_Sched):
    def __init__(self, group: _Group, lr_lambda: Callable[[int], float], last_epoch: int = -1) -> None:
        self.fn = lr_lambda
        super().__init__(group)

    def get_lr(self) -> float:
        return self.group.lr * self.fn(self.last_epoch) if self.last_epoch > 0 else self.group.lr


class CyclicLR(_Sched):
    def __init__(self, group: _Group, base_lr: float, max_lr: float, step_size_up: int = 2000,
                 step_size_down: int | None = None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float = 0.8, max_momentum: float = 0.9,
                 last_epoch: int = -1) -> None:
        # Momentum cycling changes the optimizer's momentum, not its learning rate.
        group.lr = group.initial_lr = base_lr
        up = float(step_size_up)
        down = up if step_size_down is None else float(step_size_down)
        self.total, self.ratio = up + down, up / (up + down)
        self.max_lr, self.gamma = max_lr, gamma
        if scale_fn is not None:
            self.fn, self.scale_mode = scale_fn, scale_mode
        elif mode == "triangular":
            self.fn, self.scale_mode = (lambda x: 1.0), "cycle"
        elif mode == "triangular2":
            self.fn, self.scale_mode = (lambda x: 1 / (2.0 ** (x - 1))), "cycle"
        elif mode == "exp_range":
            self.fn, self.scale_mode = (lambda x: gamma**x), "iterations"
        else:
            raise ValueError("mode is invalid and scale_fn is None")
        super().__init__(group)

    def get_lr(self) -> float:
        cycle = math.floor(1 + self.last_epoch / self.total)
        x = 1.0 + self.last_epoch / self.total - cycle
        scale = x / self.ratio if x <= self.ratio else (x - 1) / (self.ratio - 1)
        height = (self.max_lr - self.base_lr) * scale
        return self.base_lr + height * self.fn(cycle if self.scale_mode == "cycle" else self.last_epoch)


class ReduceLROnPlateau:
    def __init__(self, group: _Group, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0,
                 eps: float = 1e-8) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError("mode must be 'min' or 'max', threshold_mode 'rel' or 'abs'")
        self.group, self.mode, self.factor, self.patience = group, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown, self.min_lr, self.eps = (
            threshold, threshold_mode, cooldown, min_lr, eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.bad = self.cooldown_counter = 0

    def better(self, a: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return a < (self.best * (1.0 - self.threshold) if rel else self.best - self.threshold)
        return a > (self.best * (self.threshold + 1.0) if rel else self.best + self.threshold)

    def step(self, metric: float) -> None:
        if self.better(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.bad = 0
        if self.bad > self.patience:
            old = self.group.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.group.lr = new
            self.cooldown_counter, self.bad = self.cooldown, 0


_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ConstantLR,
              LinearLR, PolynomialLR, LambdaLR, MultiplicativeLR, CyclicLR, ReduceLROnPlateau)
}
SCHEDULE_APIS: frozenset[str] = frozenset(
    prefix + name for prefix in (_TORCH, _MS) for name in (*_CLASSES, "SequentialLR")
)


# -- MindSpore's own schedules for nn.RMSProp(learning_rate=...) ----------------------
# The dynamic-lr functions (mindspore/nn/dynamic_lr.py) build a Python list, one rate
# per optimizer step; "epoch" there is floor(step / step_per_epoch).


def _epoch(i: int, step_per_epoch: int) -> int:
    return math.floor(i / step_per_epoch)


def piecewise_constant_lr(milestone, learning_rates) -> list[float]:
    out: list[float] = []
    last = 0
    for end, lr in zip(milestone, learning_rates):
        out += [lr] * (end - last)
        last = end
    return out


def exponential_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    def power(e: int) -> float:
        return math.floor(e / decay_epoch) if is_stair else e / decay_epoch

    return [learning_rate * decay_rate ** power(_epoch(i, step_per_epoch)) for i in range(total_step)]


def natural_exp_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    def span(e: int) -> int:
        return math.floor(e / decay_epoch) * decay_epoch if is_stair else e

    return [learning_rate * math.e ** (-decay_rate * span(_epoch(i, step_per_epoch))) for i in range(total_step)]


def inverse_decay_lr(learning_rate, decay_rate, total_step, step_per_epoch, decay_epoch, is_stair=False):
    out = []
    for i in range(total_step):
        e = _epoch(i, step_per_epoch)
        if is_stair:
            out.append(learning_rate / (1 + decay_rate * math.floor(e / decay_epoch)))
        else:
            out.append(learning_rate / (1 + decay_rate * e / decay_epoch))
    return out


def cosine_decay_lr(min_lr, max_lr, total_step, step_per_epoch, decay_epoch):
    half = 0.5 * (max_lr - min_lr)
    return [
        min_lr + half * (1 + math.cos(math.pi * min(_epoch(i, step_per_epoch), decay_epoch) / decay_epoch))
        for i in range(total_step)
    ]


def polynomial_decay_lr(learning_rate, end_learning_rate, total_step, step_per_epoch, decay_epoch, power,
                        update_decay_epoch=False):
    out = []
    span = learning_rate - end_learning_rate
    for i in range(total_step):
        e = _epoch(i, step_per_epoch)
        if update_decay_epoch:
            epochs, done = decay_epoch * max(math.ceil(e / decay_epoch), 1), e
        else:
            epochs, done = decay_epoch, min(e, decay_epoch)
        out.append(span * (1 - done / epochs) ** power + end_learning_rate)
    return out


def warmup_lr(learning_rate, total_step, step_per_epoch, warmup_epoch):
    return [learning_rate * min(_epoch(i, step_per_epoch), warmup_epoch) / warmup_epoch for i in range(total_step)]


# The LearningRateSchedule classes (mindspore/nn/learning_rate_schedule.py): the rate
# at global step t, computed in the graph in float32 (modelled in float64 here).
def _exponential_decay(t, learning_rate, decay_rate, decay_steps, is_stair=False):
    p = t / decay_steps
    return learning_rate * decay_rate ** (math.floor(p) if is_stair else p)


def _natural_exp_decay(t, learning_rate, decay_rate, decay_steps, is_stair=False):
    p = (t // decay_steps) * decay_steps if is_stair else t
    return learning_rate * math.e ** (-decay_rate * p)


def _inverse_decay(t, learning_rate, decay_rate, decay_steps, is_stair=False):
    p = t / decay_steps
    return learning_rate / (1 + decay_rate * (math.floor(p) if is_stair else p))


def _cosine_decay(t, min_lr, max_lr, decay_steps):
    p = min(t, decay_steps)
    return min_lr + 0.5 * (max_lr - min_lr) * (1.0 + math.sin(math.pi * (p / decay_steps + 0.5)))


def _polynomial_decay(t, learning_rate, end_learning_rate, decay_steps, power, update_decay_steps=False):
    if update_decay_steps:
        steps = decay_steps * max(math.ceil(t / decay_steps), 1)
    else:
        steps, t = decay_steps, min(t, decay_steps)
    return (learning_rate - end_learning_rate) * (1.0 - t / steps) ** power + end_learning_rate


def _warmup(t, learning_rate, warmup_steps):
    return learning_rate * min(t, warmup_steps) / warmup_steps


_MS_FUNCTIONS: dict[str, Callable[..., list[float]]] = {
    f.__name__: f
    for f in (piecewise_constant_lr, exponential_decay_lr, natural_exp_decay_lr, inverse_decay_lr, cosine_decay_lr,
              polynomial_decay_lr, warmup_lr)
}
_MS_CLASSES: dict[str, Callable[..., float]] = {
    "ExponentialDecayLR": _exponential_decay,
    "NaturalExpDecayLR": _natural_exp_decay,
    "InverseDecayLR": _inverse_decay,
    "CosineDecayLR": _cosine_decay,
    "PolynomialDecayLR": _polynomial_decay,
    "WarmUpLR": _warmup,
}


def _ms_schedule(api: str, kwargs: dict, steps: int) -> np.ndarray | None:
    """The per-step rates of a MindSpore dynamic-lr function or LearningRateSchedule, or None."""
    from ..tables.schedulers import MS_SCHEDULES

    hit = MS_SCHEDULES.get(api)
    if hit is None:
        return None
    name = hit[0]
    if name in _MS_FUNCTIONS:
        rates = _MS_FUNCTIONS[name](**kwargs)
        if steps > len(rates):
            raise ValueError(f"{name} gives {len(rates)} rates; MindSpore fails at the step after the last")
        return np.array(rates[:steps], dtype=np.float64)
    fn = _MS_CLASSES[name]
    return np.array([fn(t, **kwargs) for t in range(steps)], dtype=np.float64)


def _class_name(api: str) -> str:
    for prefix in (_TORCH, _MS):
        if api.startswith(prefix) and api[len(prefix):] in (*_CLASSES, "SequentialLR"):
            return api[len(prefix):]
    raise ValueError(f"no learning-rate model for {api!r}")


def lr_sequence(
    api: str,
    kwargs: dict,
    steps: int,
    base_lr: float,
    *,
    metrics=None,
) -> np.ndarray:
    """The learning rate at each of ``steps`` optimizer steps (float64 array).

    ``api`` is a scheduler's qualified name (``torch.optim.lr_scheduler.StepLR``,
    ``mindspore.experimental.optim.lr_scheduler.StepLR``, ...); ``kwargs`` its
    arguments without the optimizer, with the API's own keywords; ``base_lr`` the
    optimizer's learning rate.  ``SequentialLR`` takes ``schedulers`` as a list of
    ``(api, kwargs)`` pairs.  ``ReduceLROnPlateau`` needs ``metrics``: the value
    passed to ``step(metric)`` after each optimizer step.

    ``api`` may also be one of MindSpore's own schedules for ``nn.RMSProp(learning_rate=...)``:
    a dynamic-lr function (``mindspore.nn.exponential_decay_lr``, ..., whose list
    gives the rate of each step; asking for more steps than it holds raises) or a
    LearningRateSchedule class (``mindspore.nn.ExponentialDecayLR``, ...).  Their
    arguments hold the learning rate, so ``base_lr`` is not used.
    """
    if steps < 0:
        raise ValueError("steps must be >= 0")
    ms = _ms_schedule(api, kwargs, steps)
    if ms is not None:
        return ms
    name = _class_name(api)
    if kwargs.get("last_epoch", -1) != -1:
        raise ValueError("only a fresh scheduler (last_epoch=-1) is modelled")
    if steps < 0:
        raise ValueError("steps must be >= 0")
    group = _Group(float(base_lr))
    out = np.empty(steps, dtype=np.float64)
    if name == "SequentialLR":
        return _sequential(api, kwargs, steps, group, out)
    sched = _CLASSES[name](group, **kwargs)
    for t in range(steps):
        out[t] = group.lr
        if t + 1 < steps:
            if name == "ReduceLROnPlateau":
                if metrics is None or len(metrics) < steps - 1:
                    raise ValueError("ReduceLROnPlateau needs one metric per step (metrics=...)")
                sched.step(float(metrics[t]))
            else:
                sched.step()
    return out


def _sequential(api: str, kwargs: dict, steps: int, group: _Group, out: np.ndarray) -> np.ndarray:
    pairs = kwargs["schedulers"]
    milestones = list(kwargs["milestones"])
    if len(milestones) != len(pairs) - 1:
        raise ValueError("SequentialLR expects one more scheduler than milestones")
    # Every scheduler is built (each construction steps it once), then SequentialLR
    # resets the rate and restarts the first one.
    scheds = [_CLASSES[_class_name(sub)](group, **sub_kwargs) for sub, sub_kwargs in pairs]
    group.lr = group.initial_lr
    for s in scheds:
        s.last_epoch -= 1
    scheds[0].step()
    epoch = 0
    for t in range(steps):
        out[t] = group.lr
        if t + 1 < steps:
            epoch += 1
            idx = bisect.bisect_right(milestones, epoch)
            if idx > 0 and milestones[idx - 1] == epoch:
                scheds[idx].step_to(0)
            else:
                scheds[idx].step()
    return out


# -- --verify on a scheduler rewrite ---------------------------------------------

VERIFY_STEPS = 300
VERIFY_BASE_LR = 0.01  # torch's RMSprop default, when the optimizer's lr is not a literal
EQUIVALENT_RTOL = 1e-9


def plateau_metrics(steps: int) -> list[float]:
    """What ``--verify`` feeds ReduceLROnPlateau: a loss that falls, then stalls for good."""
    return [max(1.0 / (1 + t), 0.05) for t in range(steps)]


def compare_sequences(a: np.ndarray, b: np.ndarray) -> dict:
    """Step by step: equivalent, or divergent with the first step that differs (1-based)."""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    abs_diff = np.abs(a - b)
    rel = abs_diff / scale
    bad = np.nonzero(rel > EQUIVALENT_RTOL)[0]
    return {
        "verdict": "divergent" if bad.size else "equivalent",
        "max_abs_diff": float(abs_diff.max()) if abs_diff.size else 0.0,
        "max_rel_diff": float(rel.max()) if rel.size else 0.0,
        "first_divergent_step": int(bad[0]) + 1 if bad.size else None,
        "steps": int(a.size),
    }


def schedule_verification(plan) -> tuple[str, str, dict]:
    """``--verify`` on a scheduler rewrite: (message, severity, verification dict) of its RMS401."""
    result = verify_schedule(plan)
    src = plan.src.qualname
    verdict = result["verdict"]
    if verdict == "equivalent":
        return f"verified: the same learning rate as {src} at each of {result['steps']} steps", "info", result
    if verdict == "unverifiable":
        why = ("not literals: " + ", ".join(plan.not_literal)) if plan.not_literal else "the model rejects a value"
        return f"unverifiable ({why}); learning-rate sequences are compared for literal arguments only", "info", result
    return (
        f"divergent: learning rates differ from {src}'s from step {result['first_divergent_step']} "
        f"(max abs diff {result['max_abs_diff']:.3g}, max rel diff {result['max_rel_diff']:.3g}) "
        f"over {result['steps']} steps",
        "warning",
        result,
    )


def verify_schedule(plan) -> dict:
    """``--verify`` for a scheduler rewrite (a ``engine.schedulers.SchedulePlan``)."""
    from .verify import unverifiable

    if not plan.all_literal:
        return unverifiable()
    base_lr = plan.base_lr if plan.base_lr is not None else VERIFY_BASE_LR
    metrics = plateau_metrics(VERIFY_STEPS)
    try:
        a = lr_sequence(plan.src.qualname, dict(plan.src_kwargs), VERIFY_STEPS, base_lr, metrics=metrics)
        b = lr_sequence(plan.dst.qualname, dict(plan.dst_kwargs), VERIFY_STEPS, base_lr, metrics=metrics)
    except (ValueError, TypeError, ZeroDivisionError, OverflowError, KeyError):
        return unverifiable()
    return compare_sequences(a, b)



@functools.lru_cache(maxsize=1)
def per_step_lr_supported() -> bool:
    """Does ``simulate`` take one learning rate per step for every API (torch included)?

    Then ``--verify`` simulates a rewritten optimizer with its scheduler's rates on both
    sides (the pair, not the constructor alone); before, torch took a number only.
    """
    from .reference import simulate

    try:
        simulate("torch.optim.RMSprop", {"lr": [0.01, 0.005]}, np.zeros(1), np.ones((2, 1)))
    except (ValueError, TypeError):
        return False
    return True
