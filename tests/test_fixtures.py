"""The before/after pairs in ``fixtures/convert/``: the examples are the tests.

Every folder there is one case (see ``fixtures/convert/README.md``); this module
collects them all, with the folder name as the test id.  For each case: the
forward conversion is byte-exact and reports exactly the expected codes, the
expected output is a fixed point, and lossless cases come back as ``back.py``.
A few cases also go through the real command line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib
from conftest import FIXTURES, run_cli

from rmsport.engine.convert import Options, convert_source

CASES_DIR = FIXTURES / "convert"


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    description: str
    options: Options
    lossless: bool
    expected_codes: frozenset[str]
    back_target: str
    xfail: str | None

    def read(self, filename: str) -> str:
        # newline="" keeps \r\n as written, so the CRLF case is checked byte for byte.
        with open(self.folder / filename, encoding="utf-8", newline="") as fh:
            return fh.read()

    @property
    def back_options(self) -> Options:
        to = "torch" if self.options.to == "mindspore" else "mindspore"
        return Options(to=to, target=self.back_target, eps_mapping=self.options.eps_mapping)


def load_case(folder: Path) -> Case:
    data = tomllib.loads((folder / "case.toml").read_text(encoding="utf-8"))
    opts = data["options"]
    return Case(
        name=folder.name,
        folder=folder,
        description=data["description"],
        options=Options(to=opts["to"], target=opts["target"], eps_mapping=opts["eps_mapping"]),
        lossless=data["lossless"],
        expected_codes=frozenset(data["expected_codes"]),
        back_target=data.get("back_target", "nn"),
        xfail=data.get("xfail"),
    )


CASES = [load_case(folder) for folder in sorted(CASES_DIR.iterdir()) if (folder / "case.toml").is_file()]
LOSSLESS = [case for case in CASES if case.lossless]


def _params(cases: list[Case], *, mark_xfail: bool = False) -> list:
    out = []
    for case in cases:
        marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if mark_xfail and case.xfail else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


def test_there_are_enough_fixtures():
    assert len(CASES) >= 30
    assert {p.name for p in CASES_DIR.iterdir() if p.is_dir()} == {c.name for c in CASES}, "a folder lacks case.toml"


@pytest.mark.parametrize("case", _params(CASES))
def test_fixture_is_complete(case: Case):
    assert case.description.strip()
    assert case.options.to in ("mindspore", "torch")
    assert case.options.target in ("nn", "experimental")
    assert case.options.eps_mapping in ("literal", "matched")
    assert (case.folder / "input.py").is_file()
    assert (case.folder / "expected.py").is_file()
    assert (case.folder / "back.py").is_file() == case.lossless


@pytest.mark.parametrize("case", _params(CASES, mark_xfail=True))
def test_forward(case: Case):
    result = convert_source(case.read("input.py"), case.options, path="input.py")
    assert result.source == case.read("expected.py")
    assert {f.code for f in result.findings} == case.expected_codes
    assert result.changed == (case.read("input.py") != case.read("expected.py"))


@pytest.mark.parametrize("case", _params(CASES))
def test_idempotent(case: Case):
    expected = case.read("expected.py")
    again = convert_source(expected, case.options, path="expected.py")
    assert again.source == expected
    assert not again.changed


@pytest.mark.parametrize("case", _params(LOSSLESS))
def test_back(case: Case):
    result = convert_source(case.read("expected.py"), case.back_options, path="expected.py")
    assert result.source == case.read("back.py")
    assert not any(f.severity == "error" for f in result.findings)


@pytest.mark.parametrize("case", _params(LOSSLESS))
def test_back_is_a_fixed_point(case: Case):
    back = case.read("back.py")
    assert convert_source(back, case.back_options, path="back.py").source == back


# -- the real command line -------------------------------------------------------

CLI_CASES = ["multiline_comments", "crlf", "ms_loss_scale", "target_experimental", "eps_matched"]
FINDING_KEYS = {"path", "line", "column", "end_line", "end_column", "code", "severity", "message"}


def _rmsport(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=cwd, env={**os.environ, "RMSPORT_QUIET": "1"}, text=True)




def _cli_options(options: Options) -> list[str]:
    args = ["--to", options.to, "--eps-mapping", options.eps_mapping]
    if options.to == "mindspore":
        args += ["--target", options.target]
    return args


@pytest.mark.parametrize("case", _params([c for c in CASES if c.name in CLI_CASES]))
def test_cli(case: Case, tmp_path: Path):
    target = tmp_path / "train.py"
    shutil.copyfile(case.folder / "input.py", target)
    opts = _cli_options(case.options)

    # check reports what convert would do, as JSON on stdout, and exits 1.
    before = _rmsport("check", "--output-format", "json", *opts, "train.py", cwd=tmp_path)
    assert before.returncode == 1, before.stderr
    findings = json.loads(before.stdout)
    assert isinstance(findings, list) and findings
    for item in findings:
        assert FINDING_KEYS <= set(item)
        assert item["path"] == "train.py"
        assert all(isinstance(item[k], int) and item[k] >= 1 for k in ("line", "column", "end_line", "end_column"))
        assert item["severity"] in ("info", "warning", "error")
        assert item["message"]
    assert {item["code"] for item in findings} == case.expected_codes
    assert target.read_bytes() == (case.folder / "input.py").read_bytes(), "check must not write"

    converted = _rmsport("convert", *opts, "train.py", cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr
    assert target.read_bytes() == (case.folder / "expected.py").read_bytes()

    after = _rmsport("check", *opts, "train.py", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    after_json = _rmsport("check", "--output-format", "json", *opts, "train.py", cwd=tmp_path)
    assert after_json.returncode == 0, after_json.stderr
    assert json.loads(after_json.stdout) == []
