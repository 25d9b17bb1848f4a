"""Output formats for findings: text (rich), JSON, GitHub workflow commands, SARIF.

All machine formats are pure functions ``findings -> str`` so they can be tested
byte for byte; only :func:`print_text` touches a console.  Paths are written as
relative POSIX paths when they lie under the current folder, so the output of a
run on Windows and on Linux is the same and code-scanning tools can resolve them.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from ..findings import CODES, ERROR, INFO, WARNING, Finding

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/rmsport/rmsport"

_GITHUB_COMMAND = {ERROR: "error", WARNING: "warning", INFO: "notice"}
_SARIF_LEVEL = {ERROR: "error", WARNING: "warning", INFO: "note"}
_TEXT_STYLE = {ERROR: "bold red", WARNING: "yellow", INFO: "cyan"}


def display_path(path: str) -> str:
    """A relative POSIX path when ``path`` lies under the current folder."""
    if path.startswith("<"):  # "<stdin>" and friends are names, not paths
        return path
    return _display_path(path, os.getcwd() if os.path.isabs(path) else "")


# Every finding asks, and ``relpath`` works out the current folder twice per
# call: 12 ms of printing a 650k-line tree's findings, ~1 ms with this cache.
@functools.lru_cache(maxsize=4096)
def _display_path(path: str, cwd: str) -> str:
    if cwd:
        try:
            relative = os.path.relpath(path, cwd)
        except ValueError:  # another drive on Windows
            return PurePath(path).as_posix()
        if not relative.startswith(".."):
            path = relative
    return PurePath(path).as_posix()


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Findings in reading order: path, cell, line, column, code."""
    return sorted(findings, key=lambda f: (f.path, -1 if f.cell is None else f.cell, f.line, f.column, f.code))


# -- JSON ---------------------------------------------------------------------


_SURROGATE = re.compile("[\ud800-\udfff]")


def _dumps(data: Any) -> str:
    """``json.dumps`` that always yields valid UTF-8.

    A file name that is not valid UTF-8 reaches us with each undecodable byte
    as a lone surrogate (Python's ``surrogateescape``: byte 0xE9 is U+DCE9).
    Written raw, it would make the output invalid UTF-8; written as the JSON
    escape ``\\udce9`` it is valid, and ``os.fsencode(json.loads(...))`` gives
    the original bytes back.
    """
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _printable(value: str) -> str:
    """For formats read by people or by tools that need UTF-8 (GitHub): an
    undecodable byte of a file name becomes U+FFFD."""
    return _SURROGATE.sub("\ufffd", value)


def format_json(findings: Sequence[Finding]) -> str:
    """One flat JSON list of :meth:`Finding.to_dict` (paths as given), with a trailing newline."""
    return _dumps([finding.to_dict() for finding in findings]) + "\n"


def region(finding: Finding) -> tuple[int, int, int, int]:
    """(line, column, end_line, end_column) in the file on disk: for a notebook,
    where the cell's code is written in the .ipynb (JSON keeps cell lines)."""
    if finding.file_region is not None:
        return finding.file_region
    return finding.line, finding.column, finding.end_line, finding.end_column


# -- GitHub workflow commands -------------------------------------------------


def _escape_data(value: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    """``::error file=...,line=...::message`` lines, one per finding.

    A notebook finding points at the line of the .ipynb file where its code is
    written (see :func:`region`), and names the cell in the title.
    """
    lines = []
    for finding in findings:
        title = finding.code if finding.cell is None else f"{finding.code} (cell {finding.cell})"
        line, column, end_line, end_column = region(finding)
        properties = {
            "file": _printable(display_path(finding.path)),
            "line": line,
            "col": column,
            "endLine": end_line,
            "endColumn": end_column,
            "title": title,
        }
        rendered = ",".join(f"{key}={_escape_property(str(value))}" for key, value in properties.items())
        command = _GITHUB_COMMAND.get(finding.severity, "notice")
        lines.append(f"::{command} {rendered}::{_escape_data(_printable(finding.message))}")
    return "".join(line + "\n" for line in lines)


# -- SARIF 2.1.0 --------------------------------------------------------------


def _artifact_uri(path: str) -> str:
    # The file name's bytes, percent-encoded: exact even when they are not UTF-8.
    return quote(os.fsencode(display_path(path)), safe="/")


def format_sarif(findings: Sequence[Finding], *, tool_version: str) -> str:
    """A SARIF 2.1.0 log with one run (rules = the codes present, in code order)."""
    codes = sorted({finding.code for finding in findings})
    rule_index = {code: index for index, code in enumerate(codes)}
    rules = [
        {
            "id": code,
            "shortDescription": {"text": CODES[code][1]},
            "defaultConfiguration": {"level": _SARIF_LEVEL[CODES[code][0]]},
        }
        for code in codes
    ]
    results = []
    for finding in findings:
        result: dict[str, Any] = {
            "ruleId": finding.code,
            "ruleIndex": rule_index[finding.code],
            "level": _SARIF_LEVEL.get(finding.severity, "note"),
            "message": {"text": finding.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _artifact_uri(finding.path)},
                        "region": dict(
                            zip(("startLine", "startColumn", "endLine", "endColumn"), region(finding))
                        ),
                    }
                }
            ],
        }
        properties: dict[str, Any] = {}
        if finding.cell is not None:
            properties["cell"] = finding.cell
        if finding.verification is not None:
            properties["verification"] = finding.verification
        if properties:
            result["properties"] = properties
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "rmsport",
                        "informationUri": INFORMATION_URI,
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                # Finding columns count characters, not UTF-16 code units.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return _dumps(log) + "\n"


# -- text ---------------------------------------------------------------------


def text_line(finding: Finding) -> Any:
    """One finding as a rich ``Text``: ``path:line:col: CODE [severity] message``.

    Notebook findings read ``path[cell N]:line:col: ...`` (lines count from the
    top of the cell, so the location is deliberately not ``path:line``).
    """
    from rich.text import Text

    location = display_path(finding.path)
    if finding.cell is not None:
        location += f"[cell {finding.cell}]"
    style = _TEXT_STYLE.get(finding.severity, "")
    # Text.assemble never interprets markup, so a message holding "[...]" is safe.
    return Text.assemble(
        (location, "bold"),
        f":{finding.line}:{finding.column}: ",
        (finding.code, style),
        " ",
        (f"[{finding.severity}]", style),
        " ",
        finding.message,
    )


def plain_line(finding: Finding) -> str:
    """The same line as :func:`text_line`, as a plain string."""
    location = display_path(finding.path)
    if finding.cell is not None:
        location += f"[cell {finding.cell}]"
    return f"{location}:{finding.line}:{finding.column}: {finding.code} [{finding.severity}] {finding.message}"


def print_text(console: Any, findings: Sequence[Finding]) -> None:
    """Print findings on a rich ``Console``; colour only when it is a terminal.

    Rich decides colour: none when the output is not a terminal, none under
    ``NO_COLOR`` (https://no-color.org), forced by ``FORCE_COLOR``.  Lines are
    never wrapped, so piped output stays one finding per line.  A console with
    ``plain = True`` (the CLI's, when stderr is not a terminal) gets plain
    strings, so a piped run never pays for importing rich.
    """
    if getattr(console, "plain", False):
        if findings:  # one write per file: stderr is line-buffered, a write per line is a system call per line
            console.print("\n".join(plain_line(finding) for finding in findings))
        return
    for finding in findings:
        console.print(text_line(finding), soft_wrap=True, highlight=False)
