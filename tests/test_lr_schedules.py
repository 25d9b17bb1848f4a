"""``rmsport.reference.lr_sequence`` against recordings of the real schedulers, and ``--verify`` on them.

The recordings in ``fixtures/schedules/`` were made by ``scripts/record_schedules.py``
with torch 2.13 and MindSpore 2.10 (``tests/test_schedulers.py`` also compares with the
live classes).  MindSpore computes in float32 and recomputes each rate from the
previous one, so its recordings match the float64 model to a few float32 ulps.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES

from rmsport.engine.convert import Options, convert_source
from rmsport.numerics.lr_schedules import compare_sequences, lr_sequence
from rmsport.reference import lr_sequence as exported

RECORDINGS = sorted((FIXTURES / "schedules").glob("*.json"))


def test_every_class_is_recorded_in_both_frameworks():
    names = {p.name.split("__")[0] + "." + p.name.split("__")[1] for p in RECORDINGS}
    for fn in ("piecewise_constant_lr", "exponential_decay_lr", "natural_exp_decay_lr", "inverse_decay_lr",
               "cosine_decay_lr", "polynomial_decay_lr", "warmup_lr", "ExponentialDecayLR", "NaturalExpDecayLR",
               "InverseDecayLR", "CosineDecayLR", "PolynomialDecayLR", "WarmUpLR"):
        assert f"mindspore.nn.{fn}" in names, fn
    for cls in ("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
                "ConstantLR", "LinearLR", "PolynomialLR", "CyclicLR", "ReduceLROnPlateau", "SequentialLR"):
        assert f"torch.{cls}" in names and f"mindspore.{cls}" in names, cls


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.stem)
def test_lr_sequence_matches_recording(path: Path):
    record = json.loads(path.read_text(encoding="utf-8"))
    model = lr_sequence(record["api"], record["kwargs"], record["steps"], record["base_lr"], metrics=record["metrics"])
    # torch and MindSpore's dynamic-lr functions compute in Python floats; the
    # experimental schedulers and the LearningRateSchedule classes in float32.
    python_floats = record["api"].startswith("torch.") or record["api"].rsplit(".", 1)[1][0].islower()
    rtol = 1e-12 if python_floats else 2e-5
    np.testing.assert_allclose(model, record["lrs"], rtol=rtol, atol=0)


def test_reference_exports_lr_sequence():
    assert exported is lr_sequence


def test_lr_sequence_shapes_and_first_value():
    lrs = lr_sequence("torch.optim.lr_scheduler.StepLR", {"step_size": 3, "gamma": 0.5}, 7, 0.1)
    assert lrs.dtype == np.float64 and lrs.shape == (7,)
    assert list(lrs) == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    # LinearLR and ConstantLR scale the very first rate, at construction.
    assert lr_sequence("torch.optim.lr_scheduler.ConstantLR", {}, 1, 0.3)[0] == pytest.approx(0.1)
    assert len(lr_sequence("torch.optim.lr_scheduler.ExponentialLR", {"gamma": 0.5}, 0, 0.1)) == 0


@pytest.mark.parametrize(
    ("api", "kwargs", "message"),
    [
        ("torch.optim.lr_scheduler.OneCycleLR", {"max_lr": 0.1}, "no learning-rate model"),
        ("torch.optim.lr_scheduler.StepLR", {"step_size": 2, "last_epoch": 3}, "fresh scheduler"),
        ("torch.optim.lr_scheduler.ReduceLROnPlateau", {}, "metrics"),
        ("torch.optim.lr_scheduler.ReduceLROnPlateau", {"factor": 1.5}, "Factor"),
    ],
)
def test_lr_sequence_rejects(api: str, kwargs: dict, message: str):
    with pytest.raises(ValueError, match=message):
        lr_sequence(api, kwargs, 10, 0.1)


def test_compare_sequences_reports_first_differing_step():
    a = np.array([0.1, 0.1, 0.05, 0.05])
    same = compare_sequences(a, a.copy())
    assert same["verdict"] == "equivalent" and same["first_divergent_step"] is None and same["steps"] == 4
    b = a.copy()
    b[2] = 0.06
    diff = compare_sequences(a, b)
    assert diff["verdict"] == "divergent"
    assert diff["first_divergent_step"] == 3
    assert math.isclose(diff["max_abs_diff"], 0.01)


def _verify(source: str, **options) -> list[dict]:
    result = convert_source(source, Options(verify=True, **options), path="t.py")
    return [f.to_dict() for f in result.findings if f.code == "RMS401"]


def test_verify_on_scheduler_rewrite_both_ways():
    torch_src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(model.parameters(), lr=0.05)\n"
        "sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2)\n"
    )
    found = _verify(torch_src, target="experimental")
    assert [f["line"] for f in found] == [2, 3]
    sched = found[1]
    assert sched["verification"]["verdict"] == "equivalent"
    assert sched["verification"]["steps"] == 300
    assert "lr_scheduler.CosineAnnealingWarmRestarts" in sched["message"]
    ms_src = (
        "from mindspore.experimental import optim\n"
        "opt = optim.RMSprop(net.trainable_params(), lr=0.05)\n"
        "sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)\n"
    )
    found = _verify(ms_src, to="torch")
    assert found[1]["verification"]["verdict"] == "equivalent"


def test_verify_scheduler_with_lambda_is_unverifiable():
    src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(model.parameters())\n"
        "sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.9 ** e)\n"
    )
    found = _verify(src, target="experimental")
    assert found[1]["verification"]["verdict"] == "unverifiable"
    assert "lr_lambda" in found[1]["message"]


def test_readme_scheduler_table_names_every_class():
    from conftest import ROOT

    from rmsport.tables.schedulers import SCHEDULERS, TORCH_ONLY_CLASSES

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The optimizer's life") : readme.index("## Notebooks")]
    for name in SCHEDULERS:
        assert f"`{name}`" in section, name
    for name in TORCH_ONLY_CLASSES:
        assert f"`{name}`" in section, name


def test_verify_simulates_the_optimizer_with_its_schedulers_rates():
    """With one literal scheduler on it, the optimizer's RMS401 runs on each side's per-step rates,
    once ``simulate`` takes per-step rates for torch too; until then on the constant lr."""
    from rmsport.numerics.lr_schedules import per_step_lr_supported

    src = (
        "import torch\n"
        "opt = torch.optim.RMSprop(model.parameters(), lr=0.05)\n"
        "sched = torch.optim.lr_scheduler.StepLR(opt, 10, 0.5)\n"
    )
    result = convert_source(src, Options(target="experimental", verify=True), path="t.py")
    optimizer = next(c.plan for c in result.calls if c.plan.src.qualname == "torch.optim.RMSprop")
    if per_step_lr_supported():
        expected = lr_sequence("torch.optim.lr_scheduler.StepLR", {"step_size": 10, "gamma": 0.5}, 300, 0.05)
        assert optimizer.src_kwargs["lr"] == list(expected)
        assert optimizer.dst_kwargs["lr"] == list(expected)
    else:
        assert optimizer.src_kwargs["lr"] == 0.05
    finding = [f for f in result.findings if f.code == "RMS401" and f.line == 2][0]
    assert finding.verification["verdict"] == "equivalent"


def test_verify_of_a_mindspore_schedule_rewritten_for_torch():
    from rmsport.numerics.lr_schedules import per_step_lr_supported

    src = (
        "from mindspore import nn\n"
        "opt = nn.RMSProp(net.trainable_params(), learning_rate=nn.exponential_decay_lr(0.1, 0.9, 40, 4, 1, True))\n"
    )
    result = convert_source(src, Options(to="torch", verify=True), path="t.py")
    finding = [f for f in result.findings if f.code == "RMS401"][0]
    if per_step_lr_supported():
        # nn.RMSProp's own drift (square average starting at 1) shows, over the list's 40 steps.
        assert finding.verification["steps"] == 40
        assert finding.verification["verdict"] == "divergent"
    else:
        assert finding.verification["verdict"] == "unverifiable"
        assert "learning_rate=nn.exponential_decay_lr" in finding.message
