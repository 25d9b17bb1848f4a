"""Schedulers: the table against the real classes, and every converted fixture run for real.

* ``tables/schedulers.py`` says each class takes the same keywords, in the same
  order, with the same defaults in torch 2.13 and MindSpore 2.10 (CyclicLR's
  momentum arguments aside): checked with ``inspect.signature`` on the real classes;
* the type rules the table lists are MindSpore's real behaviour (``gamma=1``
  raises TypeError, ``milestones=(10,)`` too), which torch accepts;
* every fixture in ``fixtures/convert/`` whose files define ``make(model)`` is
  executed as written (``input.py``, ``expected.py``, ``back.py``): each builds a
  real optimizer and scheduler, and the first 50 learning rates of the rewritten
  pair match the source's;
* ``rmsport.reference.lr_sequence`` matches the live classes of both frameworks.
"""

from __future__ import annotations

import importlib
import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, require_framework

from rmsport.numerics.lr_schedules import lr_sequence, plateau_metrics
from rmsport.tables.schedulers import REQUIRED, SCHEDULERS

pytestmark = pytest.mark.frameworks

STEPS = 50
# The lossless cases whose files define ``make(model) -> (optimizer, scheduler)``; the
# error cases also define ``make`` but are not meant to run.
SCHED_CASES = sorted(
    folder
    for folder in (FIXTURES / "convert").iterdir()
    if (folder / "back.py").is_file() and "def make(" in (folder / "input.py").read_text()
)
# MindSpore keeps learning rates in float32 Parameters and recomputes each one from the
# previous: over 50 steps the recursion drifts a few float32 ulps from float64 (measured
# up to 6e-6 relative for CosineAnnealingLR).
MS_RTOL = 2e-5


@pytest.fixture(autouse=True, scope="module")
def _mindspore_first_division():
    """MindSpore 2.10 under NumPy 2: the first Tensor / float of a process raises SystemError
    (a lazy import of numpy.core.multiarray fails once); later divisions work.  Spend it here."""
    try:
        ms = importlib.import_module("mindspore")
    except ImportError:  # pragma: no cover - require_framework reports it in each test
        return
    try:
        ms.Tensor(1.0, ms.float32) / 3.0
    except SystemError:
        pass


def _signature(cls) -> dict[str, object]:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return {p.name: (REQUIRED if p.default is inspect.Parameter.empty else p.default) for p in params}


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_table_matches_the_real_classes(name: str):
    torch = require_framework("torch")
    ms_sched = require_framework("mindspore.experimental.optim.lr_scheduler")
    sched = SCHEDULERS[name]
    real_torch = _signature(getattr(torch.optim.lr_scheduler, name))
    real_ms = _signature(getattr(ms_sched, name))
    assert list(real_torch) == list(sched.torch)
    assert list(real_ms) == list(sched.mindspore)
    for table, real in ((sched.torch, real_torch), (sched.mindspore, real_ms)):
        for kw, default in table.items():
            if default is REQUIRED:
                assert real[kw] is REQUIRED, kw
            else:
                assert real[kw] == default and real[kw] is not REQUIRED, kw
    # What MindSpore lacks is exactly what the table calls torch-only.
    assert set(real_torch) - set(real_ms) == set(sched.torch_only)


def _ms_net():
    ms = require_framework("mindspore")
    return ms.nn.Dense(2, 3)


def _torch_model():
    torch = require_framework("torch")
    return torch.nn.Linear(2, 3)


def test_mindspore_type_rules_are_real():
    """The rules RMS203 / RMS508 enforce: MindSpore raises where torch does not."""
    torch = require_framework("torch")
    ms_optim = require_framework("mindspore.experimental.optim")
    t_opt = torch.optim.RMSprop(_torch_model().parameters(), lr=0.1)
    m_opt = ms_optim.RMSprop(_ms_net().trainable_params(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.optim.lr_scheduler.StepLR(t_opt, 2, gamma=1)
        torch.optim.lr_scheduler.MultiStepLR(t_opt, (2, 4))
        torch.optim.lr_scheduler.PolynomialLR(t_opt, total_iters=4, power=2)
        torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=4.0)
    for build in (
        lambda: ms_optim.lr_scheduler.StepLR(m_opt, 2, gamma=1),
        lambda: ms_optim.lr_scheduler.ExponentialLR(m_opt, gamma=1),
        lambda: ms_optim.lr_scheduler.PolynomialLR(m_opt, total_iters=4, power=2),
        lambda: ms_optim.lr_scheduler.MultiStepLR(m_opt, (2, 4)),
        lambda: ms_optim.lr_scheduler.CosineAnnealingLR(m_opt, T_max=4.0),
    ):
        with pytest.raises(TypeError):
            build()


def test_torch_cycliclr_moves_rmsprop_momentum_by_default():
    """Why CyclicLR without cycle_momentum=False is RMS506: torch rewrites the optimizer's momentum."""
    torch = require_framework("torch")
    opt = torch.optim.RMSprop(_torch_model().parameters(), lr=0.1, momentum=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.optim.lr_scheduler.CyclicLR(opt, 0.001, 0.01)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.9)


def test_ms_experimental_param_group_lr_assignment():
    """RMS503: a number written into param_groups[i]['lr'] replaces MindSpore's Parameter."""
    ms = require_framework("mindspore")
    ms_optim = require_framework("mindspore.experimental.optim")
    opt = ms_optim.RMSprop(_ms_net().trainable_params(), lr=0.1)
    assert isinstance(opt.param_groups[0]["lr"], ms.Parameter)
    opt.param_groups[0]["lr"] = 0.5
    assert isinstance(opt.param_groups[0]["lr"], float)
    with pytest.raises(AttributeError):
        ms_optim.lr_scheduler.StepLR(opt, 2, 0.5)


# -- the fixtures, executed -------------------------------------------------------


def _framework_of(text: str) -> str:
    return "mindspore" if "mindspore" in text and "torch.optim.RMSprop" not in text else "torch"


def _run(path: Path) -> tuple[str, str, list[float]]:
    """Execute ``make`` from a fixture file on a real model; the first STEPS learning rates."""
    text = path.read_text(encoding="utf-8")
    framework = _framework_of(text)
    namespace: dict = {"__name__": f"fixture_{path.parent.name}"}
    exec(compile(text, str(path), "exec"), namespace)
    model = _ms_net() if framework == "mindspore" else _torch_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer, scheduler = namespace["make"](model)
        kind = type(scheduler).__name__
        metrics = plateau_metrics(STEPS)
        lrs = []
        for t in range(STEPS):
            lr = optimizer.param_groups[0]["lr"]
            lrs.append(float(lr) if framework == "torch" else float(lr.asnumpy()))
            if kind == "ReduceLROnPlateau":
                scheduler.step(metrics[t])
            else:
                scheduler.step()
    return framework, kind, lrs


@pytest.mark.parametrize("folder", SCHED_CASES, ids=lambda p: p.name)
def test_rewritten_scheduler_follows_the_source(folder: Path):
    require_framework("torch")
    require_framework("mindspore")
    src_fw, kind, source = _run(folder / "input.py")
    outputs = [folder / "expected.py"] + ([folder / "back.py"] if (folder / "back.py").is_file() else [])
    for path in outputs:
        fw, kind_out, lrs = _run(path)
        assert kind_out == kind
        assert fw != src_fw if path.name == "expected.py" else fw == src_fw
        # MindSpore keeps learning rates in float32 Parameters.
        np.testing.assert_allclose(lrs, source, rtol=MS_RTOL, atol=0, err_msg=path.name)
    assert len(source) == STEPS


# -- lr_sequence against the live classes -----------------------------------------

LIVE = [
    ("StepLR", {"step_size": 4, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [3, 7, 7, 20], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.93}),
    ("CosineAnnealingLR", {"T_max": 9, "eta_min": 0.001}),
    ("CosineAnnealingWarmRestarts", {"T_0": 4, "T_mult": 2, "eta_min": 0.0005}),
    ("ConstantLR", {"factor": 0.25, "total_iters": 6}),
    ("LinearLR", {"start_factor": 0.2, "end_factor": 0.9, "total_iters": 11}),
    ("PolynomialLR", {"total_iters": 17, "power": 1.5}),
    ("LambdaLR", {"lr_lambda": lambda e: 1.0 / (1.0 + e)}),
    ("MultiplicativeLR", {"lr_lambda": lambda e: 0.95}),
    ("CyclicLR", {"base_lr": 0.001, "max_lr": 0.02, "step_size_up": 6, "step_size_down": 3, "mode": "exp_range",
                  "gamma": 0.97, "cycle_momentum": False}),
    ("ReduceLROnPlateau", {"factor": 0.5, "patience": 2, "cooldown": 1, "min_lr": 0.002}),
]


def _live(framework: str, name: str, kwargs: dict, base_lr: float, metrics: list[float]) -> list[float]:
    if framework == "torch":
        torch = require_framework("torch")
        opt = torch.optim.RMSprop(_torch_model().parameters(), lr=base_lr)
        module = torch.optim.lr_scheduler
    else:
        ms_optim = require_framework("mindspore.experimental.optim")
        opt = ms_optim.RMSprop(_ms_net().trainable_params(), lr=base_lr)
        module = ms_optim.lr_scheduler
        kwargs = {k: v for k, v in kwargs.items() if k != "cycle_momentum"}
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sched = getattr(module, name)(opt, **kwargs)
        for t in range(STEPS):
            lr = opt.param_groups[0]["lr"]
            out.append(float(lr) if framework == "torch" else float(lr.asnumpy()))
            sched.step(metrics[t]) if name == "ReduceLROnPlateau" else sched.step()
    return out


@pytest.mark.parametrize("framework", ["torch", "mindspore"])
@pytest.mark.parametrize(("name", "kwargs"), LIVE, ids=[n for n, _ in LIVE])
def test_lr_sequence_matches_live_classes(framework: str, name: str, kwargs: dict):
    prefix = "torch.optim.lr_scheduler." if framework == "torch" else "mindspore.experimental.optim.lr_scheduler."
    metrics = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7] * 5
    model = lr_sequence(prefix + name, dict(kwargs), STEPS, 0.05, metrics=metrics)
    live = _live(framework, name, dict(kwargs), 0.05, metrics)
    rtol = 1e-12 if framework == "torch" else MS_RTOL
    np.testing.assert_allclose(model, live, rtol=rtol, atol=0)


def test_lr_sequence_sequential_matches_live():
    torch = require_framework("torch")
    opt = torch.optim.RMSprop(_torch_model().parameters(), lr=0.05)
    L = torch.optim.lr_scheduler
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = L.SequentialLR(opt, [L.LinearLR(opt, start_factor=0.3, total_iters=5), L.StepLR(opt, 4, 0.5)], [5])
        live = []
        for _ in range(STEPS):
            live.append(opt.param_groups[0]["lr"])
            s.step()
    model = lr_sequence(
        "torch.optim.lr_scheduler.SequentialLR",
        {
            "schedulers": [
                ("torch.optim.lr_scheduler.LinearLR", {"start_factor": 0.3, "total_iters": 5}),
                ("torch.optim.lr_scheduler.StepLR", {"step_size": 4, "gamma": 0.5}),
            ],
            "milestones": [5],
        },
        STEPS,
        0.05,
    )
    np.testing.assert_allclose(model, live, rtol=1e-12, atol=0)


# -- MindSpore schedules given to nn.RMSProp, rewritten as torch schedulers ----------


def test_mindspore_schedules_become_torch_schedulers_with_the_same_rates():
    """``fixtures/convert/ms_dynamic_lr_to_torch``: every optimizer in input.py (MindSpore,
    ``learning_rate=`` a dynamic-lr function or LearningRateSchedule) and its rewrite in
    expected.py (torch, ``lr=`` plus ``<name>_scheduler``) give the same first 50 rates."""
    ms = require_framework("mindspore")
    require_framework("torch")
    folder = FIXTURES / "convert" / "ms_dynamic_lr_to_torch"
    ms_ns: dict = {"net": _ms_net()}
    torch_ns: dict = {"net": _torch_model()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile((folder / "input.py").read_text(), "input.py", "exec"), ms_ns)
        exec(compile((folder / "expected.py").read_text(), "expected.py", "exec"), torch_ns)
        names = [k for k, v in ms_ns.items() if isinstance(v, ms.nn.RMSProp)]
        assert len(names) >= 10
        for name in names:
            schedule = ms_ns[name].learning_rate  # what nn.RMSProp reads at each global step
            ms_rates = [float(schedule(ms.Tensor(t, ms.int32)).asnumpy()) for t in range(STEPS)]
            optimizer, scheduler = torch_ns[name], torch_ns.get(f"{name}_scheduler")
            torch_rates = []
            for _ in range(STEPS):
                torch_rates.append(optimizer.param_groups[0]["lr"])
                if scheduler is not None:
                    scheduler.step()
            # MindSpore holds the rates in float32.
            np.testing.assert_allclose(torch_rates, ms_rates, rtol=MS_RTOL, atol=1e-9, err_msg=name)
