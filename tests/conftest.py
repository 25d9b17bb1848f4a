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


@pytest.fixture(autouse=True)
def _private_result_cache(tmp_path_factory, monkeypatch):
    """Each test gets an empty result cache of its own (rmsport/cli/cache.py): a
    result cached by one test must never answer another, and no test writes into
    the user's cache folder.  tests/test_cache.py tests the cache itself."""
    monkeypatch.setenv("RMSPORT_CACHE_DIR", str(tmp_path_factory.mktemp("rmsport-cache")))
    monkeypatch.delenv("RMSPORT_NO_CACHE", raising=False)


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


# Why framework tests skip, said where a reader looks: the header at the top and
# a line just above pytest's own "N skipped" summary (no -rs needed).
_FRAMEWORKS = ("torch", "mindspore")
_INSTALL_HINT = "python -m pip install -e '.[frameworks]'"
_SKIP_SUFFIX = " is not installed"


def pytest_report_header(config) -> str:
    import importlib.util

    # find_spec does not import: the header costs nothing when they are present
    missing = [name for name in _FRAMEWORKS if importlib.util.find_spec(name) is None]
    if not missing:
        return "rmsport: torch and mindspore found; framework tests run"
    return (
        f"rmsport: {' and '.join(missing)} not installed: tests that need them skip "
        f"(install: {_INSTALL_HINT}; under CI they fail instead)"
    )


def _framework_skips(terminalreporter) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        reason = reason.removeprefix("Skipped: ")
        if reason.endswith(_SKIP_SUFFIX):
            name = reason[: -len(_SKIP_SUFFIX)]
            counts[name] = counts.get(name, 0) + 1
    return counts


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    counts = _framework_skips(terminalreporter)
    if not counts:
        return
    total = sum(counts.values())
    names = " and ".join(sorted(counts))
    terminalreporter.write_line(
        f"{total} test{'s' if total != 1 else ''} skipped because {names} "
        f"{'is' if len(counts) == 1 else 'are'} not installed; {_INSTALL_HINT} installs them",
        yellow=True,
    )
