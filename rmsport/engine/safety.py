"""The last guard before a rewrite is written: does the edited module still parse?

Re-parsing the whole rewritten file cost ~10% of ``convert`` on call-dense
files.  Only the statements around the edits can have changed, so only they
are parsed again:

* each edit is enclosed in its innermost statement that owns its lines: nothing
  but indentation before it on its first line (decorators included), nothing
  but a comment after it on its last;
* such a statement starts at a line start, outside any bracket or string, at
  the indentation of its block, and ends where its block may go on, so the
  tokenizer is in the same state there in the old and the new file;
* its new text is parsed as a block of its own (``if 1:`` plus the lines, for
  an indented one), which must stay one block: a line that dedented out of it
  would change the structure around it, and is refused.

Edits with no such statement (imports between top-level statements, lines
shared by two statements) fall back to the run of whole top-level statements
around them.  If every edited region parses, the whole file does: ``ast.parse``
checks syntax, not where ``return`` or ``from __future__`` may stand, and
neither does this.  When the regions cover most of the file, the file is
parsed whole instead: it costs the same.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Sequence
from typing import Protocol


class _Edit(Protocol):
    start: int
    end: int
    text: str


class _Index(Protocol):  # analysis.LineIndex
    source: str
    starts: list[int]

    def offset(self, lineno: int, byte_col: int) -> int: ...


_SUITES = ("body", "orelse", "finalbody", "handlers", "cases")


def syntax_error_after(source: str, edits: Sequence[_Edit], tree: ast.Module, index: _Index) -> str | None:
    """None when ``source`` with ``edits`` applied parses; else why it does not.

    ``tree`` is the parse of ``source`` and ``index`` its line index
    (``analysis.LineIndex``).  Edits must not overlap.
    """
    if not edits:
        return None
    starts = index.starts
    regions: list[tuple[int, int, int]] = []  # first line, last line, indentation (-1: top-level run)
    line_starts = set(starts)
    spans: _Spans = {}
    for edit in edits:
        if edit.start in line_starts and edit.start:
            # Text put at a line start (an import) may belong to the block that
            # ends on the line before as much as to the statement that follows:
            # parse both, in their top-level statements.
            low, high = _top_level_run(edit, tree, starts, edit.start - 1)
            regions.append((low, high, -1))
            continue
        found = _owning_statement(edit, tree, index, spans)
        if found is not None:
            regions.append(found)
        else:
            low, high = _top_level_run(edit, tree, starts, edit.start)
            regions.append((low, high, -1))
    regions.sort(key=lambda r: (r[0], -r[1]))
    merged: list[tuple[int, int, int]] = []
    for region in regions:
        if merged and region[0] <= merged[-1][1]:
            last = merged[-1]
            if region[1] <= last[1]:
                continue  # inside a statement already parsed again
            if last[2] == region[2] == -1:
                merged[-1] = (last[0], region[1], -1)
                continue
            return _parse_error(_splice(source, 0, edits))  # overlapping in an odd way: parse it all
        merged.append(region)

    def offset(line: int) -> int:  # where 1-based ``line`` starts; the end for the line after the last
        return starts[line - 1] if line <= len(starts) else len(source)

    if sum(offset(high + 1) - offset(low) for low, high, _ in merged) * 2 > len(source):
        return _parse_error(_splice(source, 0, edits))
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    position = 0
    for low, high, indent in merged:
        start, end = offset(low), offset(high + 1)
        inside = []
        while position < len(ordered) and ordered[position].start < end:
            inside.append(ordered[position])
            position += 1
        if position < len(ordered) and ordered[position].start == end == len(source):
            inside.append(ordered[position])  # an insertion at the very end of the file
            position += 1
        new = _splice(source[start:end], start, inside)
        error = _parse_block(new, source[start:end], indent) if indent > 0 else _parse_error(new)
        if error is not None:
            return error
    if position != len(ordered):  # pragma: no cover - every edit lies in a region by construction
        return _parse_error(_splice(source, 0, edits))
    return None


_Spans = dict[int, list[tuple[int, int, ast.stmt]]]


def _suite_spans(owner: ast.AST, suite: list[ast.stmt], index: _Index, cache: _Spans) -> list[tuple[int, int, ast.stmt]]:
    """``(start, end, stmt)`` offsets of a suite's statements, worked out once per
    suite and not once per edit (a call-dense file has an edit every few statements)."""
    spans = cache.get(id(owner))
    if spans is None:
        spans = cache[id(owner)] = [
            (index.offset(*_first_position(stmt)), index.offset(stmt.end_lineno, stmt.end_col_offset), stmt)  # type: ignore[arg-type]
            for stmt in suite
        ]
    return spans


def _owning_statement(
    edit: _Edit, tree: ast.Module, index: _Index, cache: _Spans | None = None
) -> tuple[int, int, int] | None:
    """Lines and indentation of the innermost statement that encloses the edit and owns its lines."""
    if cache is None:
        cache = {}
    chain: list[ast.stmt] = []
    owner: ast.AST = tree
    suite: list[ast.stmt] = tree.body
    while True:
        inner = None
        for start, end, stmt in _suite_spans(owner, suite, index, cache):
            if start <= edit.start and edit.end <= end:
                inner = stmt
                break
        if inner is None:
            break
        chain.append(inner)
        owner = inner
        suite = [child for name in _SUITES for child in _statements(getattr(inner, name, None))]
    for stmt in reversed(chain):
        if _owns_its_lines(stmt, index):
            return _first_position(stmt)[0], stmt.end_lineno, stmt.col_offset  # type: ignore[return-value]
    return None


def _statements(value: object) -> list[ast.stmt]:
    if not isinstance(value, list):
        return []
    out: list[ast.stmt] = []
    for item in value:
        if isinstance(item, ast.stmt):
            out.append(item)
        elif isinstance(item, (ast.excepthandler, getattr(ast, "match_case", ast.excepthandler))):
            out.extend(item.body)  # type: ignore[attr-defined]
    return out


def _first_position(stmt: ast.stmt) -> tuple[int, int]:
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        first = min(decorators, key=lambda d: (d.lineno, d.col_offset))
        if (first.lineno, first.col_offset) < (stmt.lineno, stmt.col_offset):
            # the ``@`` stands where the statement's indentation ends
            return first.lineno, stmt.col_offset
    return stmt.lineno, stmt.col_offset


def _owns_its_lines(stmt: ast.stmt, index: _Index) -> bool:
    first_line, column = _first_position(stmt)
    line = _line(index, first_line)
    indentation = len(line) - len(line.lstrip(" \t\f"))
    if indentation != column or not line[indentation:indentation + 1].strip():
        return False
    last = _line(index, stmt.end_lineno)  # type: ignore[arg-type]
    end_line: int = stmt.end_lineno  # type: ignore[assignment]
    end = index.offset(end_line, stmt.end_col_offset) - index.starts[end_line - 1]  # type: ignore[arg-type]
    rest = last[end:].strip()
    return not rest or rest.startswith("#")


def _line(index: _Index, lineno: int) -> str:
    starts = index.starts
    end = starts[lineno] if lineno < len(starts) else len(index.source)
    return index.source[starts[lineno - 1] : end]


def _top_level_run(edit: _Edit, tree: ast.Module, starts: list[int], start: int) -> tuple[int, int]:
    """Whole lines from ``start`` to the edit's end, grown to complete top-level statements."""
    low = bisect.bisect_right(starts, start)
    high = bisect.bisect_right(starts, edit.end)
    grown = True
    while grown:  # statements that share a line (``a; b``) pull each other in
        grown = False
        for stmt in tree.body:
            first, last = _first_position(stmt)[0], stmt.end_lineno or stmt.lineno
            if first <= high and low <= last and (first < low or last > high):
                low, high = min(low, first), max(high, last)
                grown = True
    return low, high


def _splice(text: str, base: int, edits: Sequence[_Edit]) -> str:
    out = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[position : edit.start - base])
        out.append(edit.text)
        position = edit.end - base
    out.append(text[position:])
    return "".join(out)


def _parse_block(new: str, old: str, indent: int) -> str | None:
    """An indented statement's new text, parsed as the block it stands in."""
    prefix = old[:indent]
    if not new.startswith(prefix) or not new[indent : indent + 1].strip():
        return "the rewritten statement does not start at its block's indentation"
    try:
        module = ast.parse("if 1:\n" + new)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    if len(module.body) != 1:
        return "the rewritten statement leaves its block"
    return None


def _parse_error(text: str) -> str | None:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None
