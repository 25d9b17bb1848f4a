"""Import bookkeeping: which imports a rewrite frees, and which it needs.

Rules (issue 2): the output imports what it uses, no longer imports what nothing
uses, and never shadows an existing binding.  Only imports that the rewritten
calls used, and that nothing else uses afterwards, are removed; imports the user
already had unused are not ours to touch.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .analysis import Analysis, Binding, LineIndex, Reference, Scope
from ..tables.optimizers import TARGET_SPELLINGS
from ..tables.schedulers import spellings as scheduler_spellings


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
) -> ImportPlan:
    plan = ImportPlan()
    counts = dict(analysis.name_counts)

    # 1. Which import bindings lose their last use.
    removed_nodes = {id(ref.root) for ref, _ in rewrites}
    touched: dict[tuple[int, str], list[Binding]] = {}
    for ref, _ in rewrites:
        owner = ref.bindings[0].scope
        touched[(id(owner), ref.root.id)] = ref.bindings
    for ref, _ in rewrites:
        counts[ref.root.id] = counts.get(ref.root.id, 0) - 1
    dead_aliases: dict[int, list[ast.alias]] = {}  # id(stmt) -> aliases to drop
    stmts: dict[int, ast.stmt] = {}
    for key, bindings in touched.items():
        remaining = [n for n in analysis.uses.get(key, []) if id(n) not in removed_nodes]
        if remaining or any(b.star or b.stmt is None for b in bindings):
            continue
        for binding in bindings:
            assert binding.stmt is not None and binding.alias is not None
            dead_aliases.setdefault(id(binding.stmt), []).append(binding.alias)
            stmts[id(binding.stmt)] = binding.stmt
            counts[binding.name] = counts.get(binding.name, 0) - 1

    def free(name: str) -> bool:
        return counts.get(name, 0) <= 0

    # 2. How to spell each target, and whether an import must be added.
    module = analysis.module_scope
    to_add: dict[str, str] = {}  # import statement -> name
    for dst in dict.fromkeys(d for _, d in rewrites):
        table = TARGET_SPELLINGS[dst] if dst in TARGET_SPELLINGS else scheduler_spellings(dst)
        spelled = None
        for bound, attr in table["reuse"]:  # type: ignore[union-attr]
            name = _reusable_binding(analysis, module, bound, dead_aliases)
            if name is not None:
                spelled = f"{name}.{attr}" if attr else name
                break
        if spelled is None:
            for stmt, name, expr in table["add"]:  # type: ignore[union-attr]
                if stmt in to_add:
                    spelled = expr
                    break
                if free(name):
                    to_add[stmt] = name
                    counts[name] = 1
                    spelled = expr
                    break
        if spelled is None:  # pragma: no cover - the last candidates are unusual names
            raise RuntimeError(f"no free name to import {dst}")
        plan.spellings[dst] = spelled

    # 3. Where new imports go: beside the import that bound the source class.
    anchors: list[ast.stmt] = []
    top_level = {id(stmt) for stmt in analysis.tree.body}

    def usable(binding: Binding) -> bool:
        # An import bound through ``global`` inside a function is no place for
        # a module-level import.
        return binding.stmt is not None and analysis.stmt_scope.get(id(binding.stmt)) is binding.scope

    def order(stmt: ast.stmt) -> tuple[int, int, int]:
        # Unconditional top-level imports first: not under ``if TYPE_CHECKING``.
        return (0 if id(stmt) in top_level else 1, stmt.lineno, stmt.col_offset)

    fallback_top = False
    if to_add:
        module_bindings = [b for ref, _ in rewrites for b in ref.bindings if b.scope is module]
        if module_bindings:
            candidates = [b.stmt for b in module_bindings if usable(b) and b.stmt is not None]
            if candidates:
                anchors = [min(candidates, key=order)]
            else:
                fallback_top = True
        else:
            per_scope: dict[int, ast.stmt] = {}
            for ref, _ in rewrites:
                for b in ref.bindings:
                    if not usable(b) or b.stmt is None or b.scope is None:
                        continue
                    cur = per_scope.get(id(b.scope))
                    if cur is None or order(b.stmt) < order(cur):
                        per_scope[id(b.scope)] = b.stmt
            anchors = list(per_scope.values())
            fallback_top = not anchors
    new_text = newline.join(to_add)  # one statement per line, same indentation

    # 4. Edits.
    handled_anchor: set[int] = set()
    removed_per_block: dict[int, int] = {}
    for stmt_id, aliases in dead_aliases.items():
        stmt = stmts[stmt_id]
        names = stmt.names  # type: ignore[attr-defined]
        whole = len(aliases) == len(names)
        start, end = index.span(stmt)
        is_anchor = any(a is stmt for a in anchors)
        indent = _indent_of(index, stmt)
        if whole:
            block_id, block_len = analysis.stmt_blocks.get(stmt_id, (0, 0))
            removed_per_block[block_id] = removed_per_block.get(block_id, 0) + 1
            if is_anchor and _own_lines(index, stmt):
                plan.edits.append(Edit(start, end, _indented(new_text, indent, newline)))
                handled_anchor.add(id(stmt))
            elif removed_per_block[block_id] == block_len and stmt.col_offset > 0:
                plan.edits.append(Edit(start, end, "pass"))  # never leave a block empty
            else:
                plan.edits.append(_delete_stmt(index, stmt))
        else:
            plan.edits.append(Edit(start, end, _drop_aliases(index.source[start:end], aliases, newline)))
    for anchor in anchors:
        if id(anchor) in handled_anchor:
            continue
        plan.edits.append(_insert_after(index, anchor, new_text, newline, analysis))
    if fallback_top:
        plan.edits.append(_insert_at_top(index, new_text, newline, analysis))
    return plan


def _reusable_binding(analysis: Analysis, module: Scope, qualname: str, dead: dict[int, list[ast.alias]]) -> str | None:
    """A module-level name bound only to ``qualname`` (in every scope), not being removed."""
    for name, bindings in module.bindings.items():
        if not bindings or any(b.qualname != qualname for b in bindings):
            continue
        if any(b.stmt is not None and b.alias in dead.get(id(b.stmt), ()) for b in bindings):
            continue
        if any(name in s.bindings for s in analysis.scopes if s is not module):
            continue
        return name
    return None


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


def _delete_stmt(index: LineIndex, stmt: ast.stmt) -> Edit:
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
    if rest.startswith("#"):
        # Keep the comment that sat after the import, on its own line.
        after = end + len(_rest_of_line(index, stmt.end_lineno, end))  # type: ignore[arg-type]
        indent = index.source[line_start:start]
        return Edit(line_start, after, indent + rest)
    last_line_end = (
        index.starts[stmt.end_lineno] if stmt.end_lineno < len(index.starts) else len(index.source)  # type: ignore[operator]
    )
    return Edit(line_start, last_line_end, "")


def _insert_after(index: LineIndex, anchor: ast.stmt, text: str, newline: str, analysis: Analysis) -> Edit:
    if _own_lines(index, anchor):
        indent = _indent_of(index, anchor)
        end_line = anchor.end_lineno  # type: ignore[assignment]
    else:
        # e.g. ``if x: import torch``: fall back to the top of the module.
        indent = ""
        end_line = _top_insertion_line(analysis)
        if end_line == 0:
            return Edit(0, 0, text + newline)
    if end_line < len(index.starts):
        pos = index.starts[end_line]
        return Edit(pos, pos, indent + _indented(text, indent, newline) + newline)
    pos = len(index.source)
    return Edit(pos, pos, newline + indent + _indented(text, indent, newline) + newline)


def _insert_at_top(index: LineIndex, text: str, newline: str, analysis: Analysis) -> Edit:
    line = _top_insertion_line(analysis)
    if line == 0:
        return Edit(0, 0, text + newline)
    if line < len(index.starts):
        pos = index.starts[line]
        return Edit(pos, pos, text + newline)
    return Edit(len(index.source), len(index.source), newline + text + newline)


def _top_insertion_line(analysis: Analysis) -> int:
    """The line after the module docstring and ``from __future__`` imports (0: the top)."""
    line = 0
    for stmt in analysis.tree.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str) and line == 0 or isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__":
            line = stmt.end_lineno or 0
        else:
            break
    return line


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
