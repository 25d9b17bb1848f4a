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

Style, read from the file's own brackets with :mod:`tokenize`:

* *hanging* (black, ruff, most code): the opening bracket ends its line, the
  arguments are indented one level, the closing bracket gets a line of its own
  at the statement's indentation, and a trailing comma follows the last
  argument unless the file's broken brackets do without one;
* *visual* (PEP 8's aligned continuation lines): the first argument stays after
  the bracket and the others align under it; no trailing comma.

The indentation unit is the file's own (the commonest step into a block).
"""

from __future__ import annotations

import io
import tokenize
from collections import Counter
from dataclasses import dataclass

__all__ = ["DEFAULT_LINE_LENGTH", "Style", "apparent_line_length", "detect_style", "fit_call"]

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


def _tokens(source: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []


def string_spans(source: str, tokens: list[tokenize.TokenInfo] | None = None) -> list[tuple[int, int]]:
    """Offsets ``(start, end)`` of the string literals, f-strings whole: a call
    inside an f-string's braces cannot take line breaks (before Python 3.12)."""
    if tokens is None:
        tokens = _tokens(source)
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def offset(position: tuple[int, int]) -> int:
        row, col = position
        return starts[row - 1] + col if row - 1 < len(starts) else len(source)

    spans = []
    fstring_start = getattr(tokenize, "FSTRING_START", None)  # 3.12+: f-strings come in pieces
    fstring_end = getattr(tokenize, "FSTRING_END", None)
    open_fstrings: list[int] = []
    for tok in tokens:
        if tok.type == tokenize.STRING and not open_fstrings:
            spans.append((offset(tok.start), offset(tok.end)))
        elif fstring_start is not None and tok.type == fstring_start:
            open_fstrings.append(offset(tok.start))
        elif fstring_end is not None and tok.type == fstring_end and open_fstrings:
            begin = open_fstrings.pop()
            if not open_fstrings:
                spans.append((begin, offset(tok.end)))
    return spans


def detect_style(source: str, tokens: list[tokenize.TokenInfo] | None = None) -> Style:
    """How this file breaks its own brackets (defaults: black's)."""
    hanging = visual = with_comma = without_comma = 0
    stack: list[tuple[bool, str]] = []  # (opened at the end of its line, last significant token)
    if tokens is None:
        tokens = _tokens(source)
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.OP and tok.string in "([{":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            at_end = nxt is not None and nxt.type in (tokenize.NL, tokenize.COMMENT)
            stack.append((at_end, ""))
            # A bracket whose content continues on the next line.
            closes_on_line = _closes_on_same_line(tokens, i)
            if not closes_on_line:
                if at_end:
                    hanging += 1
                else:
                    visual += 1
        elif tok.type == tokenize.OP and tok.string in ")]}" and stack:
            at_end, last = stack.pop()
            if at_end and tokens[i - 1].type == tokenize.NL:  # closing bracket on its own line
                if last == ",":
                    with_comma += 1
                else:
                    without_comma += 1
            if stack:
                stack[-1] = (stack[-1][0], tok.string)
        elif stack and tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT):
            stack[-1] = (stack[-1][0], tok.string)
    return Style(
        indent=_indent_unit(source.splitlines()),
        visual=visual > hanging,
        trailing_comma=with_comma >= without_comma,
    )


def _closes_on_same_line(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    depth = 0
    line = tokens[i].start[0]
    for tok in tokens[i:]:
        if tok.start[0] != line:
            return False
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
            if depth == 0:
                return True
    return False


@dataclass
class _FileFacts:
    limit: int
    style: Style | None = None  # read from the tokens the first time a call needs breaking
    strings: list[tuple[int, int]] | None = None


# The converter asks once per rewritten call; what the file says is worked out
# once per file (the last one seen), and the tokens only if a call is too long.
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
    line_start = source.rfind("\n", 0, start) + 1
    line_end = source.find("\n", end)
    if line_end < 0:
        line_end = len(source)
    prefix = source[line_start:start]
    suffix = source[end:line_end].rstrip("\r")
    new_length = len(prefix) + len(new_text) + len(suffix)
    facts = _file_facts(source, configured)
    if new_length <= facts.limit or new_length <= len(prefix) + len(old_text) + len(suffix):
        return new_text
    if facts.style is None or facts.strings is None:
        tokens = _tokens(source)
        facts.style, facts.strings = detect_style(source, tokens), string_spans(source, tokens)
    if any(begin <= start < end for begin, end in facts.strings):
        return new_text  # inside an f-string: a line break would end the string
    return break_call(new_text, prefix, facts.style, newline) or new_text


def break_call(text: str, prefix: str, style: Style, newline: str = "\n") -> str | None:
    """``text`` (one call on one line, starting after ``prefix`` on its line)
    with one argument per line; None when it cannot be broken (fewer than two
    arguments, a parenthesised call)."""
    import libcst as cst

    try:
        node = cst.parse_expression(text)
    except cst.ParserSyntaxError:
        return None
    if not isinstance(node, cst.Call) or node.lpar or len(node.args) < 2:
        return None
    module = cst.Module([])
    head = module.code_for_node(
        node.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
    )[:-1]  # "nn.RMSProp("
    args = [
        module.code_for_node(
            arg.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=cst.SimpleWhitespace(""))
        )
        for arg in node.args
    ]
    outer = prefix[: len(prefix) - len(prefix.lstrip())]
    if style.visual:
        align = " " * (len(prefix) + len(head)) if "\t" not in prefix else outer + style.indent
        return head + ("," + newline + align).join(args) + ")"
    inner = outer + style.indent
    body = ("," + newline + inner).join(args) + ("," if style.trailing_comma else "")
    return head + newline + inner + body + newline + outer + ")"
