"""The learning-rate scheduler tables: torch.optim.lr_scheduler <-> mindspore.experimental.optim.lr_scheduler.

Data only; the planner that reads it is ``engine/schedulers.py``.  Every fact was
read from the real classes installed here (torch 2.13.0, MindSpore 2.10.0), not
from their docstrings, which disagree with the code in places:

- the 13 shared classes take the same keywords in the same positional order, with
  equal defaults, except ``CyclicLR``: MindSpore has no momentum cycling
  (``cycle_momentum``, ``base_momentum``, ``max_momentum``) and so ``last_epoch``
  is its 10th positional argument, torch's 13th;
- MindSpore checks Python types where torch does not: ``StepLR``/``ExponentialLR``
  ``gamma`` and ``PolynomialLR`` ``power`` must be ``float`` (``gamma=1`` raises
  TypeError), ``step_size``/``T_max``/``total_iters``/``T_0``/``T_mult`` must be
  ``int``, ``MultiStepLR`` ``milestones`` must be a ``list`` (torch takes any
  iterable, e.g. a tuple);
- torch 2.13 has no ``verbose`` argument any more (older torch printed each update);
  MindSpore never had one;
- torch's ``CyclicLR`` cycles the optimizer's momentum by default
  (``cycle_momentum=True``; RMSprop has a ``momentum`` so torch sets it to 0.8..0.9
  every step), MindSpore's never does;
- ``OneCycleLR`` and ``ChainedScheduler`` exist in torch only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .optimizers import AddImport, Api, Reuse, Spellings

TORCH_MODULE = "torch.optim.lr_scheduler"
MS_MODULE = "mindspore.experimental.optim.lr_scheduler"


@dataclass(frozen=True)
class Scheduler:
    name: str  # the class name, the same in both frameworks
    # keyword -> default, in the torch constructor's positional order (optimizer first);
    # a keyword without a default maps to REQUIRED.
    torch: dict[str, object]
    mindspore: dict[str, object]
    # MindSpore's isinstance checks (torch accepts more).
    ms_float: frozenset[str] = frozenset()
    ms_int: frozenset[str] = frozenset()
    ms_list: frozenset[str] = frozenset()
    # torch keywords MindSpore lacks -> how they are handled (see TORCH_ONLY_RULES).
    torch_only: dict[str, str] = field(default_factory=dict)
    # Keywords to pin when going to torch because torch's default does what
    # MindSpore cannot (CyclicLR cycles momentum unless told not to).
    pin_to_torch: dict[str, object] = field(default_factory=dict)


REQUIRED = object()
_LAST = {"last_epoch": -1}

SCHEDULERS: dict[str, Scheduler] = {
    s.name: s
    for s in (
        Scheduler(
            "StepLR",
            {"optimizer": REQUIRED, "step_size": REQUIRED, "gamma": 0.1, **_LAST},
            {"optimizer": REQUIRED, "step_size": REQUIRED, "gamma": 0.1, **_LAST},
            ms_float=frozenset({"gamma"}),
            ms_int=frozenset({"step_size", "last_epoch"}),
        ),
        Scheduler(
            "MultiStepLR",
            {"optimizer": REQUIRED, "milestones": REQUIRED, "gamma": 0.1, **_LAST},
            {"optimizer": REQUIRED, "milestones": REQUIRED, "gamma": 0.1, **_LAST},
            ms_int=frozenset({"last_epoch"}),
            ms_list=frozenset({"milestones"}),
        ),
        Scheduler(
            "ExponentialLR",
            {"optimizer": REQUIRED, "gamma": REQUIRED, **_LAST},
            {"optimizer": REQUIRED, "gamma": REQUIRED, **_LAST},
            ms_float=frozenset({"gamma"}),
            ms_int=frozenset({"last_epoch"}),
        ),
        Scheduler(
            "CosineAnnealingLR",
            {"optimizer": REQUIRED, "T_max": REQUIRED, "eta_min": 0.0, **_LAST},
            {"optimizer": REQUIRED, "T_max": REQUIRED, "eta_min": 0.0, **_LAST},
            ms_int=frozenset({"T_max", "last_epoch"}),
        ),
        Scheduler(
            "CosineAnnealingWarmRestarts",
            {"optimizer": REQUIRED, "T_0": REQUIRED, "T_mult": 1, "eta_min": 0.0, **_LAST},
            {"optimizer": REQUIRED, "T_0": REQUIRED, "T_mult": 1, "eta_min": 0, **_LAST},
            ms_int=frozenset({"T_0", "T_mult", "last_epoch"}),
        ),
        Scheduler(
            "ConstantLR",
            {"optimizer": REQUIRED, "factor": 1.0 / 3, "total_iters": 5, **_LAST},
            {"optimizer": REQUIRED, "factor": 1.0 / 3, "total_iters": 5, **_LAST},
            ms_int=frozenset({"total_iters", "last_epoch"}),
        ),
        Scheduler(
            "LinearLR",
            {"optimizer": REQUIRED, "start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5, **_LAST},
            {"optimizer": REQUIRED, "start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5, **_LAST},
            ms_int=frozenset({"total_iters", "last_epoch"}),
        ),
        Scheduler(
            "PolynomialLR",
            {"optimizer": REQUIRED, "total_iters": 5, "power": 1.0, **_LAST},
            {"optimizer": REQUIRED, "total_iters": 5, "power": 1.0, **_LAST},
            ms_float=frozenset({"power"}),
            ms_int=frozenset({"total_iters", "last_epoch"}),
        ),
        Scheduler(
            "LambdaLR",
            {"optimizer": REQUIRED, "lr_lambda": REQUIRED, **_LAST},
            {"optimizer": REQUIRED, "lr_lambda": REQUIRED, **_LAST},
            ms_int=frozenset({"last_epoch"}),
        ),
        Scheduler(
            "MultiplicativeLR",
            {"optimizer": REQUIRED, "lr_lambda": REQUIRED, **_LAST},
            {"optimizer": REQUIRED, "lr_lambda": REQUIRED, **_LAST},
            ms_int=frozenset({"last_epoch"}),
        ),
        Scheduler(
            "CyclicLR",
            {
                "optimizer": REQUIRED, "base_lr": REQUIRED, "max_lr": REQUIRED, "step_size_up": 2000,
                "step_size_down": None, "mode": "triangular", "gamma": 1.0, "scale_fn": None,
                "scale_mode": "cycle", "cycle_momentum": True, "base_momentum": 0.8, "max_momentum": 0.9,
                **_LAST,
            },
            {
                "optimizer": REQUIRED, "base_lr": REQUIRED, "max_lr": REQUIRED, "step_size_up": 2000,
                "step_size_down": None, "mode": "triangular", "gamma": 1.0, "scale_fn": None,
                "scale_mode": "cycle", **_LAST,
            },
            ms_int=frozenset({"last_epoch"}),
            torch_only={
                "cycle_momentum": "must_be_false",
                "base_momentum": "unused_without_cycling",
                "max_momentum": "unused_without_cycling",
            },
            pin_to_torch={"cycle_momentum": False},
        ),
        Scheduler(
            "ReduceLROnPlateau",
            {
                "optimizer": REQUIRED, "mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4,
                "threshold_mode": "rel", "cooldown": 0, "min_lr": 0, "eps": 1e-8,
            },
            {
                "optimizer": REQUIRED, "mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4,
                "threshold_mode": "rel", "cooldown": 0, "min_lr": 0, "eps": 1e-8,
            },
        ),
        Scheduler(
            "SequentialLR",
            {"optimizer": REQUIRED, "schedulers": REQUIRED, "milestones": REQUIRED, **_LAST},
            {"optimizer": REQUIRED, "schedulers": REQUIRED, "milestones": REQUIRED, **_LAST},
            ms_int=frozenset({"last_epoch"}),
        ),
    )
}

# torch-only features: the call is left unchanged with an error (RMS506).
TORCH_ONLY_CLASSES: dict[str, str] = {
    "OneCycleLR": "MindSpore has no OneCycleLR (and it cycles momentum); build the schedule from "
    "LinearLR/CosineAnnealingLR with SequentialLR, or use LambdaLR",
    "ChainedScheduler": "MindSpore has no ChainedScheduler; apply the schedules one after another by hand",
}
# Keywords that torch accepted once (and real code still passes) but 2.13 and MindSpore reject.
TORCH_REMOVED_KEYWORDS: dict[str, str] = {
    "verbose": "verbose= printed every update in older torch; torch 2.13 rejects it (TypeError) and "
    "MindSpore has no such argument: remove it, then convert",
}


def torch_qualname(name: str) -> str:
    return f"{TORCH_MODULE}.{name}"


def ms_qualname(name: str) -> str:
    return f"{MS_MODULE}.{name}"


def _api(qualname: str, framework: str, signature: dict[str, object]) -> Api:
    # Concepts are the keywords themselves: both frameworks spell them alike.
    return Api(
        qualname=qualname,
        framework=framework,
        keywords={kw: kw for kw in signature},
        defaults={kw: d for kw, d in signature.items() if d is not REQUIRED},
        aliases=(),
    )


# Qualified name (any module path that reaches the class) -> (Scheduler, framework).
BY_QUALNAME: dict[str, tuple[Scheduler, str]] = {}
APIS: dict[str, Api] = {}
for _s in SCHEDULERS.values():
    for _module in (TORCH_MODULE,):
        BY_QUALNAME[f"{_module}.{_s.name}"] = (_s, "torch")
    for _module in (MS_MODULE,):
        BY_QUALNAME[f"{_module}.{_s.name}"] = (_s, "mindspore")
    APIS[torch_qualname(_s.name)] = _api(torch_qualname(_s.name), "torch", _s.torch)
    APIS[ms_qualname(_s.name)] = _api(ms_qualname(_s.name), "mindspore", _s.mindspore)
TORCH_ONLY_QUALNAMES: dict[str, str] = {torch_qualname(n): why for n, why in TORCH_ONLY_CLASSES.items()}


def spellings(qualname: str) -> Spellings:
    """How to spell a scheduler class in the output (a record like optimizers.TARGET_SPELLINGS').

    The first ``add`` candidate is the import the optimizer's own rewrite adds, so
    an optimizer and its scheduler share one import.
    """
    name = qualname.rsplit(".", 1)[1]
    if qualname.startswith(MS_MODULE):
        return Spellings(
            reuse=(
                Reuse(MS_MODULE, name),
                Reuse(qualname, ""),
                Reuse("mindspore.experimental.optim", f"lr_scheduler.{name}"),
                Reuse("mindspore", f"experimental.optim.lr_scheduler.{name}"),
            ),
            add=(
                AddImport("from mindspore.experimental import optim", "optim", f"optim.lr_scheduler.{name}"),
                AddImport("import mindspore", "mindspore", f"mindspore.experimental.optim.lr_scheduler.{name}"),
                AddImport("import mindspore as ms", "ms", f"ms.experimental.optim.lr_scheduler.{name}"),
                AddImport(
                    "from mindspore.experimental import optim as ms_optim", "ms_optim", f"ms_optim.lr_scheduler.{name}"
                ),
            ),
        )
    return Spellings(
        reuse=(
            Reuse(TORCH_MODULE, name),
            Reuse(qualname, ""),
            Reuse("torch.optim", f"lr_scheduler.{name}"),
            Reuse("torch", f"optim.lr_scheduler.{name}"),
        ),
        add=(
            AddImport("import torch", "torch", f"torch.optim.lr_scheduler.{name}"),
            AddImport("from torch import optim", "optim", f"optim.lr_scheduler.{name}"),
            AddImport("import torch as th", "th", f"th.optim.lr_scheduler.{name}"),
            AddImport("from torch import optim as torch_optim", "torch_optim", f"torch_optim.lr_scheduler.{name}"),
        ),
    )

# For --target nn (mindspore.nn.RMSProp takes a schedule as learning_rate=): the
# mindspore.nn dynamic-lr function that builds the same per-step list, for the
# error message.  Their step counts are optimizer steps, not epochs.
NN_EQUIVALENTS: dict[str, str] = {
    "StepLR": "nn.piecewise_constant_lr(milestone=[...], learning_rates=[...]) with a milestone every step_size epochs",
    "MultiStepLR": "nn.piecewise_constant_lr(milestone=[...], learning_rates=[...])",
    "ExponentialLR": "nn.exponential_decay_lr(lr, gamma, total_step, step_per_epoch, decay_epoch=1, is_stair=True)",
    "CosineAnnealingLR": "nn.cosine_decay_lr(eta_min, lr, total_step, step_per_epoch, decay_epoch=T_max) "
    "for the first T_max epochs",
    "PolynomialLR": "nn.polynomial_decay_lr(lr, 0.0, total_step, step_per_epoch, decay_epoch=total_iters, power=power)",
    "LinearLR": "nn.warmup_lr(lr, total_step, step_per_epoch, warmup_epoch) when warming up from 0",
}


# MindSpore's own schedules for ``nn.RMSProp(learning_rate=...)``: the dynamic-lr
# functions (a list, one rate per optimizer step, ``mindspore/nn/dynamic_lr.py``)
# and the LearningRateSchedule classes (a rate per global step, computed in the
# graph in float32, ``mindspore/nn/learning_rate_schedule.py``).  Signature:
# keyword -> default, in positional order.
MS_DYNAMIC_LR: dict[str, dict[str, object]] = {
    "piecewise_constant_lr": {"milestone": REQUIRED, "learning_rates": REQUIRED},
    "exponential_decay_lr": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "total_step": REQUIRED,
                             "step_per_epoch": REQUIRED, "decay_epoch": REQUIRED, "is_stair": False},
    "natural_exp_decay_lr": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "total_step": REQUIRED,
                             "step_per_epoch": REQUIRED, "decay_epoch": REQUIRED, "is_stair": False},
    "inverse_decay_lr": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "total_step": REQUIRED,
                         "step_per_epoch": REQUIRED, "decay_epoch": REQUIRED, "is_stair": False},
    "cosine_decay_lr": {"min_lr": REQUIRED, "max_lr": REQUIRED, "total_step": REQUIRED, "step_per_epoch": REQUIRED,
                        "decay_epoch": REQUIRED},
    "polynomial_decay_lr": {"learning_rate": REQUIRED, "end_learning_rate": REQUIRED, "total_step": REQUIRED,
                            "step_per_epoch": REQUIRED, "decay_epoch": REQUIRED, "power": REQUIRED,
                            "update_decay_epoch": False},
    "warmup_lr": {"learning_rate": REQUIRED, "total_step": REQUIRED, "step_per_epoch": REQUIRED,
                  "warmup_epoch": REQUIRED},
}
MS_LR_SCHEDULE_CLASSES: dict[str, dict[str, object]] = {
    "ExponentialDecayLR": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "decay_steps": REQUIRED,
                           "is_stair": False},
    "NaturalExpDecayLR": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "decay_steps": REQUIRED,
                          "is_stair": False},
    "InverseDecayLR": {"learning_rate": REQUIRED, "decay_rate": REQUIRED, "decay_steps": REQUIRED, "is_stair": False},
    "CosineDecayLR": {"min_lr": REQUIRED, "max_lr": REQUIRED, "decay_steps": REQUIRED},
    "PolynomialDecayLR": {"learning_rate": REQUIRED, "end_learning_rate": REQUIRED, "decay_steps": REQUIRED,
                          "power": REQUIRED, "update_decay_steps": False},
    "WarmUpLR": {"learning_rate": REQUIRED, "warmup_steps": REQUIRED},
}
# Qualified name (any public path) -> (name, signature).
MS_SCHEDULES: dict[str, tuple[str, dict[str, object]]] = {}
for _name, _sig in MS_DYNAMIC_LR.items():
    for _module in ("mindspore.nn", "mindspore.nn.dynamic_lr"):
        MS_SCHEDULES[f"{_module}.{_name}"] = (_name, _sig)
for _name, _sig in MS_LR_SCHEDULE_CLASSES.items():
    for _module in ("mindspore.nn", "mindspore.nn.learning_rate_schedule"):
        MS_SCHEDULES[f"{_module}.{_name}"] = (_name, _sig)
