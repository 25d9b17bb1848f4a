"""Without the frameworks, pytest's own output says why tests skip (issue 14)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

# A plugin that makes torch and mindspore look absent (import fails, find_spec is None).
BLOCKER = """import sys
for name in ("torch", "mindspore"):
    sys.modules[name] = None
"""

TESTS = """from conftest import require_framework


def test_needs_torch():
    require_framework("torch")


def test_needs_mindspore():
    require_framework("mindspore")


def test_needs_torch_too():
    require_framework("torch")


def test_plain():
    assert True
"""


def _pytest(tmp_path: Path, *, blocked: bool, tests: str = TESTS) -> str:
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "hide_frameworks.py").write_text(BLOCKER)
    (tmp_path / "test_sample.py").write_text(tests)
    env = {k: v for k, v in os.environ.items() if k != "CI"}  # under CI they would fail, not skip
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), str(ROOT), env.get("PYTHONPATH", "")])
    plugin = ["-p", "hide_frameworks"] if blocked else []
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "test_sample.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    return result.stdout


def test_summary_says_why_without_dash_rs(tmp_path: Path) -> None:
    out = _pytest(tmp_path, blocked=True)
    assert "1 passed, 3 skipped" in out
    assert (
        "3 tests skipped because mindspore and torch are not installed; "
        "python -m pip install -e '.[frameworks]' installs them"
    ) in out
    header = out.split("collected")[0]
    assert (
        "rmsport: torch and mindspore not installed: tests that need them skip "
        "(install: python -m pip install -e '.[frameworks]'; under CI they fail instead)"
    ) in header
    # the reason sits just above pytest's own count line
    lines = out.strip().splitlines()
    assert "skipped because" in lines[-2]
    assert "3 skipped" in lines[-1]


def test_no_reason_line_when_nothing_skips(tmp_path: Path) -> None:
    out = _pytest(tmp_path, blocked=False, tests="def test_plain():\n    assert True\n")
    assert "skipped because" not in out
    assert "rmsport: torch and mindspore found; framework tests run" in out
