"""Issue 10, hardening round two: hostile inputs end in a finding or one clear
line with a defined exit code, never a hang, a traceback, or a changed byte the
user did not ask for.  Subprocess-heavy tests carry the ``slow`` marker."""

from __future__ import annotations

import ast
import time

import pytest

from click.testing import CliRunner

from rmsport.cli import main
from rmsport.engine.convert import convert_source
from rmsport.engine.literals import MAX_INT_BITS, NOT_LITERAL, literal_value
from rmsport.options import Options


@pytest.fixture
def run():
    """The CLI in-process (click's runner): fast, for everything but signals and limits."""

    def invoke(*args: str, stdin: str | bytes | None = None):
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    return invoke


def _value(text: str) -> object:
    return literal_value(ast.parse(text, mode="eval").body)


# -- literal folding is bounded by the size of what it builds ------------------


@pytest.mark.parametrize(
    "text",
    [
        "((((9**64)**64)**64)**64)**64",
        "(10**64)**64",
        "(2**64)**64 * (2**64)**64",
        "1e999",
        "10**400",
        "1e300 * 1e300",
        "(-1) ** 0.5",
        "-(((7**64)**64)**64)",
    ],
)
def test_values_too_large_to_evaluate_are_not_literal(text):
    started = time.perf_counter()
    assert _value(text) is NOT_LITERAL
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    "text, value", [("10**-8", 1e-08), ("2**10", 1024), ("1e-3 * 2", 0.002), ("(2**16)**16", 2**256), ("-0.5", -0.5)]
)
def test_ordinary_arithmetic_still_folds(text, value):
    assert _value(text) == value


def test_the_bound_is_a_float_s_range():
    assert _value("(2**32)**31") == 2**992
    assert (2**992).bit_length() <= MAX_INT_BITS
    assert _value("(2**32)**32") is NOT_LITERAL  # 2**1024 overflows a float


def test_check_on_a_literal_blow_up_returns_at_once():
    source = "import torch\nopt = torch.optim.RMSprop(p, lr=((((9**64)**64)**64)**64)**64)\n"
    started = time.perf_counter()
    result = convert_source(source, Options(verify=True))
    assert time.perf_counter() - started < 5
    assert result.changed
    assert any(f.code == "RMS401" and "unverifiable" in f.message for f in result.findings)


# -- a bad value costs its call, not the file -----------------------------------


def test_complex_sqrt_in_one_call_leaves_the_others_converted():
    source = (
        "import mindspore.nn as nn\n"
        "opt = nn.RMSProp(p, epsilon=-1)\n"
        "opt2 = nn.RMSProp(p, learning_rate=0.1)\n"
    )
    result = convert_source(source, Options(to="torch", eps_mapping="matched"))
    bad = [f for f in result.findings if f.line == 2]
    assert [f.code for f in bad if f.severity == "error"] in (["RMS002"], ["RMS205"])
    assert "nn.RMSProp(p, epsilon=-1)" in result.source
    assert "torch.optim.RMSprop(" in result.source.splitlines()[-1]


def test_overflow_while_verifying_one_call_leaves_the_others_converted(monkeypatch):
    from rmsport.numerics import verify as verify_module

    real = verify_module.verify

    def flaky(src_api, src_kwargs, dst_api, dst_kwargs):
        if src_kwargs.get("lr") == 0.5:
            raise OverflowError("int too large to convert to float")
        return real(src_api, src_kwargs, dst_api, dst_kwargs)

    monkeypatch.setattr(verify_module, "verify", flaky)
    source = "import torch\na = torch.optim.RMSprop(p, lr=0.5)\nb = torch.optim.RMSprop(p, lr=0.1)\n"
    result = convert_source(source, Options(verify=True))
    errors = [f for f in result.findings if f.severity == "error"]
    assert [(f.line, f.code) for f in errors] == [(2, "RMS002")]
    assert "too large" in errors[0].message
    lines = result.source.splitlines()
    assert "torch.optim.RMSprop(p, lr=0.5)" in lines[-2]
    assert "RMSProp(" in lines[-1]


def test_huge_lr_with_verify_is_a_finding_not_an_internal_error(run):
    source = "import torch\nopt = torch.optim.RMSprop(p, lr=(10**64)**64)\nopt2 = torch.optim.RMSprop(p, lr=0.1)\n"
    result = run("check", "--verify", "-", stdin=source)
    assert result.exit_code in (0, 1), result.output
    assert "internal error" not in result.output
    assert "Traceback" not in result.output


# -- [tool.rmsport] problems: exit 2, one line naming the file and the key --------


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"tool = 3\n", "[tool] must be a table"),
        (b"[tool]\nrmsport = 3\n", "[tool.rmsport] must be a table"),
        (b'[tool.rmsport]\nto = "jax"\n', "[tool.rmsport] to: 'jax' is not one of"),
        (b"[tool.rmsport]\njobs = 0\n", "[tool.rmsport] jobs: must be a whole number"),
        (b"[tool.rmsport]\n# caf\xe9\n", "cannot decode as UTF-8"),
        (b"[tool.rmsport\n", "invalid TOML"),
    ],
)
def test_config_problems_exit_2_naming_file_and_key(tmp_path, monkeypatch, run, content, needle):
    (tmp_path / "pyproject.toml").write_bytes(content)
    (tmp_path / "train.py").write_text("import torch\nopt = torch.optim.RMSprop(p, lr=0.1)\n")
    monkeypatch.chdir(tmp_path)
    result = run("check", "train.py")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert str(tmp_path / "pyproject.toml") in lines[0]
    assert needle in lines[0]
    assert "PATHS" not in lines[0] and "Traceback" not in result.output
