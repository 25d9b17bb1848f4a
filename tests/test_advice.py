"""Wording of the numeric findings (rmsport.numerics.advice) and the --mindspore-device option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke as rmsport

from rmsport.engine.convert import Options, convert_source
from rmsport.numerics import advice
from rmsport.tables.optimizers import APIS, MS_EXPERIMENTAL, MS_NN, TORCH


@pytest.mark.parametrize(
    "value, text",
    [(0.99997, "1.00"), (1.0, "1.00"), (0.00241, "0.00241"), (1234567.0, "1.23e6"), (2.5e-7, "2.50e-7"),
     (0.0, "0"), (float("inf"), "inf"), (123.0, "123")],
)
def test_three_significant_digits_never_a_bare_one(value, text):
    assert advice.sig3(value) == text


@pytest.mark.parametrize("decay, steps", [(0.99, 459), (0.9, 44), (0.5, 7), (0.0, 1), (1.0, None), ("x", None)])
def test_transient_steps(decay, steps):
    assert advice.transient_steps(decay) == steps


def _findings(source: str, **options) -> list:
    return convert_source(source, Options(**options)).findings


def _message(findings, code: str) -> str:
    [finding] = [f for f in findings if f.code == code]
    return finding.message


def test_rms301_names_the_calls_own_decay():
    msg = _message(_findings("import torch\nopt = torch.optim.RMSprop(p, alpha=0.95)\n"), "RMS301")
    assert "tens of steps with alpha 0.95: 0.95**t < 1% after 90" in msg
    msg = _message(_findings("import torch\nopt = torch.optim.RMSprop(p)\n"), "RMS301")
    assert "hundreds of steps with alpha 0.99" in msg  # the source default
    back = _findings("from mindspore import nn\nopt = nn.RMSProp(p, decay=0.0)\n", to="torch")
    assert "the first step only with decay 0.0" in _message(back, "RMS301")


@pytest.mark.parametrize(
    "expr, written",
    [("args.eps", "args.eps ** 2"), ("cfg['eps']", "cfg['eps'] ** 2"), ("a + b", "(a + b) ** 2"),
     ("get_eps()", "get_eps() ** 2"), ("1e-4", "1e-08")],
)
def test_rms213_prints_the_expression_it_writes(expr, written):
    source = f"import torch\nopt = torch.optim.RMSprop(p, eps={expr})\n"
    conversion = convert_source(source, Options(eps_mapping="matched"))
    msg = _message(conversion.findings, "RMS213")
    assert f"written as epsilon={written} " in msg
    # exactly what is written (a non-literal may then be wrapped in float(...), RMS216)
    assert f"epsilon={written}" in conversion.source or f"epsilon=float({written})" in conversion.source


def test_rms302_and_the_cpu_finding_follow_the_device():
    source = "import torch\nopt = torch.optim.RMSprop(p, eps=1e-6)\n"
    ascend = _findings(source)
    assert "--eps-mapping matched keeps the denominator's floor" in _message(ascend, "RMS302")
    assert not [f for f in ascend if f.code == "RMS305"]
    cpu = _findings(source, mindspore_device="cpu")
    assert "--eps-mapping literal is the closer mapping there" in _message(cpu, "RMS302")
    assert "does not follow its documentation" in _message(cpu, "RMS305")
    # experimental has no device-dependent kernel: nothing to say
    exp = _findings(source, target="experimental", mindspore_device="cpu")
    assert not [f for f in exp if f.code in ("RMS302", "RMS305")]


def test_semantic_findings_come_from_the_tables():
    """RMS301-304 appear exactly where the two APIs' semantics differ."""
    for src, dst in ((TORCH, MS_NN), (MS_NN, TORCH), (TORCH, MS_EXPERIMENTAL), (MS_EXPERIMENTAL, TORCH)):
        a, b = APIS[src].semantics, APIS[dst].semantics
        assert advice.eps_alternative_matters(src, dst) == (a.eps_placement != b.eps_placement)
    assert APIS[MS_NN].semantics.state_slots == {"square_avg": "mean_square", "momentum": "moment",
                                                 "grad_avg": "mean_grad"}
    assert APIS[TORCH].semantics.state_slots["momentum"] == "momentum_buffer"
    assert APIS[MS_NN].positive == {"eps", "loss_scale"} and APIS[MS_NN].float_only == {"alpha", "momentum", "eps"}
    assert APIS[MS_EXPERIMENTAL].positive == {"lr", "eps"} and not APIS[TORCH].positive


def test_verification_json_has_noise_floor_and_device(tmp_path: Path):
    path = tmp_path / "a.py"
    path.write_text("import torch\nopt = torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-4)\n")
    for device in ("ascend", "gpu", "cpu"):
        result = rmsport("check", "--verify", "--mindspore-device", device, "--output-format", "json", str(path))
        findings = json.loads(result.stdout)
        [ver] = [f for f in findings if f["code"] == "RMS401"]
        assert ver["verification"]["device"] == device
        assert 0 < ver["verification"]["noise_floor"] < 1e-5
        assert f"on {device}" in ver["message"]
        assert ("RMS305" in {f["code"] for f in findings}) == (device == "cpu")


def test_mindspore_device_in_pyproject(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.rmsport]\nmindspore-device = "cpu"\n')
    path = tmp_path / "a.py"
    path.write_text("import torch\nopt = torch.optim.RMSprop(p)\n")
    result = rmsport("check", "--output-format", "json", str(path), cwd=tmp_path)
    assert "RMS305" in {f["code"] for f in json.loads(result.stdout)}
    (tmp_path / "pyproject.toml").write_text('[tool.rmsport]\nmindspore-device = "tpu"\n')
    bad = rmsport("check", str(path), cwd=tmp_path)
    assert bad.returncode != 0 and b"mindspore" in bad.stderr and b"Traceback" not in bad.stderr
