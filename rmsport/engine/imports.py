"""Import bookkeeping: which imports a rewrite frees, and which it needs.

Rules (issue 2, issue 8):

* the output imports what it uses, no longer imports what nothing uses, and
  never shadows an existing binding;
* only imports that the rewritten calls used, and that nothing else uses, are
  removed; a name still mentioned in a string (``__all__``, ``"torch.Tensor"``
  annotations, ``eval`` text) or in text the core cannot see (notebook magics,
  cells that do not parse: passed in as ``opaque``) keeps its import;
* the new binding exists wherever a rewritten call runs: the new import is
  written at every import that bound the source class (in place of it when it
  is no longer needed, beside it otherwise), so an import under ``if``/``else``
  or ``try``/``except`` is mirrored in each arm; only when that is impossible
  (an import bound through ``global``) does it go to the top of the module,
  below the shebang, encoding cookie, docstring and ``__future__`` imports;
* an existing binding of the target is reused only when it is bound on every
  path before each rewritten call (``Flow.bound_before``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..tables.optimizers import TARGET_SPELLINGS
from ..tables.schedulers import spellings as scheduler_spellings
from .analysis import FRAMEWORK_ROOTS, Analysis, Binding, LineIndex, Reference, Scope

_COMMENT = re.compile(r"#[^\r\n]*")  # imports hold no strings: every ``#`` starts a comment
_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=]")


@dataclass
class Edit:
    start: int
    end: int
    text: str


@dataclass
class ImportPlan:
    # dst qualname -> expression text to call
    spellings: dict[str, str] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)


def plan_imports(
    analysis: Analysis,
    index: LineIndex,
    rewrites: list[tuple[Reference, str]],
    newline: str,
    opaque: str = "",
) -> ImportPlan:
    """Spellings for the rewritten calls, and the import edits they need.

    ``rewrites`` pairs each rewritten reference with its target qualname;
    ``opaque`` is source text the analysis could not see (see module docstring).
    """
    plan = ImportPlan()
    if not rewrites:
        return plan
    counts = dict(analysis.name_counts)
    flow = analysis.flow

    # 1. Which import bindings lose their last use.
    removed_nodes = {ref.root for ref, _ in rewrites}
    touched: dict[tuple[Scope, str], list[Binding]] = {}
    for ref, _ in rewrites:
        owner = ref.bindings[0].scope
        assert owner is not None
        touched[(owner, ref.root.id)] = ref.bindings
        counts[ref.root.id] = counts.get(ref.root.id, 0) - 1
    mentioned = _mentioned_names(analysis, opaque, {name for _, name in touched})
    dead: dict[ast.stmt, list[ast.alias]] = {}  # import statement -> aliases to drop
    for key, bindings in touched.items():
        remaining = [n for n in analysis.uses.get(key, []) if n not in removed_nodes]
        if remaining or key[1] in mentioned or any(b.star or b.stmt is None for b in bindings):
            continue
        for binding in bindings:
            assert binding.stmt is not None and binding.alias is not None
            dead.setdefault(binding.stmt, []).append(binding.alias)
            counts[binding.name] = counts.get(binding.name, 0) - 1
    dead_aliases = {alias for aliases in dead.values() for alias in aliases}
    dead_names = {key for key, bindings in touched.items() if any(b.alias in dead_aliases for b in bindings)}

    # 2. How to spell each target, and whether an import must be added.
    module = analysis.module_scope
    to_add: dict[str, str] = {}  # import statement -> name
    for dst in dict.fromkeys(d for _, d in rewrites):
        calls = [ref.call or ref.node for ref, d in rewrites if d == dst]
        spellings = TARGET_SPELLINGS[dst] if dst in TARGET_SPELLINGS else scheduler_spellings(dst)
        spelled = None
        for reuse in spellings.reuse:
            name = _reusable_binding(analysis, module, reuse.module, dead_aliases, calls)
            if name is not None:
                spelled = f"{name}.{reuse.attr}" if reuse.attr else name
                break
        if spelled is None:
            for add in spellings.add:
                if add.statement in to_add:
                    spelled = add.expr
                    break
                if counts.get(add.name, 0) <= 0:
                    to_add[add.statement] = add.name
                    counts[add.name] = 1
                    spelled = add.expr
                    break
        if spelled is None:  # pragma: no cover - the last candidates are unusual names
            raise RuntimeError(f"no free name to import {dst}")
        plan.spellings[dst] = spelled

    # 3. Where new imports go: at every import that bound a source class, so
    # the new name is bound on the same paths as the old one.
    anchors: list[ast.stmt] = []
    fallback_top = False
    if to_add:
        sources: dict[ast.stmt, Binding] = {}
        for ref, _ in rewrites:
            for b in ref.bindings:
                if b.stmt is not None:
                    sources.setdefault(b.stmt, b)
        for stmt, b in sources.items():
            if b.written_in is not b.scope:
                fallback_top = True  # bound through ``global`` in a function: no place for it there
                continue
            anchors.append(stmt)
        # An anchor that always runs after another one in the same block adds nothing.
        anchors = [a for a in anchors if not any(o is not a and flow.dominates(o, a) for o in anchors)]
        anchors, fallback_top = _after_star_imports(analysis, anchors, fallback_top)
    new_lines = list(to_add)

    # 4. Edits.
    emptied: dict[tuple[ast.AST, str], int] = {}  # block -> statements removed from it
    anchor_set = set(anchors)
    for stmt, aliases in dead.items():
        names = stmt.names  # type: ignore[attr-defined]
        start, end = index.span(stmt)
        whole = len(aliases) == len(names)
        is_anchor = stmt in anchor_set
        if whole:
            block = flow.block_of(stmt)
            owner, field_name, _ = flow.parent[stmt]
            key = (owner, field_name)
            emptied[key] = emptied.get(key, 0) + 1
            if is_anchor:
                plan.edits.append(_replace_stmt(index, stmt, new_lines, newline))
            elif emptied[key] == len(block) and not isinstance(owner, ast.Module):
                plan.edits.append(Edit(start, end, _with_comments(index, stmt, "pass", newline)))
            else:
                plan.edits.append(_delete_stmt(index, stmt, newline))
        else:
            text = _drop_aliases(index.source[start:end], aliases, newline)
            if is_anchor:
                text = _after(index, stmt, text, new_lines, newline)
            plan.edits.append(Edit(start, end, text))
        anchor_set.discard(stmt)
    for anchor in anchors:
        if anchor in anchor_set:
            plan.edits.append(_insert_after(index, anchor, new_lines, newline))
    if fallback_top:
        plan.edits.append(_insert_at_top(index, new_lines, newline, analysis))
    # ``except ImportError: R = None`` whose import was replaced: the fallback
    # now stands for the new name (``nn = None``), keeping the file's shape.
    if len(to_add) == 1:
        (new_name,) = to_add.values()
        seen: set[ast.AST] = set()
        for ref, _ in rewrites:
            owner = ref.bindings[0].scope
            if (owner, ref.root.id) not in dead_names:
                continue
            for fallback in ref.fallback:
                if fallback.node is not None and fallback.node not in seen:
                    seen.add(fallback.node)
                    start, end = index.span(fallback.node)
                    plan.edits.append(Edit(start, end, new_name))
    return plan


def _after_star_imports(analysis: Analysis, anchors: list[ast.stmt], top: bool) -> tuple[list[ast.stmt], bool]:
    """New imports written before a module's last ``from helpers import *`` go after it instead.

    What a star import binds cannot be seen, and it binds names again: a package
    that itself does ``import torch.nn as nn`` and is star-imported after the new
    ``from mindspore import nn`` made ``nn.RMSProp`` torch's (AttributeError).  (A
    name the module loads is never taken for a new import, so a later load of the
    star import's ``nn`` cannot meet ours.)
    """
    stars = [
        b.stmt for b in analysis.module_scope.star_modules
        if b.stmt is not None and (b.qualname or "").split(".", 1)[0] not in FRAMEWORK_ROOTS
    ]
    if not stars:
        return anchors, top
    last = max(stars, key=lambda stmt: (stmt.lineno, stmt.col_offset))
    at_module_level = {id(stmt) for stmt in analysis.tree.body}
    moved = [
        last if id(a) in at_module_level and (a.lineno, a.col_offset) < (last.lineno, last.col_offset) else a
        for a in anchors
    ]
    if top:  # the top of the module is before it too
        moved.append(last)
    return list(dict.fromkeys(moved)), False


def _mentioned_names(analysis: Analysis, opaque: str, candidates: set[str]) -> set[str]:
    """Which of ``candidates`` are used in code the scope walk does not see.

    That is a string constant that is itself Python naming it (``__all__ =
    ["torch"]``, ``x: "torch.Tensor"``, ``eval("torch.zeros(1)")``; prose such as
    ``"A2C with RMSprop"`` does not parse and does not count), or ``opaque`` text
    (notebook magics, cells that do not parse), where any mention counts.
    """
    words = re.compile(r"\b(" + "|".join(map(re.escape, sorted(candidates))) + r")\b") if candidates else None
    if words is None:
        return set()
    found = set(words.findall(opaque))
    for node in analysis.strings:  # collected by the scope walk: no second walk of the tree
        if not words.search(node.value):
            continue
        try:
            code = ast.parse(node.value.strip())
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        found.update(n.id for n in ast.walk(code) if isinstance(n, ast.Name) and n.id in candidates)
    return found


def _reusable_binding(
    analysis: Analysis, module: Scope, qualname: str, dead: set[ast.alias], calls: list[ast.AST]
) -> str | None:
    """A module-level name bound only to ``qualname`` (in every scope), not being
    removed, and bound on every path before each of ``calls``."""
    for name, bindings in module.bindings.items():
        if not bindings or any(b.qualname != qualname for b in bindings):
            continue
        if any(b.alias in dead for b in bindings):
            continue
        if any(name in s.bindings for s in analysis.scopes if s is not module):
            continue
        if not all(analysis.flow.bound_before(name, module, call) for call in calls):
            continue
        return name
    return None


def _comments(index: LineIndex, stmt: ast.stmt) -> list[str]:
    start, end = index.span(stmt)
    return _COMMENT.findall(index.source[start:end])


def _with_comments(index: LineIndex, stmt: ast.stmt, text: str, newline: str) -> str:
    """``text`` preceded by the comments inside ``stmt`` (a parenthesized import's notes)."""
    comments = _comments(index, stmt)
    if not comments:
        return text
    indent = _indent_of(index, stmt)
    return (newline + indent).join([*comments, text]) if text else (newline + indent).join(comments)


def _replace_stmt(index: LineIndex, stmt: ast.stmt, new_lines: list[str], newline: str) -> Edit:
    """The import ``stmt`` replaced in place by ``new_lines`` (keeping its comments)."""
    start, end = index.span(stmt)
    if _own_lines(index, stmt):
        indent = _indent_of(index, stmt)
        return Edit(start, end, _with_comments(index, stmt, (newline + indent).join(new_lines), newline))
    # Shares its line (``import os; import torch``, ``if x: import torch``).
    return Edit(start, end, "; ".join(new_lines))


def _after(index: LineIndex, stmt: ast.stmt, text: str, new_lines: list[str], newline: str) -> str:
    """``text`` (the statement as rewritten) followed by ``new_lines`` at the same indentation."""
    end_line: int = stmt.end_lineno  # type: ignore[assignment]
    if _own_lines(index, stmt) and not _rest_of_line(index, end_line, index.span(stmt)[1]).strip():
        indent = _indent_of(index, stmt)
        return text + "".join(newline + indent + line for line in new_lines)
    return text + "".join("; " + line for line in new_lines)


def _insert_after(index: LineIndex, stmt: ast.stmt, new_lines: list[str], newline: str) -> Edit:
    """``new_lines`` on the lines after ``stmt`` (same block), or after it on its line."""
    _, end = index.span(stmt)
    if not _own_lines(index, stmt):
        return Edit(end, end, "".join("; " + line for line in new_lines))
    indent = _indent_of(index, stmt)
    pos = _next_line_start(index, stmt)
    text = "".join(indent + line + newline for line in new_lines)
    if pos == len(index.source) and not index.source.endswith(("\n", "\r")):
        text = newline + text
    return Edit(pos, pos, text)


def _insert_at_top(index: LineIndex, new_lines: list[str], newline: str, analysis: Analysis) -> Edit:
    text = newline.join(new_lines)
    line, last = _top_insertion_line(index, analysis)
    if last is not None and not _own_lines(index, last):
        _, end = index.span(last)
        return Edit(end, end, "; " + "; ".join(new_lines))
    if line == 0:
        return Edit(0, 0, text + newline)
    if line < len(index.starts):
        pos = index.starts[line]
        return Edit(pos, pos, text + newline)
    return Edit(len(index.source), len(index.source), newline + text + newline)


def _top_insertion_line(index: LineIndex, analysis: Analysis) -> tuple[int, ast.stmt | None]:
    """The line after the shebang, encoding cookie, module docstring and
    ``from __future__`` imports (0: the very top), and the last statement skipped."""
    line = 0
    # PEP 263: a cookie on line 1 or 2 (line 2 only below a comment line).
    for number in (1, 2):
        if number > len(index.starts):
            break
        text = index.line_text(number)
        if (number == 1 and text.startswith("#!")) or _COOKIE.match(text):
            line = number
        elif not text.lstrip().startswith("#"):
            break
    last = None
    for position, stmt in enumerate(analysis.tree.body):
        is_doc = position == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(
            stmt.value.value, str
        )
        if is_doc or isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            line = max(line, stmt.end_lineno or 0)
            last = stmt
        else:
            break
    return line, last


def _indent_of(index: LineIndex, stmt: ast.stmt) -> str:
    line = index.line_text(stmt.lineno)
    return line[: len(line) - len(line.lstrip(" \t"))]


def _indented(text: str, indent: str, newline: str) -> str:
    lines = text.split(newline)
    return (newline + indent).join(lines)


def _own_lines(index: LineIndex, stmt: ast.stmt) -> bool:
    """True when the statement starts its line and nothing but a comment follows it."""
    start, end = index.span(stmt)
    first = index.line_text(stmt.lineno)
    line_start = index.starts[stmt.lineno - 1]
    if first[: start - line_start].strip():
        return False
    rest = _rest_of_line(index, stmt.end_lineno, end)  # type: ignore[arg-type]
    stripped = rest.strip()
    return not stripped or stripped.startswith("#")


def _rest_of_line(index: LineIndex, lineno: int, offset: int) -> str:
    line_start = index.starts[lineno - 1]
    text = index.line_text(lineno)
    return text[offset - line_start :].rstrip("\r\n")


def _delete_stmt(index: LineIndex, stmt: ast.stmt, newline: str) -> Edit:
    start, end = index.span(stmt)
    if not _own_lines(index, stmt):
        # Shares its line with other statements (``import os; import torch; x = 1``):
        # take it out with one of its semicolons, or leave a ``pass`` if it is
        # the whole body of a one-line compound statement.
        after = index.source[end:]
        stripped = after.lstrip(" \t")
        if stripped.startswith(";"):
            rest = stripped[1:]
            return Edit(start, end + (len(after) - len(stripped)) + 1 + (len(rest) - len(rest.lstrip(" \t"))), "")
        line_start = index.starts[stmt.lineno - 1]
        before = index.source[line_start:start].rstrip(" \t")
        if before.endswith(";"):
            return Edit(line_start + len(before) - 1, end, "")
        return Edit(start, end, "pass")
    rest = _rest_of_line(index, stmt.end_lineno, end).strip()  # type: ignore[arg-type]
    line_start = index.starts[stmt.lineno - 1]
    comments = _comments(index, stmt) + ([rest] if rest.startswith("#") else [])
    if comments:
        # Keep the comments inside and after the import, each on a line of its own.
        after = end + len(_rest_of_line(index, stmt.end_lineno, end))  # type: ignore[arg-type]
        indent = index.source[line_start:start]
        return Edit(line_start, after, indent + (newline + indent).join(comments))
    return Edit(line_start, _next_line_start(index, stmt), "")


def _next_line_start(index: LineIndex, stmt: ast.stmt) -> int:
    end_line: int = stmt.end_lineno  # type: ignore[assignment]
    return index.starts[end_line] if end_line < len(index.starts) else len(index.source)


def _drop_aliases(text: str, aliases: list[ast.alias], newline: str) -> str:
    """Remove some names from an import statement's source, keeping the rest as written."""
    import libcst as cst

    from .rewrite import comments_in, merge_whitespace

    config = cst.PartialParserConfig(default_newline=newline)
    node = cst.parse_statement(text, config=config)
    assert isinstance(node, cst.SimpleStatementLine)
    stmt = node.body[0]
    assert isinstance(stmt, (cst.Import, cst.ImportFrom))
    drop = {(a.name, a.asname) for a in aliases}
    names = stmt.names
    assert not isinstance(names, cst.ImportStar)
    kept: list[cst.ImportAlias] = []
    for index, alias in enumerate(names):
        full = cst.Module([]).code_for_node(alias.name)
        asname = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
        if (full, asname) not in drop:
            kept.append(alias)
            continue
        if kept and isinstance(alias.comma, cst.Comma) and isinstance(kept[-1].comma, cst.Comma):
            # The gap keeps the dropped name's trailing comment on a line of its own.
            merged = merge_whitespace(kept[-1].comma.whitespace_after, alias.comma.whitespace_after)
            kept[-1] = kept[-1].with_changes(comma=kept[-1].comma.with_changes(whitespace_after=merged))
        elif not kept and comments_in(alias):
            lpar = stmt.lpar if isinstance(stmt, cst.ImportFrom) else None
            if lpar is not None and isinstance(alias.comma, cst.Comma):
                merged = merge_whitespace(lpar.whitespace_after, alias.comma.whitespace_after)
                stmt = stmt.with_changes(lpar=lpar.with_changes(whitespace_after=merged))
            else:
                kept.append(alias)  # keeping an unused name beats losing a comment
    if not (isinstance(stmt, cst.ImportFrom) and stmt.lpar):
        kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    new_stmt = stmt.with_changes(names=kept)
    code = cst.Module([], default_newline=newline).code_for_node(new_stmt)
    return code
