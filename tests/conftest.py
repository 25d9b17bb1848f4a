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
