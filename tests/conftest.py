"""Shared test helpers.

Tests that need the real frameworks call ``require_framework``: on a developer
machine without them they skip, but under CI (``CI`` set, as ``.ci/run`` runs)
a missing framework is a failure, so those tests can never skip silently there.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def require_framework(module: str):
    """Import and return ``module`` (``"torch"`` or ``"mindspore"``)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            pytest.fail(f"{module} must be installed under CI: {exc}")
        pytest.skip(f"{module} is not installed")


def cli() -> list[str]:
    """The command that runs the CLI: the installed script, else ``python -m rmsport``."""
    exe = shutil.which("rmsport", path=os.path.dirname(sys.executable))
    return [exe] if exe else [sys.executable, "-m", "rmsport"]


def run_cli(
    *args: str,
    stdin: bytes | str | None = None,
    cwd: Path | None = None,
    env: dict | None = None,
    text: bool = False,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, capturing both streams."""
    return subprocess.run(
        [*cli(), *args], input=stdin, capture_output=True, cwd=cwd, env=env, text=text, timeout=timeout
    )


def invoke(
    *args: str,
    stdin: bytes | str | None = None,
    cwd: Path | None = None,
    env: dict | None = None,
    text: bool = False,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """Run the CLI in this process with click's CliRunner; same result shape as ``run_cli``.

    For tests where a subprocess adds nothing (no signals, no start-up cost, no
    concurrent runs): about ten times cheaper.  ``timeout`` is accepted for
    symmetry and ignored.
    """
    from click.testing import CliRunner

    from rmsport.cli import main

    old = os.getcwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), input=stdin, env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    out, err = result.stdout_bytes, result.stderr_bytes
    if text:
        return subprocess.CompletedProcess(args, result.exit_code, out.decode(), err.decode())
    return subprocess.CompletedProcess(args, result.exit_code, out, err)
