"""Break a rewritten call that no longer fits its line, as a formatter would.

Pinned defaults and keyword names make a rewritten call longer than the one it
replaces (``torch.optim.RMSprop(p)`` becomes ``nn.RMSProp(params=p,
learning_rate=0.01, decay=0.99, epsilon=1e-08)``), and a call that used to fit
can end up past 150 characters.  When that happens the call is laid out one
argument per line, in the style the file already uses for its own broken
brackets; a call that still fits is left on its line.

*Fits* means: the line is no longer than the file's apparent line length,
which is the ``line-length`` its project configures for black or ruff (handed
down as ``Options.line_length``), else the longest line the file already has,
but never less than black's 88 (a file of short lines says nothing about its
limit).  Only calls that were written on one line are broken; a call the author
already spread over several lines keeps its own layout (see ``rewrite.py``).

Style, read from the file's own broken brackets (:func:`detect_style`):

* *hanging* (black, ruff, most code): the opening bracket ends its line, the
  arguments are indented one level, the closing bracket gets a line of its own
  at the statement's indentation, and a trailing comma follows the last
  argument unless the file's broken brackets do without one;
* *visual* (PEP 8's aligned continuation lines): the first argument stays after
  the bracket and the others align under it; no trailing comma.

The indentation unit is the file's own (the commonest step into a block).
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass

__all__ = ["DEFAULT_LINE_LENGTH", "Style", "apparent_line_length", "detect_style", "fit_call", "fstring_spans"]

DEFAULT_LINE_LENGTH = 88  # black's default


@dataclass(frozen=True)
class Style:
    indent: str = "    "
    visual: bool = False
    trailing_comma: bool = True


def apparent_line_length(source: str, configured: int | None = None) -> int:
    if configured:
        return configured
    longest = max((len(line) for line in source.splitlines()), default=0)
    return max(longest, DEFAULT_LINE_LENGTH)


def _indent_unit(lines: list[str]) -> str:
    steps: Counter[str] = Counter()
    previous = None
    for line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        indent = line[: len(line) - len(line.lstrip())]
        if previous is not None and indent.startswith(previous) and len(indent) > len(previous):
            steps[indent[len(previous) :]] += 1
        previous = indent if stripped.endswith(":") else None
    return steps.most_common(1)[0][0] if steps else "    "


def _code(line: str) -> str:
    """``line`` without its comment and trailing blanks (quotes respected, one line at a time)."""
    if "#" in line:
        quote = ""
        for i, ch in enumerate(line):
            if quote:
                if ch == quote and line[i - 1] != "\\":
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "#":
                line = line[:i]
                break
    return line.rstrip()


def detect_style(source: str) -> Style:
    """How this file breaks its own brackets (defaults: black's).

    A vote over the lines, not a parse (tokenizing a file costs more than the
    whole conversion): a line ending in an opening bracket is *hanging*, one
    ending in a comma with a bracket still open is *visual*; a line that starts
    with a closing bracket votes for a trailing comma if the line above ends
    with one."""
    hanging = visual = with_comma = without_comma = 0
    previous = ""
    for line in source.splitlines():
        code = _code(line)
        if not code.strip():
            continue
        last = code[-1]
        if last in "([{":
            hanging += 1
        elif last == "," and sum(code.count(c) for c in "([{") > sum(code.count(c) for c in ")]}"):
            visual += 1
        if code.lstrip()[0] in ")]}" and previous and previous[-1] not in "([{":
            if previous[-1] == ",":
                with_comma += 1
            else:
                without_comma += 1
        previous = code
    return Style(
        indent=_indent_unit(source.splitlines()),
        visual=visual > hanging,
        trailing_comma=with_comma >= without_comma,
    )


_FSTRING_PREFIX = re.compile(r"(?<![\w])(?:[rRbB]?[fF]|[fF][rRbB])['\"]")
_TRIPLE_FSTRING_PREFIX = re.compile(r"(?<![\w])(?:[rRbB]?[fF]|[fF][rRbB])(?:'''|\"\"\")")


def _may_be_in_fstring(source: str, line_start: int, start: int, first_triple_end: int | None = None) -> bool:
    """Cheap test before the exact one: a one-line f-string holding the call
    opens on the call's own line; only a triple-quoted one can open earlier.

    ``first_triple_end`` is where the file's first triple-quoted f-string prefix
    ends (``len(source) + 1``: none), so that each call does not search the
    file from its start again (that search was quadratic in a call-dense file).
    """
    if first_triple_end is None:
        first_triple_end = _first_triple_end(source)
    return bool(_FSTRING_PREFIX.search(source, line_start, start)) or first_triple_end <= start


def _first_triple_end(source: str) -> int:
    # The leftmost match also ends first: a match starting later inside it
    # would follow a letter, which the pattern's lookbehind refuses.
    match = _TRIPLE_FSTRING_PREFIX.search(source)
    return match.end() if match else len(source) + 1


def fstring_spans(source: str) -> list[tuple[int, int]]:
    """Character offsets ``(start, end)`` of the f-strings: a call inside an
    f-string's braces cannot take line breaks (before Python 3.12)."""
    if not _FSTRING_PREFIX.search(source):
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = source.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:  # ast columns count UTF-8 bytes
        if lineno - 1 >= len(lines):
            return len(source)
        text = lines[lineno - 1]
        return starts[lineno - 1] + len(text.encode("utf-8")[:col].decode("utf-8", "replace"))

    return [
        (offset(node.lineno, node.col_offset), offset(node.end_lineno or node.lineno, node.end_col_offset or 0))
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
    ]


@dataclass
class _FileFacts:
    limit: int
    style: Style | None = None  # read the first time a call needs breaking
    fstrings: list[tuple[int, int]] | None = None
    first_triple_end: int | None = None  # see _may_be_in_fstring


# The converter asks once per rewritten call; what the file says is worked out
# once per file (the last one seen), and the style only if a call is too long.
_cache: tuple[str, int | None, _FileFacts] | None = None


def _file_facts(source: str, configured: int | None) -> _FileFacts:
    global _cache
    if _cache is None or _cache[0] is not source or _cache[1] != configured:
        _cache = (source, configured, _FileFacts(apparent_line_length(source, configured)))
    return _cache[2]


def fit_call(
    source: str, start: int, end: int, old_text: str, new_text: str, configured: int | None, newline: str = "\n"
) -> str:
    """``new_text`` (the rewrite of ``source[start:end]``), broken one argument per
    line if its line would not fit the file's apparent line length."""
    if "\n" in old_text or "\n" in new_text or "\r" in new_text:
        return new_text
    # \n, \r\n or a lone \r (old Mac files) ends a line
    line_start = max(source.rfind("\n", 0, start), source.rfind("\r", 0, start)) + 1
    ends = [i for i in (source.find("\n", end), source.find("\r", end)) if i >= 0]
    line_end = min(ends) if ends else len(source)
    prefix = source[line_start:start]
    suffix = source[end:line_end]
    new_length = len(prefix) + len(new_text) + len(suffix)
    facts = _file_facts(source, configured)
    if new_length <= facts.limit or new_length <= len(prefix) + len(old_text) + len(suffix):
        return new_text
    if facts.first_triple_end is None:
        facts.first_triple_end = _first_triple_end(source)
    if _may_be_in_fstring(source, line_start, start, facts.first_triple_end):
        if facts.fstrings is None:
            facts.fstrings = fstring_spans(source)
        if any(lo <= start < hi for lo, hi in facts.fstrings):
            return new_text  # inside an f-string: a line break would end the string
    if facts.style is None:
        facts.style = detect_style(source)
    return break_call(new_text, prefix, facts.style, newline, facts.limit) or new_text


def split_call(text: str) -> tuple[str, list[str]] | None:
    """``"f(a, b=[1, 2])"`` -> ``("f(", ["a", "b=[1, 2]"])``, for a call on one line
    whose last character closes its argument list; None if ``text`` is not that.

    A scan for commas at bracket depth one, minding strings: the text comes from
    libcst's code generator, so it is a valid expression, and parsing it again
    would cost more than everything else this module does.
    """
    open_at = text.find("(")
    if open_at <= 0 or not text.endswith(")"):
        return None
    head = text[: open_at + 1]
    if any(ch in head[:-1] for ch in "()[]{}'\"#"):
        return None  # the callee is a plain dotted name here; anything else is not ours to split
    args: list[str] = []
    depth = 0
    quote = ""
    begin = open_at + 1
    i = open_at
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif ch in "'\"":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            i += len(quote)
            continue
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                if i != len(text) - 1:
                    return None  # "f(a)(b)" or "f(a).x": the argument list does not end the text
                args.append(text[begin:i].strip())
                break
        elif ch == "," and depth == 1:
            args.append(text[begin:i].strip())
            begin = i + 1
        i += 1
    else:
        return None
    if args and args[-1] == "":
        args.pop()  # a trailing comma
    if not all(args):
        return None
    return head, _join_lambda_parameters(args)


_LAMBDA = re.compile(r"\blambda\b")


def _join_lambda_parameters(pieces: list[str]) -> list[str]:
    """``lambda a, b: ...`` is one argument although its comma sits at depth one."""
    out: list[str] = []
    for piece in pieces:
        if out and _LAMBDA.search(out[-1]) and ":" not in out[-1][_LAMBDA.search(out[-1]).end() :]:
            out[-1] += ", " + piece
        else:
            out.append(piece)
    return out


def break_call(
    text: str, prefix: str, style: Style, newline: str = "\n", limit: int | None = None
) -> str | None:
    """``text`` (one call on one line, starting after ``prefix`` on its line)
    with one argument per line; None when it cannot be broken (fewer than two
    arguments, not a plain call).  An argument that is itself a call and still
    does not fit ``limit`` on its own line is broken the same way, as a
    formatter splits the outermost brackets first and then goes in."""
    broken = _lay_out(text, prefix, style, newline, limit)
    if broken is None:
        return None
    # Only line breaks between arguments were added: the expression must be the
    # same one.  (The scan cannot be fooled by valid code, but a wrong guess here
    # would cost the user a file, and checking costs microseconds.)
    try:
        same = same_tree(ast.parse(broken.strip(), mode="eval"), ast.parse(text, mode="eval"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        same = False
    return broken if same else None


def same_tree(a: ast.AST, b: ast.AST) -> bool:
    """``ast.dump(a) == ast.dump(b)``: the same nodes and values, positions aside.

    A walk over both trees at once, stopping at the first difference: the two
    ``ast.dump`` strings cost more than the rest of laying out a call.
    """
    stack: list[tuple[object, object]] = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, ast.AST):
            stack.extend((getattr(x, f, None), getattr(y, f, None)) for f in x._fields)
        elif isinstance(x, list):
            if len(x) != len(y):  # type: ignore[arg-type]
                return False
            stack.extend(zip(x, y))  # type: ignore[call-overload]
        elif x != y or (type(x) in (float, complex) and repr(x) != repr(y)):  # 0.0 and -0.0 differ in a dump
            return False
    return True


def _lay_out(text: str, prefix: str, style: Style, newline: str, limit: int | None) -> str | None:
    split = split_call(text)
    if split is None or len(split[1]) < 2:
        return None
    head, args = split
    outer = prefix[: len(prefix) - len(prefix.lstrip())]
    if style.visual and "\t" not in prefix:
        lead = " " * (len(prefix) + len(head))
    else:
        lead = outer + style.indent
    laid = []
    for arg in args:
        if limit is not None and len(lead) + len(arg) + 1 > limit:
            arg = _lay_out(arg, lead, style, newline, limit) or arg
        laid.append(arg)
    if style.visual:
        return head + ("," + newline + lead).join(laid) + ")"
    body = ("," + newline + lead).join(laid) + ("," if style.trailing_comma else "")
    return head + newline + lead + body + newline + outer + ")"
