"""Jupyter notebooks: convert the code cells, keep every other byte.

* Code cells are converted one at a time with :func:`rmsport.engine.convert.convert_source`;
  markdown and raw cells, outputs, metadata and cell ids are never touched.
* IPython syntax is kept exactly.  Line magics (``%matplotlib inline``), shell
  escapes (``!pip install x``, ``files = !ls``), help lines (``obj?``, ``??obj``)
  are masked with a unique placeholder statement, the cell is converted, and the
  original lines are put back; a placeholder that does not come back exactly
  once leaves the cell unchanged (RMS002), so one can never leak into a file.
  A cell is first tried *unmasked*, so a Python continuation line that happens
  to start with ``%`` (``(a\\n % b)``) is never mistaken for a magic.
* Cell magics: the body of ``%%time``, ``%%timeit`` and ``%%capture`` is Python
  and is converted below the kept magic line; every other cell magic
  (``%%bash``, ``%%writefile``, ``%%html`` ...) is left alone.
* Imports are per notebook, not per cell: ``import torch`` in cell 1 binds the
  ``torch.optim.RMSprop`` in cell 5, and the rewrite must edit that import in
  cell 1.  So the convertible cells are joined into one module, each followed
  by a unique sentinel statement, converted once, and split back at the
  sentinels (ruff does the same).  If that module does not parse (a
  ``from __future__`` import in a later cell) or cannot be split back, each
  cell is converted on its own instead.
* A code cell that does not parse (even with its IPython lines masked) gets an
  RMS001 error finding, stays as it is, and is left out of the joined module.
* Only the changed cells' ``source`` values change: the new sources are
  spliced into the original JSON text (:mod:`.notebook_json`), nothing is
  re-serialised, so escapes (``\\u00e9``, ``\\/``), duplicate keys, compact
  cells, mixed line endings and number spellings elsewhere stay byte for byte.
  Inside a changed cell, unchanged lines keep their spelling; ``source`` stays a
  list of lines or a string, whichever the cell used.  A notebook with no
  changed cell is returned as the very same text.
* Findings carry ``cell`` = the index among *all* cells, lines relative to the
  cell (the ``%%time`` line counts), and ``file_region``: where that code sits
  in the .ipynb file, for GitHub annotations and SARIF.

Errors: text that is not JSON, or JSON that is not an nbformat 4 notebook,
raises :class:`NotebookError`, a subclass of both ``rmsport.engine.convert.ParseError``
and ``ValueError``; the runner reports it as RMS001 and exits 123.

This module imports the core at import time; the runner imports it only when it
meets a notebook, so ``rmsport --help`` stays fast.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import json
import re
import secrets
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine.convert import ParseError
from ..findings import Finding
from .notebook_json import FileLines, LayoutError, SourceSpan, file_position, locate, splice

if TYPE_CHECKING:
    from ..engine.convert import Conversion, Options

CONVERTED_CELL_MAGICS = frozenset({"time", "timeit", "capture"})

# A line that IPython rewrites before Python sees it: a line magic, a shell
# escape, a help request, or an assignment from one (``x = !ls``, ``t = %timeit -o f()``).
_MAGIC_LINE = re.compile(r"[ \t]*(?:[%!?]|[\w.,()\[\] \t]+=[ \t]*[%!])")
_HELP_LINE = re.compile(r"[ \t]*[\w.\[\]()'\"]+\?\??[ \t]*(?:\r?\n)?$")
_INDENT = re.compile(r"[ \t]*")
_NEWLINE = re.compile(r"\r\n|\r|\n")


class NotebookError(ParseError, ValueError):
    """The text is not a notebook rmsport can read (invalid JSON, not nbformat 4).

    A ``ParseError`` (``message``, ``line``, ``column``), so the runner's
    ``except ParseError`` reports it as RMS001 like any file that does not parse.
    """


# -- reading and writing the JSON the way Jupyter does ------------------------


@dataclass(frozen=True)
class _Layout:
    indent: str | None
    item_separator: str
    key_separator: str
    trailing_newline: bool
    crlf: bool


def _detect_layout(text: str) -> _Layout:
    first_newline = text.find("\n")
    indent = None
    if first_newline != -1:
        match = _INDENT.match(text, first_newline + 1)
        indent = match.group(0) if match and match.group(0) else None
    colon = text.find('":')
    key_separator = ": " if colon == -1 or text[colon + 2 : colon + 3] in (" ", "") else ":"
    if indent is not None:
        item_separator = ","
    else:
        item_separator = ", " if ('", "' in text or "], " in text or "}, " in text) else ","
    trailing = text.endswith("\n")
    return _Layout(indent, item_separator, key_separator, trailing, "\r\n" in text)


def _dump(notebook: dict[str, Any], layout: _Layout) -> str:
    indent: str | None = layout.indent
    text = json.dumps(
        notebook,
        indent=indent,
        ensure_ascii=False,
        separators=(layout.item_separator, layout.key_separator),
    )
    if layout.trailing_newline:
        text += "\n"
    if layout.crlf:
        text = text.replace("\n", "\r\n")  # JSON strings escape newlines, so this is only layout
    return text


def load_notebook(text: str) -> dict[str, Any]:
    """Parse and check the notebook JSON; raise :class:`NotebookError` if it is not one."""
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"invalid notebook JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise NotebookError("not a Jupyter notebook: no top-level 'cells' list")
    major = notebook.get("nbformat")
    if not isinstance(major, int) or major < 4:
        raise NotebookError(f"unsupported notebook format {major!r}: rmsport reads nbformat 4")
    for index, cell in enumerate(notebook["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"not a Jupyter notebook: cell {index} has no cell_type")
        source = cell.get("source", "")
        if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
            raise NotebookError(f"not a Jupyter notebook: cell {index} source is not text")
    return notebook


def cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return source if isinstance(source, str) else "".join(source)


def _set_cell_text(cell: dict[str, Any], text: str) -> None:
    if isinstance(cell.get("source"), str):
        cell["source"] = text
    else:
        cell["source"] = text.splitlines(keepends=True)


def notebook_cell_sources(text: str) -> list[str]:
    """The source of every cell (markdown too), so list index == cell index."""
    return [cell_text(cell) for cell in load_notebook(text)["cells"]]


# -- IPython syntax -----------------------------------------------------------


@dataclass
class _Masked:
    text: str
    token: str
    originals: dict[str, str]  # "indent + placeholder" -> original lines (without the last line end)


def _has_magic(lines: list[str]) -> bool:
    return any(_MAGIC_LINE.match(line) or _HELP_LINE.match(line) for line in lines)


def _mask(source: str) -> _Masked:
    """Replace each IPython-only line (with its ``\\`` continuation lines) by a
    unique placeholder statement at the same indentation."""
    token = "__rmsport_ipython_" + secrets.token_hex(4)
    while token in source:  # pragma: no cover - 32 random bits
        token = "__rmsport_ipython_" + secrets.token_hex(4)
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    originals: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if not (_MAGIC_LINE.match(line) or _HELP_LINE.match(line)):
            out.append(line)
            index += 1
            continue
        group = [line]
        while group[-1].rstrip("\r\n").endswith("\\") and index + len(group) < len(lines):
            group.append(lines[index + len(group)])
        index += len(group)
        last = group[-1]
        ending = last[len(last.rstrip("\r\n")) :]
        indent = _INDENT.match(line).group(0)  # type: ignore[union-attr]
        placeholder = f"{indent}{token}_{len(originals)}__"
        originals[placeholder] = "".join(group)[: len("".join(group)) - len(ending)]
        out.append(placeholder + ending)
    return _Masked("".join(out), token, originals)


def _unmask(text: str, masked: _Masked) -> str | None:
    """Put the original lines back; None if a placeholder did not survive intact."""
    for placeholder, original in masked.originals.items():
        if text.count(placeholder) != 1:
            return None
        text = text.replace(placeholder, original)
    return None if masked.token in text else text


# -- conversion ---------------------------------------------------------------


@dataclass
class _Cell:
    index: int
    source: str  # the cell as stored
    magic: str  # the kept ``%%time`` line ("" when none)
    body: str  # the Python handed to the core (masked when it held IPython lines)
    masked: _Masked | None


def _split_cell_magic(source: str) -> tuple[str, str] | None:
    """``(magic line, body)`` for a cell whose body is Python to convert;
    ``("", source)`` for a plain cell; None for a cell to leave alone."""
    if not source.startswith("%%"):
        return "", source
    newline = source.find("\n")
    first = source if newline == -1 else source[: newline + 1]
    words = first[2:].split()
    if not words or words[0] not in CONVERTED_CELL_MAGICS:
        return None
    return first, source[len(first) :]


def _syntax_error(text: str) -> tuple[str, int, int] | None:
    """(message, line, column) if ``text`` does not parse, else None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not our business
            ast.parse(text)
    except SyntaxError as exc:
        return exc.msg or "invalid syntax", exc.lineno or 1, exc.offset or 1
    except (ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__, 1, 1
    return None


def _prepare(index: int, source: str, path: str) -> _Cell | Finding | None:
    """The cell ready for the core, an RMS001 finding, or None (leave alone)."""
    split = _split_cell_magic(source)
    if split is None:
        return None
    magic, body = split
    error = _syntax_error(body)
    if error is None:
        return _Cell(index, source, magic, body, None)
    if _has_magic(body.splitlines(keepends=True)):
        masked = _mask(body)
        error = _syntax_error(masked.text)
        if error is None:
            return _Cell(index, source, magic, masked.text, masked)
    message, line, column = error
    line += 1 if magic else 0
    return Finding(path, line, column, line, column, "RMS001", f"cell does not parse: {message}", cell=index)


def _finish(cell: _Cell, converted: str, findings: list[Finding], path: str) -> tuple[str, list[Finding]]:
    """Unmask, re-attach the magic line and make findings cell-relative."""
    if cell.masked is not None:
        restored = _unmask(converted, cell.masked)
        if restored is None:
            line = 2 if cell.magic else 1
            message = "IPython lines could not be restored after conversion; cell left unchanged"
            return cell.source, [Finding(path, line, 1, line, 1, "RMS002", message, cell=cell.index)]
        converted = restored
    offset = 1 if cell.magic else 0
    for finding in findings:
        finding.path = path
        finding.cell = cell.index
        finding.line += offset
        finding.end_line += offset
    return cell.magic + converted, findings


def _convert_each(cells: list[_Cell], options: Options, path: str) -> dict[int, tuple[str, list[Finding]]]:
    """Fallback: each cell on its own (blind to the other cells' imports)."""
    from ..engine.convert import convert_source

    out = {}
    for cell in cells:
        try:
            result = convert_source(cell.body, options, path=path)
        except ParseError as exc:
            line = exc.line + (1 if cell.magic else 0)
            finding = Finding(
                path,
                line,
                exc.column,
                line,
                exc.column,
                "RMS001",
                f"cell does not parse: {exc.message}",
                cell=cell.index,
            )
            out[cell.index] = (cell.source, [finding])
            continue
        out[cell.index] = _finish(cell, result.source, result.findings, path)
    return out


def _convert_together(
    cells: list[_Cell], options: Options, path: str, unparsed: str = ""
) -> dict[int, tuple[str, list[Finding]]] | None:
    """Convert the cells as one module, the way the notebook runs: imports in
    cell 1 bind names in cell 5, an import the rewrite needs goes beside the
    import it replaces, wherever that cell is.  Cells are joined with a unique
    sentinel statement after each; None if the result cannot be split back."""
    from ..engine.convert import convert_source

    token = "__rmsport_cell_" + secrets.token_hex(4)
    pieces: list[str] = []
    starts: list[int] = []  # first module line of each cell
    added: list[bool] = []
    line = 1
    for cell in cells:
        text = cell.body
        added.append(bool(text) and not text.endswith(("\n", "\r")))
        if added[-1]:
            text += "\n"
        starts.append(line)
        line += len(_NEWLINE.findall(text)) + 1
        pieces.append(f"{text}{token}_{cell.index}__\n")
    # Magics run with the module but are masked from the core: their text keeps imports alive.
    opaque = "\n".join(original for cell in cells if cell.masked for original in cell.masked.originals.values())
    try:
        result = convert_source("".join(pieces), options, path=path, opaque=opaque + "\n" + unparsed)
    except ParseError:
        return None  # e.g. a ``from __future__`` import in a later cell
    out_text = result.source
    converted: list[str] = []
    cursor = 0
    for cell in cells:
        sentinel = f"{token}_{cell.index}__\n"
        at = out_text.find(sentinel, cursor)
        if at == -1 or out_text.count(sentinel) != 1 or (at and out_text[at - 1] not in "\r\n"):
            return None
        converted.append(out_text[cursor:at])
        cursor = at + len(sentinel)
    if cursor != len(out_text) or token in "".join(converted):
        return None

    by_cell: list[list[Finding]] = [[] for _ in cells]
    for finding in result.findings:
        position = bisect.bisect_right(starts, finding.line) - 1
        if position < 0:
            return None
        start = starts[position]
        finding.line -= start - 1
        finding.end_line -= start - 1
        by_cell[position].append(finding)

    out = {}
    for position, cell in enumerate(cells):
        text = converted[position]
        if added[position] and text.endswith("\n"):
            text = text[:-1]
        out[cell.index] = _finish(cell, text, by_cell[position], path)
    return out


def convert_notebook(text: str, options: Options, *, path: str) -> Conversion:
    """Convert the code cells of notebook ``text`` (see the module docstring)."""
    from ..engine.convert import Conversion, might_contain_calls

    notebook = load_notebook(text)
    cells = notebook["cells"]
    sources = {i: cell_text(cell) for i, cell in enumerate(cells) if cell["cell_type"] == "code"}
    if not any(might_contain_calls(source) for source in sources.values()):
        return Conversion(source=text, findings=[], changed=False)

    findings: list[Finding] = []
    ready: list[_Cell] = []
    for index, source in sources.items():
        prepared = _prepare(index, source, path)
        if isinstance(prepared, Finding):
            findings.append(prepared)
        elif prepared is not None:
            ready.append(prepared)

    # Cells that do not parse still run in the notebook: names they use keep their imports.
    unparsed = "\n".join(sources[f.cell] for f in findings if f.cell is not None)
    results = _convert_together(ready, options, path, unparsed) if ready else {}
    if results is None:
        results = _convert_each(ready, options, path)

    new_sources: dict[int, str] = {}
    for index, (new_source, cell_findings) in results.items():
        findings.extend(cell_findings)
        if new_source != sources[index]:
            new_sources[index] = new_source
    findings.sort(key=lambda f: (f.cell if f.cell is not None else -1, f.line, f.column))
    spans = _locate(text) if findings or new_sources else None
    if spans is not None:
        _place_in_file(findings, spans, text)
    if not new_sources:
        return Conversion(source=text, findings=findings, changed=False)
    if spans is None:  # pragma: no cover - json.loads read it, so the scan does too
        for index, new_source in new_sources.items():
            _set_cell_text(cells[index], new_source)
        return Conversion(source=_dump(notebook, _detect_layout(text)), findings=findings, changed=True)
    return Conversion(source=splice(text, spans, new_sources), findings=findings, changed=True)


def _locate(text: str) -> list[SourceSpan | None] | None:
    try:
        return locate(text)
    except (LayoutError, IndexError, ValueError, RecursionError):  # pragma: no cover - see above
        return None


def _place_in_file(findings: list[Finding], spans: list[SourceSpan | None], text: str) -> None:
    """Give each cell finding the region of the .ipynb file where its code is written."""
    lines = FileLines(text)
    for finding in findings:
        if finding.cell is None or finding.cell >= len(spans) or spans[finding.cell] is None:
            continue
        span = spans[finding.cell]
        line, column = file_position(span, lines, finding.line, finding.column)  # type: ignore[arg-type]
        end_line, end_column = file_position(span, lines, finding.end_line, finding.end_column)  # type: ignore[arg-type]
        finding.file_region = (line, column, end_line, end_column)


def diff_notebook(old_text: str, new_text: str, path: str) -> str:
    """A unified diff per changed cell, headed ``a/PATH:cell_N`` / ``b/PATH:cell_N``."""
    old_cells = notebook_cell_sources(old_text)
    new_cells = notebook_cell_sources(new_text)
    chunks = []
    for index in range(max(len(old_cells), len(new_cells))):
        old = old_cells[index] if index < len(old_cells) else ""
        new = new_cells[index] if index < len(new_cells) else ""
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                _diff_lines(old),
                _diff_lines(new),
                fromfile=f"a/{path}:cell_{index}",
                tofile=f"b/{path}:cell_{index}",
            )
        )
    return "".join(chunks)


def _diff_lines(text: str) -> list[str]:
    # Jupyter's last line has no newline; give it one so the diff stays readable.
    return [line if line.endswith("\n") else line + "\n" for line in text.splitlines(keepends=True)]
