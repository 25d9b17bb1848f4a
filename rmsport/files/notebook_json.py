"""Where each cell's ``source`` sits in a notebook's JSON text, and how to put a
new source there without touching any other byte.

Re-serialising a notebook with ``json.dumps`` loses what the file's author (or
tool) chose: ``\\u00e9`` and ``\\/`` escapes become raw characters, a duplicate
key disappears, a compact one-line cell is re-indented, and a few CRLF lines
make the whole file CRLF.  So nothing is re-serialised: :func:`locate` scans the
text once and finds the span of every cell's ``source`` value (and of every
JSON string in it), and :func:`splice` replaces only the spans of the cells
whose source changed.  Inside a changed cell, an unchanged line keeps its exact
JSON spelling, and a changed line keeps the spelling of its unchanged
characters; only new characters are escaped, in the file's style (``\\uXXXX``
for non-ASCII when the file is pure ASCII, raw otherwise; a lone surrogate is
always escaped, so the result is always valid UTF-8).

The scan follows ``json.loads``: with a duplicate key the *last* value counts,
which is the one the converter saw.

:func:`file_position` maps a (line, column) of a cell's source to the
(line, column) of the notebook file where that character is written, so
GitHub annotations and SARIF results land on the code.
"""

from __future__ import annotations

import bisect
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from json.decoder import scanstring

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|(.))', re.DOTALL)
_LINE_END = re.compile(r"[^\n]*\n|[^\n]+")


class LayoutError(ValueError):
    """The text is not the JSON ``json.loads`` accepted (cannot happen after a load)."""


@dataclass
class StringToken:
    """One JSON string in the text: ``text[start:end]`` is ``"..."``."""

    text: str = field(repr=False)
    start: int
    end: int
    value: str

    @cached_property
    def offsets(self) -> list[int]:
        """``offsets[i]``: where decoded character *i* starts in the text;
        ``offsets[-1]``: the closing quote.  Computed only for the cells that
        change or carry findings."""
        return _offsets(self.text, self.start, self.end, self.value)


@dataclass
class SourceSpan:
    """A cell's ``source`` value: a JSON string, or a list of them."""

    start: int
    end: int
    is_list: bool
    strings: list[StringToken] = field(default_factory=list)


def _ws(text: str, index: int) -> int:
    return _WS.match(text, index).end()  # type: ignore[union-attr]


def _expect(text: str, index: int, char: str) -> int:
    if text[index : index + 1] != char:
        raise LayoutError(f"expected {char!r} at offset {index}")
    return index + 1


def _string(text: str, index: int) -> StringToken:
    """The JSON string starting at *index* (the opening quote)."""
    value, end = scanstring(text, index + 1, True)
    return StringToken(text, index, end, value)


def _offsets(text: str, start: int, end: int, value: str) -> list[int]:
    close = end - 1
    if "\\" not in text[start:end]:  # no escapes: one character each
        return list(range(start + 1, end))
    offsets: list[int] = []
    pos = start + 1
    while pos < close:
        offsets.append(pos)
        if text[pos] != "\\":
            pos += 1
            continue
        match = _ESCAPE.match(text, pos)
        if match is None:  # pragma: no cover - scanstring accepted it
            raise LayoutError(f"bad escape at offset {pos}")
        pos = match.end()
        if match.group(1) is not None and 0xD800 <= int(match.group(1), 16) <= 0xDBFF:
            # A high surrogate followed by a low one decodes to one character.
            low = _ESCAPE.match(text, pos)
            if low is not None and low.group(1) is not None and 0xDC00 <= int(low.group(1), 16) <= 0xDFFF:
                pos = low.end()
    offsets.append(close)
    if len(offsets) - 1 != len(value):  # pragma: no cover - a decoder we do not know
        raise LayoutError(f"string at offset {start} does not decode as expected")
    return offsets


def _value_end(text: str, index: int) -> int:
    try:
        return _DECODER.raw_decode(text, index)[1]
    except json.JSONDecodeError as exc:
        raise LayoutError(str(exc)) from None


def _members(text: str, index: int):
    """``[(key, value start, value end)]`` of the object at *index* ('{'), and its end."""
    index = _ws(text, _expect(text, index, "{"))
    members: list[tuple[str, int, int]] = []
    if text[index : index + 1] == "}":
        return members, index + 1
    while True:
        if text[index : index + 1] != '"':
            raise LayoutError(f"expected a key at offset {index}")
        key, index = scanstring(text, index + 1, True)
        index = _ws(text, _expect(text, _ws(text, index), ":"))
        end = _value_end(text, index)
        members.append((key, index, end))
        index = _ws(text, end)
        if text[index : index + 1] == ",":
            index = _ws(text, index + 1)
            continue
        return members, _expect(text, index, "}")


def _elements(text: str, index: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each element of the array at *index* ('[')."""
    index = _ws(text, _expect(text, index, "["))
    out: list[tuple[int, int]] = []
    if text[index : index + 1] == "]":
        return out
    while True:
        end = _value_end(text, index)
        out.append((index, end))
        index = _ws(text, end)
        if text[index : index + 1] == ",":
            index = _ws(text, index + 1)
            continue
        _expect(text, index, "]")
        return out


def _last(members: list[tuple[str, int, int]], key: str) -> tuple[int, int] | None:
    found = None
    for name, start, end in members:
        if name == key:
            found = (start, end)  # json.loads keeps the last duplicate
    return found


def locate(text: str) -> list[SourceSpan | None]:
    """The ``source`` span of every cell (None for a cell without one), in cell order."""
    top, _ = _members(text, _ws(text, 0))
    cells = _last(top, "cells")
    if cells is None:
        raise LayoutError("no top-level 'cells'")
    spans: list[SourceSpan | None] = []
    for start, _end in _elements(text, cells[0]):
        members, _ = _members(text, start)
        source = _last(members, "source")
        if source is None:
            spans.append(None)
            continue
        s_start, s_end = source
        if text[s_start] == '"':
            spans.append(SourceSpan(s_start, s_end, False, [_string(text, s_start)]))
        else:
            strings = [_string(text, e_start) for e_start, _ in _elements(text, s_start)]
            spans.append(SourceSpan(s_start, s_end, True, strings))
    return spans


# -- writing a new source -------------------------------------------------------


def _escape(value: str, ascii_only: bool) -> str:
    """JSON string body for *value*, in the file's style; lone surrogates escaped."""
    body = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)


def _respell(text: str, token: StringToken | None, new: str, ascii_only: bool) -> str:
    """``new`` as a JSON string, reusing the raw spelling of every character it
    shares (in order) with *token*."""
    if token is not None and token.value == new:
        return text[token.start : token.end]
    if token is None:
        return '"' + _escape(new, ascii_only) + '"'
    out = ['"']
    matcher = difflib.SequenceMatcher(None, token.value, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(text[token.offsets[i1] : token.offsets[i2]])
        elif j2 > j1:
            out.append(_escape(new[j1:j2], ascii_only))
    out.append('"')
    return "".join(out)


def _list_layout(text: str, span: SourceSpan) -> tuple[str, str, str]:
    """(after '[', between items, before ']') as the original list spells them."""
    strings = span.strings
    if not strings:
        return "", ", ", ""
    opening = text[span.start + 1 : strings[0].start]
    closing = text[strings[-1].end : span.end - 1]
    if len(strings) > 1:
        between = text[strings[0].end : strings[1].start]
    else:
        between = "," + opening if opening else ", "
    return opening, between, closing


def _lines(source: str) -> list[str]:
    """Lines as Jupyter stores them: split after each ``\\n`` only."""
    return _LINE_END.findall(source)


def _new_source_text(text: str, span: SourceSpan, new: str, ascii_only: bool) -> str:
    if not span.is_list:
        return _respell(text, span.strings[0], new, ascii_only)
    old_lines = [token.value for token in span.strings]
    new_lines = _lines(new)
    spelled: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for offset, line in enumerate(new_lines[j1:j2]):
            # equal: the same token; replace: the old line at the same place, so
            # a rewritten call keeps the spelling of what it did not change.
            token = span.strings[i1 + offset] if i1 + offset < i2 else None
            spelled.append(_respell(text, token, line, ascii_only))
    opening, between, closing = _list_layout(text, span)
    if not spelled:
        return "[]"
    return "[" + opening + between.join(spelled) + closing + "]"


def ascii_style(text: str) -> bool:
    """Whether the file escapes non-ASCII (``json.dumps``' default): it is pure
    ASCII and holds at least one ``\\u`` escape of a non-ASCII character."""
    if not text.isascii():
        return False
    return re.search(r"\\u(?!00[0-7])[0-9a-fA-F]{4}", text) is not None


def splice(text: str, spans: list[SourceSpan | None], new_sources: dict[int, str]) -> str:
    """*text* with the ``source`` of each cell in *new_sources* replaced."""
    ascii_only = ascii_style(text)
    edits = []
    for index, new in new_sources.items():
        span = spans[index]
        if span is None:  # pragma: no cover - a cell without source has nothing to change
            raise LayoutError(f"cell {index} has no source")
        edits.append((span.start, span.end, _new_source_text(text, span, new, ascii_only)))
    out = []
    pos = 0
    for start, end, replacement in sorted(edits):
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


# -- positions ----------------------------------------------------------------------


class FileLines:
    """Offsets of the notebook text -> 1-based (line, column), columns in characters."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1


def file_position(span: SourceSpan, lines: FileLines, line: int, column: int) -> tuple[int, int]:
    """Where character (*line*, *column*) of the cell's source (1-based, as
    findings count them) is written in the notebook file."""
    # Decoded characters of the cell, in order, with their offsets in the text;
    # the last closing quote stands for "just past the end".
    offsets: list[int] = []
    for token in span.strings:
        offsets.extend(token.offsets[:-1])
    if not span.strings:
        return lines.position(span.start)
    offsets.append(span.strings[-1].offsets[-1])
    source = "".join(token.value for token in span.strings)
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]
    row = min(max(line, 1), len(starts)) - 1
    index = min(starts[row] + max(column, 1) - 1, len(offsets) - 1)
    return lines.position(offsets[index])
