"""The CLI contract: commands, flags, exit codes, streams (README "Command line")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from conftest import invoke as rmsport
from conftest import run_cli

TORCH_SRC = """import torch

model = torch.nn.Linear(2, 3)
opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0)
"""

BLOCKED_SRC = """import torch

opt = torch.optim.RMSprop(model.parameters(), maximize=True)
"""




@pytest.fixture
def torch_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(TORCH_SRC)
    return path


def test_check_exit_1_and_never_writes(torch_file: Path):
    result = rmsport("check", str(torch_file))
    assert result.returncode == 1
    assert torch_file.read_text() == TORCH_SRC
    assert result.stdout == b""  # text findings go to stderr
    assert b"RMS101" in result.stderr


def test_convert_then_check_is_clean(torch_file: Path):
    assert rmsport("convert", str(torch_file)).returncode == 0
    converted = torch_file.read_text()
    # past 88 characters on one line, so broken one argument per line (issue 14)
    assert "nn.RMSProp(\n    params=model.trainable_params(),\n    learning_rate=0.01,\n    momentum=0.0," in converted
    assert "    decay=0.99,\n    epsilon=1e-08,\n)" in converted
    result = rmsport("check", str(torch_file))
    assert result.returncode == 0, result.stderr
    assert rmsport("convert", str(torch_file)).returncode == 0
    assert torch_file.read_text() == converted  # idempotent


def test_diff_on_stdout_does_not_write(torch_file: Path):
    result = rmsport("check", "--diff", "-q", str(torch_file))
    assert result.returncode == 1
    out = result.stdout.decode()
    assert out.startswith("--- a/")
    assert "+opt = nn.RMSProp(" in out
    assert torch_file.read_text() == TORCH_SRC
    result = rmsport("convert", "--diff", str(torch_file))
    assert result.returncode == 0
    assert torch_file.read_text() == TORCH_SRC


def test_json_findings_fields(torch_file: Path):
    result = rmsport("check", "--output-format", "json", str(torch_file))
    findings = json.loads(result.stdout)
    assert isinstance(findings, list) and findings
    for finding in findings:
        assert {"path", "line", "column", "end_line", "end_column", "code", "severity", "message"} <= set(finding)
        assert finding["severity"] in ("error", "warning", "info")
    codes = {f["code"] for f in findings}
    assert {"RMS101", "RMS201", "RMS203", "RMS212", "RMS301", "RMS302", "RMS303"} <= codes
    call = next(f for f in findings if f["code"] == "RMS101")
    assert (call["line"], call["column"], call["end_line"]) == (4, 7, 4)


def test_error_finding_exits_1_and_leaves_call(tmp_path: Path):
    path = tmp_path / "a.py"
    path.write_text(BLOCKED_SRC)
    result = rmsport("convert", "--output-format", "json", str(path))
    assert result.returncode == 1
    assert path.read_text() == BLOCKED_SRC
    assert [f["code"] for f in json.loads(result.stdout)] == ["RMS206"]


def test_unparsable_file_is_123_and_others_still_processed(tmp_path: Path):
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nopt = torch.optim.RMSprop(\n")
    good = tmp_path / "good.py"
    good.write_text(TORCH_SRC)
    result = rmsport("convert", str(bad), str(good))
    assert result.returncode == 123
    err = result.stderr.decode()
    assert "bad.py" in err and "RMS001" in err
    assert "Traceback" not in err
    assert "nn.RMSProp" in good.read_text()
    assert bad.read_text() == "import torch\nopt = torch.optim.RMSprop(\n"


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["convert", "--to", "tensorflow", "x.py"], id="bad-choice"),
        pytest.param(["convert", "does-not-exist.py"], id="missing-path"),
        pytest.param(["frobnicate"], id="unknown-command"),
        pytest.param(["check", "--to", "torch", "--target", "experimental", "."], id="experimental-needs-mindspore"),
    ],
)
def test_usage_errors_exit_2(args, tmp_path: Path):
    result = rmsport(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr


def test_stdin_convert_writes_stdout():
    result = rmsport("convert", "-", stdin=TORCH_SRC.encode())
    assert result.returncode == 0
    assert b"nn.RMSProp(params=model.trainable_params()" in result.stdout


def test_stdin_unparsable_echoes_input():
    src = b"def broken(:\n    torch.optim.RMSprop(p)\n"
    result = rmsport("convert", "-", stdin=src)
    assert result.returncode == 123
    assert result.stdout == src
    assert b"RMS001" in result.stderr


def test_to_torch_round_trip(torch_file: Path):
    assert rmsport("convert", str(torch_file)).returncode == 0
    assert rmsport("convert", "--to", "torch", str(torch_file)).returncode == 0
    back = torch_file.read_text()
    assert (
        "torch.optim.RMSprop(\n    params=model.parameters(),\n    lr=0.01,\n    momentum=0.0,\n"
        "    alpha=0.99,\n    eps=1e-08,\n)"
    ) in back
    assert "mindspore" not in back


def test_verify_field_and_experimental_target(torch_file: Path):
    result = rmsport("check", "--verify", "--output-format", "json", str(torch_file))
    [ver] = [f for f in json.loads(result.stdout) if f["code"] == "RMS401"]
    assert set(ver["verification"]) == {  # noise_floor and device: issue 9
        "verdict", "max_abs_diff", "max_rel_diff", "first_divergent_step", "steps", "noise_floor", "device",
    }
    assert ver["verification"]["device"] == "ascend"
    assert ver["verification"]["verdict"] == "divergent"
    assert "--target experimental" in ver["message"]
    result = rmsport("check", "--verify", "--target", "experimental", "--output-format", "json", str(torch_file))
    [ver] = [f for f in json.loads(result.stdout) if f["code"] == "RMS401"]
    assert ver["verification"]["verdict"] == "equivalent"
    assert ver["verification"]["first_divergent_step"] is None


def test_eps_mapping_matched(tmp_path: Path):
    path = tmp_path / "a.py"
    path.write_text("import torch\nopt = torch.optim.RMSprop(p, eps=1e-5)\n")
    rmsport("convert", "--eps-mapping", "matched", str(path))
    assert "epsilon=1e-10" in path.read_text()
    rmsport("convert", "--to", "torch", "--eps-mapping", "matched", str(path))
    assert "eps=1e-05" in path.read_text()


def test_compare_prints_chart_and_verdict():
    result = rmsport("compare", "torch.optim.RMSprop(p, lr=0.01)")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "nn.RMSProp(params=p, learning_rate=0.01, decay=0.99, epsilon=1e-08)" in out
    assert "verdict: divergent" in out
    result = rmsport("compare", "torch.optim.RMSprop(p, lr=0.01)", "--target", "experimental")
    assert "verdict: equivalent" in result.stdout.decode()


def test_compare_plot_writes_png(tmp_path: Path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "cmp.png"
    result = rmsport("compare", "nn.RMSProp(p, learning_rate=0.1)", "--plot", str(png))
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_compare_rejects_non_call():
    result = rmsport("compare", "print(1)")
    assert result.returncode == 2
    assert b"Traceback" not in result.stderr


def test_version_and_help_do_not_import_heavy_modules():
    code = (
        "import sys, rmsport.cli as c\n"
        "from click.testing import CliRunner\n"
        "r = CliRunner().invoke(c.main, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('libcst', 'numpy', 'rich') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
    result = rmsport("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("rmsport ")


def test_directory_walk_and_pyproject_config(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.rmsport]\ntarget = "experimental"\nextend-exclude = ["legacy/"]\n')
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text(TORCH_SRC)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(TORCH_SRC)
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "lib.py").write_text(TORCH_SRC)
    result = rmsport("convert", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "optim.RMSprop(params=model.trainable_params()" in (tmp_path / "src" / "a.py").read_text()
    assert "mindspore.experimental" in (tmp_path / "src" / "a.py").read_text()
    assert (tmp_path / "legacy" / "old.py").read_text() == TORCH_SRC
    assert (tmp_path / ".venv" / "lib.py").read_text() == TORCH_SRC
    # the command line wins over the file
    (tmp_path / "legacy" / "old.py").write_text(TORCH_SRC)
    rmsport("convert", "--target", "nn", "legacy/old.py", cwd=tmp_path)
    assert "nn.RMSProp(" in (tmp_path / "legacy" / "old.py").read_text()


@pytest.mark.parametrize("fmt,needle", [("github", b"::notice file="), ("sarif", b'"version": "2.1.0"')])
def test_ci_output_formats(torch_file: Path, fmt: str, needle: bytes):
    result = rmsport("check", "--output-format", fmt, str(torch_file))
    assert result.returncode == 1
    assert needle in result.stdout


def test_example_in_readme_converts():
    example = ROOT / "examples" / "train_torch.py"
    result = rmsport("check", "--diff", "-q", str(example))
    assert result.returncode == 1
    assert b"+    return mindspore.nn.RMSProp(" in result.stdout


def test_verify_says_which_eps_mapping_is_closer(tmp_path: Path):
    path = tmp_path / "a.py"
    path.write_text("import torch\nopt = torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-2)\n")
    result = rmsport("check", "--verify", "--output-format", "json", str(path))
    [ver] = [f for f in json.loads(result.stdout) if f["code"] == "RMS401"]
    assert "--eps-mapping matched would give max rel diff" in ver["message"]
    assert "(closer)" in ver["message"]
    result = rmsport("check", "--verify", "--eps-mapping", "matched", "--output-format", "json", str(path))
    [ver2] = [f for f in json.loads(result.stdout) if f["code"] == "RMS401"]
    assert "--eps-mapping literal would give" in ver2["message"] and "(further)" in ver2["message"]
    assert ver2["verification"]["max_rel_diff"] < ver["verification"]["max_rel_diff"]


def test_stdin_convert_keeps_machine_output_off_stdout():
    result = rmsport("convert", "--output-format", "json", "-", stdin=TORCH_SRC.encode())
    assert result.returncode == 0
    compile(result.stdout, "stdout", "exec")  # only the converted code
    findings = json.loads(result.stderr.decode().split("\n1 file")[0])
    assert any(f["code"] == "RMS101" for f in findings)


def test_real_process_convert_then_check(torch_file: Path):
    """Most tests here run in-process (CliRunner); this one goes through the installed script."""
    converted = run_cli("convert", str(torch_file))
    assert converted.returncode == 0, converted.stderr
    assert "mindspore" in torch_file.read_text()
    checked = run_cli("check", str(torch_file))
    assert checked.returncode == 0, checked.stderr
    assert b"Traceback" not in converted.stderr + checked.stderr
