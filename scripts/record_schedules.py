"""Record learning-rate schedules from the real frameworks into fixtures/schedules/.

Usage (from the repository root, with torch 2.13 and MindSpore 2.10 installed)::

    python scripts/record_schedules.py            # both frameworks
    python scripts/record_schedules.py --only torch

Each configuration of each scheduler becomes
``fixtures/schedules/<framework>__<Class>__<config>.json`` holding the scheduler's
qualified name, its keyword arguments (without the optimizer), the optimizer's
learning rate, the metrics fed to ``ReduceLROnPlateau.step``, the recorded rates
(``optimizer.param_groups[0]["lr"]`` before each of 60 optimizer steps, with one
``scheduler.step()`` after each) and the framework version.  The optimizer is the
framework's RMSprop (``mindspore.experimental.optim.RMSprop`` for MindSpore) on a
small dense layer; MindSpore runs in PyNative mode on CPU.

MindSpore's own schedules for ``nn.RMSProp(learning_rate=...)`` are recorded too:
the dynamic-lr functions' lists (``mindspore.nn__<function>__<config>.json``) and the
LearningRateSchedule classes evaluated at global steps 0..59, in the graph's float32.

``tests/test_lr_schedules.py`` compares ``rmsport.reference.lr_sequence`` with every
recording on every test run, without the frameworks.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "schedules"
STEPS = 60
BASE_LR = 0.05
METRICS = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.85, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6] * 5

# (class, config name, kwargs).  SequentialLR's schedulers are (class, kwargs) pairs.
CONFIGS: list[tuple[str, str, dict]] = [
    ("StepLR", "every4", {"step_size": 4, "gamma": 0.5}),
    ("StepLR", "default_gamma", {"step_size": 10}),
    ("MultiStepLR", "repeated_milestone", {"milestones": [3, 7, 7, 20], "gamma": 0.3}),
    ("ExponentialLR", "slow", {"gamma": 0.97}),
    ("CosineAnnealingLR", "two_periods", {"T_max": 13, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", "tmult2", {"T_0": 4, "T_mult": 2, "eta_min": 0.0005}),
    ("CosineAnnealingWarmRestarts", "tmult1", {"T_0": 7}),
    ("ConstantLR", "default", {}),
    ("ConstantLR", "quarter", {"factor": 0.25, "total_iters": 9}),
    ("LinearLR", "warmup", {"start_factor": 0.1, "end_factor": 1.0, "total_iters": 20}),
    ("LinearLR", "decay", {"start_factor": 1.0, "end_factor": 0.2, "total_iters": 30}),
    ("PolynomialLR", "square", {"total_iters": 25, "power": 2.0}),
    ("CyclicLR", "triangular", {"base_lr": 0.001, "max_lr": 0.02, "step_size_up": 6}),
    ("CyclicLR", "triangular2", {"base_lr": 0.001, "max_lr": 0.02, "step_size_up": 5, "step_size_down": 3,
                                 "mode": "triangular2"}),
    ("CyclicLR", "exp_range", {"base_lr": 0.002, "max_lr": 0.03, "step_size_up": 4, "mode": "exp_range",
                               "gamma": 0.98}),
    ("ReduceLROnPlateau", "patience2", {"factor": 0.5, "patience": 2}),
    ("ReduceLROnPlateau", "cooldown_floor", {"factor": 0.3, "patience": 1, "cooldown": 2, "min_lr": 0.004}),
    ("ReduceLROnPlateau", "max_abs", {"mode": "max", "threshold_mode": "abs", "threshold": 0.01, "patience": 0}),
    ("SequentialLR", "warmup_then_step", {
        "schedulers": [["LinearLR", {"start_factor": 0.2, "total_iters": 5}], ["StepLR", {"step_size": 6, "gamma": 0.5}]],
        "milestones": [5]}),
    ("SequentialLR", "constant_then_exponential", {
        "schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 4}], ["ExponentialLR", {"gamma": 0.9}]],
        "milestones": [8]}),
]
PREFIX = {"torch": "torch.optim.lr_scheduler.", "mindspore": "mindspore.experimental.optim.lr_scheduler."}

# MindSpore's own schedules for nn.RMSProp(learning_rate=...): dynamic-lr functions
# (a list) and LearningRateSchedule classes (evaluated at global steps 0..STEPS-1).
MS_OWN: list[tuple[str, str, dict]] = [
    ("piecewise_constant_lr", "three", {"milestone": [10, 25, 60], "learning_rates": [0.1, 0.05, 0.01]}),
    ("exponential_decay_lr", "smooth", {"learning_rate": 0.1, "decay_rate": 0.9, "total_step": 60,
                                        "step_per_epoch": 4, "decay_epoch": 3}),
    ("exponential_decay_lr", "stair", {"learning_rate": 0.1, "decay_rate": 0.9, "total_step": 60,
                                       "step_per_epoch": 4, "decay_epoch": 3, "is_stair": True}),
    ("natural_exp_decay_lr", "stair", {"learning_rate": 0.1, "decay_rate": 0.2, "total_step": 60,
                                       "step_per_epoch": 2, "decay_epoch": 2, "is_stair": True}),
    ("inverse_decay_lr", "smooth", {"learning_rate": 0.1, "decay_rate": 0.5, "total_step": 60,
                                    "step_per_epoch": 3, "decay_epoch": 2}),
    ("cosine_decay_lr", "clamped", {"min_lr": 0.01, "max_lr": 0.1, "total_step": 60, "step_per_epoch": 2,
                                    "decay_epoch": 20}),
    ("polynomial_decay_lr", "square", {"learning_rate": 0.1, "end_learning_rate": 0.01, "total_step": 60,
                                       "step_per_epoch": 2, "decay_epoch": 20, "power": 2.0}),
    ("polynomial_decay_lr", "update", {"learning_rate": 0.1, "end_learning_rate": 0.01, "total_step": 60,
                                       "step_per_epoch": 1, "decay_epoch": 7, "power": 1.5,
                                       "update_decay_epoch": True}),
    ("warmup_lr", "ten", {"learning_rate": 0.1, "total_step": 60, "step_per_epoch": 3, "warmup_epoch": 10}),
    ("ExponentialDecayLR", "smooth", {"learning_rate": 0.1, "decay_rate": 0.9, "decay_steps": 4}),
    ("ExponentialDecayLR", "stair", {"learning_rate": 0.1, "decay_rate": 0.9, "decay_steps": 4, "is_stair": True}),
    ("NaturalExpDecayLR", "stair", {"learning_rate": 0.1, "decay_rate": 0.1, "decay_steps": 3, "is_stair": True}),
    ("InverseDecayLR", "smooth", {"learning_rate": 0.1, "decay_rate": 0.5, "decay_steps": 5}),
    ("CosineDecayLR", "clamped", {"min_lr": 0.01, "max_lr": 0.1, "decay_steps": 40}),
    ("PolynomialDecayLR", "to_zero", {"learning_rate": 0.1, "end_learning_rate": 0.0, "decay_steps": 30,
                                      "power": 2.0}),
    ("PolynomialDecayLR", "update", {"learning_rate": 0.1, "end_learning_rate": 0.01, "decay_steps": 9,
                                     "power": 1.0, "update_decay_steps": True}),
    ("WarmUpLR", "ten", {"learning_rate": 0.1, "warmup_steps": 10}),
]


def _ms_own_run(name: str, kwargs: dict) -> tuple[list[float], str]:
    import mindspore

    try:  # the first Tensor / float of a process fails under NumPy 2 (see tests/test_schedulers.py)
        mindspore.Tensor(1.0, mindspore.float32) / 3.0
    except SystemError:
        pass
    thing = getattr(mindspore.nn, name)
    if name[0].islower():
        return [float(v) for v in thing(**kwargs)][:STEPS], mindspore.__version__
    schedule = thing(**kwargs)
    return [float(schedule(mindspore.Tensor(t, mindspore.int32)).asnumpy()) for t in range(STEPS)], mindspore.__version__


def _torch_run(name: str, kwargs: dict) -> tuple[list[float], str]:
    import torch

    opt = torch.optim.RMSprop(torch.nn.Linear(2, 3).parameters(), lr=BASE_LR)
    module = torch.optim.lr_scheduler
    if name == "SequentialLR":
        subs = [getattr(module, n)(opt, **kw) for n, kw in kwargs["schedulers"]]
        sched = module.SequentialLR(opt, subs, kwargs["milestones"])
    else:
        if name == "CyclicLR":
            kwargs = {**kwargs, "cycle_momentum": False}  # what rmsport writes; the lr is the same
        sched = getattr(module, name)(opt, **kwargs)
    return _steps(name, opt, sched, float), torch.__version__


def _ms_run(name: str, kwargs: dict) -> tuple[list[float], str]:
    import mindspore
    from mindspore.experimental import optim

    try:  # the first Tensor / float of a process fails under NumPy 2 (see tests/test_schedulers.py)
        mindspore.Tensor(1.0, mindspore.float32) / 3.0
    except SystemError:
        pass
    opt = optim.RMSprop(mindspore.nn.Dense(2, 3).trainable_params(), lr=BASE_LR)
    module = optim.lr_scheduler
    if name == "SequentialLR":
        subs = [getattr(module, n)(opt, **kw) for n, kw in kwargs["schedulers"]]
        sched = module.SequentialLR(opt, subs, kwargs["milestones"])
    else:
        sched = getattr(module, name)(opt, **kwargs)
    return _steps(name, opt, sched, lambda p: float(p.asnumpy())), mindspore.__version__


def _steps(name: str, opt, sched, read) -> list[float]:
    out = []
    for t in range(STEPS):
        out.append(read(opt.param_groups[0]["lr"]))
        if name == "ReduceLROnPlateau":
            sched.step(METRICS[t])
        else:
            sched.step()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("torch", "mindspore"))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    warnings.simplefilter("ignore")
    for framework in ("torch", "mindspore"):
        if args.only and framework != args.only:
            continue
        for name, config, kwargs in CONFIGS:
            lrs, version = (_torch_run if framework == "torch" else _ms_run)(name, json.loads(json.dumps(kwargs)))
            stored = kwargs
            if name == "SequentialLR":
                stored = {**kwargs, "schedulers": [[PREFIX[framework] + n, kw] for n, kw in kwargs["schedulers"]]}
            record = {
                "api": PREFIX[framework] + name,
                "kwargs": stored,
                "base_lr": BASE_LR,
                "steps": STEPS,
                "metrics": METRICS[:STEPS] if name == "ReduceLROnPlateau" else None,
                "lrs": lrs,
                "framework_version": version,
            }
            _write(OUT / f"{framework}__{name}__{config}.json", record)
    if args.only != "torch":
        for name, config, kwargs in MS_OWN:
            lrs, version = _ms_own_run(name, kwargs)
            record = {
                "api": f"mindspore.nn.{name}",
                "kwargs": kwargs,
                "base_lr": None,
                "steps": len(lrs),
                "metrics": None,
                "lrs": lrs,
                "framework_version": version,
            }
            _write(OUT / f"mindspore.nn__{name}__{config}.json", record)


def _write(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
