"""gitignore patterns, compiled to two regular expressions per pattern file.

Why not pathspec: importing it costs ~10 ms and compiling a real 150-pattern
.gitignore with it ~25 ms (one regex per pattern, each matched in turn), which
was half of a whole-tree ``check`` on real repositories.  Here a file's
patterns become one alternation for the patterns without a slash (matched
against the entry's name) and one for the anchored ones (matched against the
path below the pattern file's folder); both list the patterns last first, so
the first alternative that matches is the last matching pattern, which is the
one git obeys.  An empty group after each alternative says which one it was.

The semantics are git's (``gitignore(5)``, wildmatch with ``WM_PATHNAME``), for
an entry matched *before* the walk descends into it (a folder that is ignored
is never entered, so nothing inside it can be re-included, as in git):

* blank lines and ``#`` comments are skipped; ``\\#`` and ``\\!`` are literal;
  trailing spaces are dropped unless escaped; a trailing ``\\r`` is dropped;
* ``!`` negates; a trailing ``/`` matches folders only;
* a slash at the start or in the middle anchors the pattern to the folder of
  the pattern file; without one the pattern matches a name at any depth;
* ``*`` and ``?`` never match ``/``; ``[...]`` is a bracket expression (``!``
  or ``^`` negates, POSIX classes such as ``[:digit:]`` work) that never
  matches ``/``; an unterminated bracket makes the pattern match nothing;
* ``**/`` at the start matches any folders, ``/**`` at the end everything
  inside, ``/**/`` zero or more folders; other ``**`` are plain ``*``.

Compiled sets are cached by their lines: nested ``.gitignore`` files with the
same content (run folders, checkpoints, generated packages) compile once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["PatternSet", "compile_patterns"]

_POSIX_CLASSES = {
    "alnum": "a-zA-Z0-9",
    "alpha": "a-zA-Z",
    "blank": " \\t",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v",
    "upper": "A-Z",
    "xdigit": "0-9A-Fa-f",
}


class _Unmatchable(Exception):
    """The pattern can never match (git: an unterminated bracket expression)."""


class PatternSet:
    """The patterns of one file (or one exclude list), ready to match."""

    __slots__ = ("_names", "_name_re", "_name_index", "_path_re", "_path_index", "_ignores", "size")

    def __init__(self, patterns: list[tuple[str, str | None, bool, bool, bool]]) -> None:
        """``patterns``: (regex, literal name or None, anchored, folders only, negated), in file order."""
        self.size = len(patterns)
        self._ignores = [not negated for *_, negated in patterns]
        # Plain names (``build/``, ``MANIFEST``, ``wandb/``: most of a real file)
        # are a dict lookup; compiling them into the regex cost more than the rest.
        self._names: dict[str, tuple[int, int]] = {}  # name -> last index for any entry, for folders
        for i, (_, literal, anchored, dir_only, _) in enumerate(patterns):
            if literal is not None and not anchored:
                any_entry, folders = self._names.get(literal, (-1, -1))
                self._names[literal] = (any_entry if dir_only else i, i)
        self._name_re, self._name_index = _alternation(
            [
                (i, body, dir_only)
                for i, (body, literal, anchored, dir_only, _) in enumerate(patterns)
                if not anchored and literal is None
            ]
        )
        self._path_re, self._path_index = _alternation(
            [(i, body, dir_only) for i, (body, _, anchored, dir_only, _) in enumerate(patterns) if anchored]
        )

    def __len__(self) -> int:
        return self.size

    def check(self, rel: str, name: str, is_dir: bool) -> bool | None:
        """True when the last matching pattern ignores the entry, False when it
        re-includes it (``!``), None when no pattern matches.

        ``rel`` is the entry's path below the pattern file's folder ('/'-joined),
        ``name`` its last component.
        """
        best = -1
        hit = self._names.get(name)
        if hit is not None:
            best = hit[1] if is_dir else hit[0]
        if self._name_re is not None:
            match = self._name_re.match(name + "/" if is_dir else name)
            if match is not None:
                best = max(best, self._name_index[match.lastindex])  # type: ignore[index]
        if self._path_re is not None:
            match = self._path_re.match(rel + "/" if is_dir else rel)
            if match is not None:
                best = max(best, self._path_index[match.lastindex])  # type: ignore[index]
        return None if best < 0 else self._ignores[best]


def _alternation(patterns: list[tuple[int, str, bool]]) -> tuple[re.Pattern[str] | None, dict[int, int]]:
    if not patterns:
        return None, {}
    branches = []
    index: dict[int, int] = {}
    # Last pattern first: the first alternative that matches is the one git obeys.
    for group, (position, body, dir_only) in enumerate(reversed(patterns), start=1):
        branches.append(f"{body}{'/' if dir_only else '/?'}\\Z()")
        index[group] = position
    return re.compile("|".join(branches), re.DOTALL), index


_CACHE: dict[tuple[str, ...], PatternSet] = {}


def compile_patterns(lines: Iterable[str]) -> PatternSet:
    """The pattern set for these lines (cached: identical files compile once)."""
    key = tuple(lines)
    found = _CACHE.get(key)
    if found is None:
        parsed = []
        for line in key:
            pattern = _parse_line(line)
            if pattern is not None:
                parsed.append(pattern)
        found = _CACHE[key] = PatternSet(parsed)
    return found


_WILDCARDS = frozenset("*?[\\")


def _parse_line(line: str) -> tuple[str, str | None, bool, bool, bool] | None:
    if line.endswith("\r"):
        line = line[:-1]
    if not line or line.startswith("#"):
        return None
    line = _strip_trailing_spaces(line)
    negated = line.startswith("!")
    if negated:
        line = line[1:]
    dir_only = line.endswith("/")
    if dir_only:
        line = line[:-1]
    if not line:
        return None
    anchored = "/" in line
    if line.startswith("/"):
        line = line[1:]
        if not line:
            return None
    try:
        body = _translate(line)
    except _Unmatchable:
        return None
    literal = None if _WILDCARDS.intersection(line) else line
    return body, literal, anchored, dir_only, negated


def _strip_trailing_spaces(line: str) -> str:
    end = len(line)
    while end and line[end - 1] == " ":
        # A space preceded by an odd number of backslashes is escaped: keep it.
        slashes = 0
        while end - 1 - slashes > 0 and line[end - 2 - slashes] == "\\":
            slashes += 1
        if slashes % 2:
            break
        end -= 1
    return line[:end]


def _translate(pattern: str) -> str:
    """Regex for a pattern without its ``!``, leading ``/`` and trailing ``/``."""
    segments = pattern.split("/")
    out: list[str] = []
    last = len(segments) - 1
    slash = ""  # what separates the next segment from the previous one
    for position, segment in enumerate(segments):
        if segment != "**":
            out.append(slash + _translate_segment(segment))
            slash = "/"
        elif position == last:
            # trailing ``/**``: everything inside; a lone ``**``: every name
            out.append(slash + ".+" if position else "[^/]*")
        else:
            out.append(slash + "(?:[^/]*/)*")  # ``**/``: any folders, or none
            slash = ""
    return "".join(out)


def _translate_segment(segment: str) -> str:
    out: list[str] = []
    i, n = 0, len(segment)
    while i < n:
        char = segment[i]
        if char == "*":
            while i < n and segment[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if char == "?":
            out.append("[^/]")
        elif char == "\\":
            i += 1
            if i == n:
                raise _Unmatchable  # git: a trailing backslash matches nothing
            out.append(re.escape(segment[i]))
        elif char == "[":
            i = _bracket(segment, i, out)
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _bracket(segment: str, start: int, out: list[str]) -> int:
    """Translate ``[...]`` at ``start``; returns the index after it."""
    i = start + 1
    n = len(segment)
    negate = i < n and segment[i] in "!^"
    if negate:
        i += 1
    members: list[str] = []
    first = True
    while True:
        if i >= n:
            raise _Unmatchable
        char = segment[i]
        if char == "]" and not first:
            i += 1
            break
        first = False
        if char == "[" and segment.startswith("[:", i):
            end = segment.find(":]", i + 2)
            if end < 0:
                raise _Unmatchable
            name = segment[i + 2 : end]
            if name not in _POSIX_CLASSES:
                raise _Unmatchable  # git rejects an unknown class
            members.append(_POSIX_CLASSES[name])
            i = end + 2
            continue
        if char == "\\":
            i += 1
            if i >= n:
                raise _Unmatchable
            char = segment[i]
        low = char
        if i + 2 < n and segment[i + 1] == "-" and segment[i + 2] != "]":
            i += 2
            high = segment[i]
            if high == "\\":
                i += 1
                if i >= n:
                    raise _Unmatchable
                high = segment[i]
            if high >= low:
                members.append(f"{_class_char(low)}-{_class_char(high)}")
        else:
            members.append(_class_char(low))
        i += 1
    body = "".join(members)
    if negate:
        out.append(f"[^/{body}]")
    elif body:
        out.append(f"(?![/])[{body}]")
    else:  # only empty ranges such as ``[z-a]``: nothing matches
        raise _Unmatchable
    return i


def _class_char(char: str) -> str:
    return "\\" + char if char in "\\]^-[" else char
