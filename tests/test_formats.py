"""Output formats: JSON, GitHub workflow commands, SARIF 2.1.0, text."""

from __future__ import annotations

import io
import json
import re

import pytest
from rich.console import Console

from rmsport.findings import CODES, Finding
from rmsport.cli.formats import (
    SARIF_SCHEMA,
    display_path,
    format_github,
    format_json,
    format_sarif,
    print_text,
    sorted_findings,
)

VERIFICATION = {"verdict": "differs", "max_abs_diff": 0.25, "steps": 10}

FINDINGS = [
    Finding("src/train.py", 12, 7, 12, 48, "RMS101", "torch.optim.RMSprop -> mindspore.nn.RMSProp"),
    Finding("src/train.py", 12, 7, 12, 48, "RMS301", "square average starts at 1"),
    Finding("src/train.py", 30, 1, 31, 2, "RMS205", "eps=0: epsilon must be > 0"),
    Finding("nb.ipynb", 2, 5, 2, 30, "RMS101", "call rewritten", cell=3),
    Finding("src/train.py", 12, 7, 12, 48, "RMS401", "verified", severity="warning", verification=VERIFICATION),
]


def test_json_is_flat_list_of_dicts() -> None:
    data = json.loads(format_json(FINDINGS))
    assert data == [finding.to_dict() for finding in FINDINGS]
    assert data[3]["cell"] == 3 and "cell" not in data[0]
    assert data[4]["verification"] == VERIFICATION and "verification" not in data[0]


def test_json_empty_and_unicode() -> None:
    assert format_json([]) == "[]\n"
    text = format_json([Finding("ü.py", 1, 1, 1, 2, "RMS101", "ε → eps")])
    assert "ε → eps" in text and text.endswith("\n")


def test_github_commands() -> None:
    assert format_github(FINDINGS).splitlines() == [
        "::notice file=src/train.py,line=12,col=7,endLine=12,endColumn=48,title=RMS101::"
        "torch.optim.RMSprop -> mindspore.nn.RMSProp",
        "::warning file=src/train.py,line=12,col=7,endLine=12,endColumn=48,title=RMS301::square average starts at 1",
        "::error file=src/train.py,line=30,col=1,endLine=31,endColumn=2,title=RMS205::eps=0: epsilon must be > 0",
        "::notice file=nb.ipynb,line=2,col=5,endLine=2,endColumn=30,title=RMS101 (cell 3)::call rewritten",
        "::warning file=src/train.py,line=12,col=7,endLine=12,endColumn=48,title=RMS401::verified",
    ]


@pytest.mark.parametrize(
    ("path", "message", "expected"),
    [
        pytest.param("a.py", "100% off\r\nnext", "::error file=a.py,", id="data-percent-newlines"),
        pytest.param("we:ird,name.py", "m", "::error file=we%3Aird%2Cname.py,", id="property-colon-comma"),
        pytest.param("50%.py", "m", "::error file=50%25.py,", id="property-percent"),
    ],
)
def test_github_escaping(path: str, message: str, expected: str) -> None:
    output = format_github([Finding(path, 1, 1, 1, 2, "RMS205", message)])
    assert output.startswith(expected)
    assert output.count("\n") == 1  # one command per line, whatever the message holds
    if message.startswith("100%"):
        assert output.endswith("::100%25 off%0D%0Anext\n")


def test_sarif_structure() -> None:
    log = json.loads(format_sarif(FINDINGS, tool_version="1.2.3"))
    assert log["$schema"] == SARIF_SCHEMA
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "rmsport"
    assert driver["version"] == "1.2.3"
    assert driver["informationUri"].startswith("https://")
    assert run["columnKind"] == "unicodeCodePoints"
    assert [rule["id"] for rule in driver["rules"]] == ["RMS101", "RMS205", "RMS301", "RMS401"]
    assert driver["rules"][1] == {
        "id": "RMS205",
        "shortDescription": {"text": CODES["RMS205"][1]},
        "defaultConfiguration": {"level": "error"},
    }
    assert [rule["defaultConfiguration"]["level"] for rule in driver["rules"]] == ["note", "error", "warning", "note"]

    results = run["results"]
    assert len(results) == len(FINDINGS)
    for result, finding in zip(results, FINDINGS, strict=True):
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"] == finding.code
        assert result["message"] == {"text": finding.message}
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": finding.path}
        assert physical["region"] == {
            "startLine": finding.line,
            "startColumn": finding.column,
            "endLine": finding.end_line,
            "endColumn": finding.end_column,
        }
    assert [result["level"] for result in results] == ["note", "warning", "error", "note", "warning"]
    assert "properties" not in results[0]
    assert results[3]["properties"] == {"cell": 3}
    assert results[4]["properties"] == {"verification": VERIFICATION}


def test_sarif_required_fields_only_known_keys() -> None:
    # Hand-checked subset of the SARIF 2.1.0 schema (no schema file offline):
    # the property names the schema allows on each object we emit.
    log = json.loads(format_sarif(FINDINGS, tool_version="0"))
    allowed = {
        "log": {"$schema", "version", "runs"},
        "run": {"tool", "results", "columnKind"},
        "driver": {"name", "informationUri", "version", "rules"},
        "rule": {"id", "shortDescription", "defaultConfiguration"},
        "result": {"ruleId", "ruleIndex", "level", "message", "locations", "properties"},
        "region": {"startLine", "startColumn", "endLine", "endColumn"},
    }
    assert set(log) <= allowed["log"]
    run = log["runs"][0]
    assert set(run) <= allowed["run"]
    assert set(run["tool"]["driver"]) <= allowed["driver"]
    for rule in run["tool"]["driver"]["rules"]:
        assert set(rule) <= allowed["rule"]
        assert re.fullmatch(r"RMS\d{3}", rule["id"])
    levels = {"none", "note", "warning", "error"}
    for result in run["results"]:
        assert set(result) <= allowed["result"]
        assert result["level"] in levels
        region = result["locations"][0]["physicalLocation"]["region"]
        assert set(region) <= allowed["region"]
        assert all(isinstance(value, int) and value >= 1 for value in region.values())


def test_sarif_empty_run_and_uri_encoding(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    empty = json.loads(format_sarif([], tool_version="0"))
    assert empty["runs"][0]["results"] == [] and empty["runs"][0]["tool"]["driver"]["rules"] == []
    finding = Finding(str(tmp_path / "my dir" / "a.py"), 1, 1, 1, 2, "RMS101", "m")
    log = json.loads(format_sarif([finding], tool_version="0"))
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20dir/a.py"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("src/a.py", "src/a.py", id="relative"),
        pytest.param("<stdin>", "<stdin>", id="stdin"),
        pytest.param("{cwd}/pkg/m.py", "pkg/m.py", id="absolute-under-cwd"),
        pytest.param("/elsewhere/m.py", "/elsewhere/m.py", id="absolute-outside"),
    ],
)
def test_display_path(tmp_path, monkeypatch, path: str, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert display_path(path.format(cwd=tmp_path)) == expected


def test_sorted_findings() -> None:
    ordered = sorted_findings(FINDINGS)
    assert [(f.path, f.cell, f.line, f.code) for f in ordered] == [
        ("nb.ipynb", 3, 2, "RMS101"),
        ("src/train.py", None, 12, "RMS101"),
        ("src/train.py", None, 12, "RMS301"),
        ("src/train.py", None, 12, "RMS401"),
        ("src/train.py", None, 30, "RMS205"),
    ]


def render(findings, monkeypatch, *, terminal: bool, no_color: bool = False) -> str:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=30)
    print_text(console, findings)
    return buffer.getvalue()


def test_text_plain_when_not_a_terminal(monkeypatch) -> None:
    assert render(FINDINGS[2:4], monkeypatch, terminal=False) == (
        "src/train.py:30:1: RMS205 [error] eps=0: epsilon must be > 0\n"
        "nb.ipynb[cell 3]:2:5: RMS101 [info] call rewritten\n"
    )


def test_text_markup_in_messages_is_literal(monkeypatch) -> None:
    finding = Finding("a.py", 1, 1, 1, 2, "RMS204", "lr=[bold]x[/bold] is not a float")
    assert (
        render([finding], monkeypatch, terminal=False)
        == "a.py:1:1: RMS204 [warning] lr=[bold]x[/bold] is not a float\n"
    )


def test_text_coloured_on_a_terminal(monkeypatch) -> None:
    output = render(FINDINGS[2:3], monkeypatch, terminal=True)
    assert "\x1b[1;31mRMS205\x1b[0m" in output  # bold red error
    assert re.sub(r"\x1b\[[0-9;]*m", "", output) == "src/train.py:30:1: RMS205 [error] eps=0: epsilon must be > 0\n"


def test_text_honours_no_color(monkeypatch) -> None:
    output = render(FINDINGS, monkeypatch, terminal=True, no_color=True)
    colours = re.findall(r"\x1b\[([0-9;]*)m", output)
    assert colours  # bold is still allowed by https://no-color.org
    assert all(not re.search(r"(^|;)(3[0-7]|9[0-7]|38)(;|$)", code) for code in colours)
