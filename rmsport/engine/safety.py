"""The last guard before a rewrite is written: does the edited module still parse?

Re-parsing the whole rewritten file cost ~10% of ``convert`` on call-dense
files.  Only the regions around the edits can have changed, so only they are
parsed again, each as a module of its own:

* a region is a run of whole lines made of complete top-level statements
  (decorators included) around one or more edits, plus any blank or comment
  lines between them;
* it starts and ends at the top level, outside any bracket or string, so the
  tokenizer is in the same clean state there in the old and the new file;
* the lines outside the regions are untouched and parsed before.

So if every edited region parses on its own, the whole file does (``ast.parse``
checks syntax, not where ``return`` or ``from __future__`` may stand, and so
does this).  When the regions cover most of the file (one big class holding
every call), the whole file is parsed instead: it costs the same and is simpler.
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


def syntax_error_after(source: str, edits: Sequence[_Edit], tree: ast.Module, line_starts: list[int]) -> str | None:
    """None when ``source`` with ``edits`` applied parses; else why it does not.

    ``tree`` is the parse of ``source``; ``line_starts`` the offset at which
    each of its lines starts (``analysis.LineIndex.starts``).  Edits must not
    overlap.
    """
    if not edits:
        return None
    spans = [(_first_line(stmt), stmt.end_lineno or stmt.lineno) for stmt in tree.body]
    regions: list[list] = []  # [first line, last line, edits inside]
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        low = bisect.bisect_right(line_starts, edit.start)
        high = bisect.bisect_right(line_starts, edit.end)
        grown = True
        while grown:  # statements that share a line (``a; b``) pull each other in
            grown = False
            for first, last in spans:
                if first <= high and low <= last and (first < low or last > high):
                    low, high = min(low, first), max(high, last)
                    grown = True
        if regions and low <= regions[-1][1] + 1:
            regions[-1][1] = max(regions[-1][1], high)
            regions[-1][2].append(edit)
        else:
            regions.append([low, high, [edit]])

    def offset(line: int) -> int:  # where 1-based ``line`` starts; the end for the line after the last
        return line_starts[line - 1] if line <= len(line_starts) else len(source)

    covered = sum(offset(high + 1) - offset(low) for low, high, _ in regions)
    if covered * 2 > len(source):
        return _parse_error(_splice(source, 0, edits))
    for low, high, inside in regions:
        start, end = offset(low), offset(high + 1)
        error = _parse_error(_splice(source[start:end], start, inside))
        if error is not None:
            return error
    return None


def _first_line(stmt: ast.stmt) -> int:
    decorators = getattr(stmt, "decorator_list", None)
    if decorators:
        return min(stmt.lineno, *(d.lineno for d in decorators))
    return stmt.lineno


def _splice(text: str, base: int, edits: Sequence[_Edit]) -> str:
    out = []
    position = 0
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[position : edit.start - base])
        out.append(edit.text)
        position = edit.end - base
    out.append(text[position:])
    return "".join(out)


def _parse_error(text: str) -> str | None:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        return str(exc) or type(exc).__name__
    return None
