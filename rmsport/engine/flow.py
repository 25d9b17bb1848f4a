"""Where bindings and calls sit in the control flow, and what that guarantees.

``analysis.py`` records every binding in one cheap walk; this module answers the
questions that need statement positions, and is built only for modules that
have something to rewrite (``Analysis.flow``), so the whole-tree ``check`` walk
pays nothing for it:

* ``site(node)``: the statement that holds a node, its block and index, and the
  arms (``if`` body/else, ``try`` body/handler/else/finally, loop body, ``with``,
  ``match`` case) between it and the scope it is written in;
* ``bound_before(name, owner, at)``: is ``name`` bound on every path that reaches
  ``at``?  A definite-assignment pass over the statements before ``at``: an
  ``if`` binds when both arms do, a ``try`` when its body and every handler do
  (or its ``finally`` does), a loop body may not run, an arm that ends in
  ``return``/``raise``/``break``/``continue`` binds vacuously;
* ``follow(node, scope, at)``: the value a local holds at ``at`` when it is
  assigned once, in the same scope, by a statement that always runs before
  ``at``, and is not mutated in place; otherwise a description of why not.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .analysis import Analysis, Scope

_SCOPE_NODES = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_DEFERRED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)  # bodies run later, when called
_ENDS_ARM = (ast.Return, ast.Raise, ast.Break, ast.Continue)
# Methods that change a list or dict in place: a value mutated this way is not
# the value its assignment shows.
_MUTATORS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem", "sort", "reverse"}
)


NOT_BOUND = "not bound in this module"  # a builtin, a star import's name, or a snippet's free name


@dataclass(frozen=True)
class Site:
    """Where a statement sits: its block (``owner.field``), index, and enclosing arms."""

    stmt: ast.stmt
    owner: ast.AST  # the node whose ``field`` list holds ``stmt``
    field: str
    index: int
    arms: tuple[tuple[ast.AST, str], ...]  # (compound statement or handler/case, field), outermost first


@dataclass(frozen=True)
class Followed:
    """What an argument's expression stands for where the call runs.

    ``value`` is the expression to judge (the argument itself when it is not a
    plain name); ``None`` when the name cannot be followed, and ``why`` then
    says what the name is (``"a parameter of train()"``, ``"assigned 2 times"``).
    ``via`` is the assignment that was followed, if any.
    """

    value: ast.expr | None
    why: str = ""
    via: ast.stmt | None = None


_STMT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")
_BLOCK_OWNERS = (ast.stmt, ast.ExceptHandler, ast.match_case)


class Flow:
    """Parent links, filled lazily: every statement (and ``except`` clause and
    ``case``) up front, which is cheap, and the expressions of one statement the
    first time a question is asked about a node inside it."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        # child -> (parent, field, index in the field's list or -1)
        self.parent: dict[ast.AST, tuple[ast.AST, str, int]] = {}
        self._expressions_indexed: set[ast.AST] = set()
        self._attribute_index: dict[ast.AST, dict[str, list[ast.Attribute]]] = {}
        self._index_statements(analysis.tree)

    def _index_statements(self, root: ast.AST) -> None:
        parent = self.parent
        stack = [root]
        while stack:
            node = stack.pop()
            for name in _STMT_FIELDS:
                value = getattr(node, name, None)
                if type(value) is list:
                    for i, item in enumerate(value):
                        if isinstance(item, _BLOCK_OWNERS):
                            parent[item] = (node, name, i)
                            stack.append(item)

    def _index_expressions(self, owner: ast.AST) -> None:
        """Parent links of the expressions of one statement (not of the statements nested in it)."""
        self._expressions_indexed.add(owner)
        parent = self.parent
        stack: list[ast.AST] = []
        for name, value in ast.iter_fields(owner):
            if name in _STMT_FIELDS and type(value) is list and value and isinstance(value[0], _BLOCK_OWNERS):
                continue
            if type(value) is list:
                for i, item in enumerate(value):
                    if isinstance(item, ast.AST):
                        parent[item] = (owner, name, i)
                        stack.append(item)
            elif isinstance(value, ast.AST):
                parent[value] = (owner, name, -1)
                stack.append(value)
        while stack:
            node = stack.pop()
            for name, value in ast.iter_fields(node):
                if type(value) is list:
                    for i, item in enumerate(value):
                        if isinstance(item, ast.AST):
                            parent[item] = (node, name, i)
                            stack.append(item)
                elif isinstance(value, ast.AST):
                    parent[value] = (node, name, -1)
                    stack.append(value)

    def up(self, node: ast.AST) -> tuple[ast.AST, str, int] | None:
        """(parent, field, index) of ``node``; None for the module."""
        entry = self.parent.get(node)
        if entry is None and not isinstance(node, (ast.Module, *_BLOCK_OWNERS)):
            owner = self._locate(node)
            if owner is not None and owner not in self._expressions_indexed:
                self._index_expressions(owner)
                entry = self.parent.get(node)
            if entry is None:  # outside every span by position (a decorator): index everything once
                for candidate in list(self.parent):
                    if candidate not in self._expressions_indexed:
                        self._index_expressions(candidate)
                if self.analysis.tree not in self._expressions_indexed:
                    self._index_expressions(self.analysis.tree)
                entry = self.parent.get(node)
        return entry

    def _locate(self, node: ast.AST) -> ast.AST | None:
        """The innermost statement (or handler/case) whose span holds ``node``."""
        start = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        end = (getattr(node, "end_lineno", 0), getattr(node, "end_col_offset", 0))
        found: ast.AST | None = None
        blocks = [self.analysis.tree.body]
        while blocks:
            block = blocks.pop()
            for item in block:
                if not hasattr(item, "lineno"):  # match_case: look inside
                    blocks.append(item.body)  # type: ignore[attr-defined]
                    continue
                first = (item.lineno, item.col_offset)  # type: ignore[attr-defined]
                if first <= start and end <= (item.end_lineno, item.end_col_offset):  # type: ignore[attr-defined]
                    found = item
                    blocks = [getattr(item, f) for f in _STMT_FIELDS if type(getattr(item, f, None)) is list]
                    break
        if found is not None and isinstance(node, ast.expr):
            # A ``case`` pattern or guard belongs to its match_case, not to the Match.
            for case in getattr(found, "cases", ()):
                pattern = case.pattern
                if (pattern.lineno, pattern.col_offset) <= start and end <= (
                    (case.body[0].lineno, case.body[0].col_offset)
                ):
                    if case not in self._expressions_indexed:
                        self._index_expressions(case)
                    return case
        return found

    # -- sites ---------------------------------------------------------------
    def stmt_of(self, node: ast.AST) -> ast.stmt:
        while not isinstance(node, ast.stmt):
            entry = self.up(node)
            assert entry is not None, "a node outside the analysed tree"
            node = entry[0]
        return node

    def site(self, node: ast.AST) -> Site:
        stmt = self.stmt_of(node)
        owner, field, index = self.parent[stmt]
        arms: list[tuple[ast.AST, str]] = []
        cur: ast.AST = stmt
        while True:
            up, up_field, _ = self.parent[cur]
            if isinstance(up, _SCOPE_NODES):
                break
            if isinstance(cur, ast.stmt):
                arms.append((up, up_field))  # an if/loop/with/try arm, a handler or a case
            cur = up
        arms.reverse()
        return Site(stmt, owner, field, index, tuple(arms))

    def block_of(self, stmt: ast.stmt) -> list[ast.stmt]:
        owner, field, _ = self.parent[stmt]
        return getattr(owner, field)

    # -- definite binding ----------------------------------------------------
    def bound_before(self, name: str, owner: Scope, at: ast.AST) -> bool:
        """Is ``name`` (which lives in scope ``owner``) bound on every path reaching ``at``?

        Inside a function, the function's own definition is the point that
        counts in the enclosing block: a binding written after the ``def`` may
        run after the function is called (a module that calls ``main()`` above
        a late import), so it does not count.
        """
        if owner.node is None:
            return False
        node: ast.AST = self.stmt_of(at)
        while node is not owner.node:
            if node not in self.parent:
                return False
            up, field, index = self.parent[node]
            if isinstance(node, ast.stmt) and index >= 0:
                block = getattr(up, field)
                if _block_binds(block[:index], name):
                    return True
                if isinstance(up, ast.Try) and field == "orelse" and _block_binds(up.body, name):
                    return True
            node = up
        return False

    def dominates(self, stmt: ast.stmt, at: ast.AST) -> bool:
        """Does ``stmt`` always run before ``at`` (same scope, an enclosing block, earlier)?"""
        owner, field, index = self.parent[stmt]
        node: ast.AST = self.stmt_of(at)
        while node in self.parent:
            up, up_field, up_index = self.parent[node]
            if up is owner and up_field == field and isinstance(node, ast.stmt):
                return up_index > index
            if isinstance(up, _DEFERRED):
                return False
            node = up
        return False

    # -- following a local to its value ----------------------------------------
    def follow(self, node: ast.expr, scope: Scope, at: ast.AST, depth: int = 0) -> Followed:
        if isinstance(node, ast.Attribute):
            return self._follow_attribute(node, scope, at)
        if isinstance(node, ast.Call):
            return Followed(node)
        if not isinstance(node, ast.Name):
            return Followed(node)
        qualname, bindings, owner = self.analysis.resolve(node.id, scope)
        if qualname is not None:
            return Followed(node)  # an imported name: a module or class, judged as written
        if owner is None or not bindings:
            return Followed(None, NOT_BOUND)
        if owner is not scope:
            return Followed(None, "a global" if owner.kind == "module" else "bound in an enclosing function")
        if len(bindings) > 1:
            return Followed(None, f"assigned {len(bindings)} times")
        binding = bindings[0]
        if binding.kind == "param":
            where = getattr(owner.node, "name", "a lambda")
            return Followed(None, f"a parameter of {where}()" if where != "a lambda" else "a lambda parameter")
        if binding.kind != "assign" or binding.value is None or binding.stmt is None:
            what = "bound by a loop, unpacking or with-statement" if binding.kind == "store" else f"a {binding.kind}"
            return Followed(None, what)
        if not self.dominates(binding.stmt, at):
            return Followed(None, f"assigned on line {binding.stmt.lineno}, which does not always run before this call")
        mutated = self._mutation(node.id, scope, binding.stmt, at)
        if mutated is not None:
            return Followed(None, f"changed in place on line {mutated}")
        value = binding.value
        if isinstance(value, ast.Name) and depth < 8:
            inner = self.follow(value, scope, binding.stmt, depth + 1)
            if inner.value is None:
                return inner
            return Followed(inner.value, via=inner.via or binding.stmt)
        return Followed(value, via=binding.stmt)

    def _follow_attribute(self, node: ast.Attribute, scope: Scope, at: ast.AST) -> Followed:
        """``self.params`` assigned once earlier in the same function (``self.params = list(...)``)."""
        root = node.value
        if not isinstance(root, ast.Name) or scope.node is None or scope.kind != "function":
            return Followed(None, "an attribute")
        stores: list[ast.stmt] = []
        mutated: int | None = None
        for child in self._attributes_of(scope.node).get(node.attr, ()):
            if _same_name(child.value, root.id):
                if not isinstance(child.ctx, ast.Load):
                    stmt = self.stmt_of(child)
                    stores.append(stmt)
                    continue
                up = (self.up(child) or (None, "", -1))[0]
                before = (child.lineno, child.col_offset) < (getattr(at, "lineno", 0), getattr(at, "col_offset", 0))
                if before and (
                    isinstance(up, ast.Attribute) and up.attr in _MUTATORS
                    or isinstance(up, ast.Subscript) and not isinstance(up.ctx, ast.Load)
                ):
                    mutated = child.lineno
        if not stores:
            return Followed(None, "an attribute set outside this function")
        if len(stores) > 1:
            return Followed(None, f"an attribute assigned {len(stores)} times in this function")
        (stmt,) = stores
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute)):
            return Followed(None, f"an attribute changed on line {stmt.lineno}")
        if not self.dominates(stmt, at):
            return Followed(
                None, f"an attribute assigned on line {stmt.lineno}, which does not always run before this call"
            )
        if mutated is not None:
            return Followed(None, f"an attribute changed in place on line {mutated}")
        return Followed(stmt.value, via=stmt)

    def _attributes_of(self, function: ast.AST) -> dict[str, list[ast.Attribute]]:
        """The attribute nodes of one function's own body, by attribute name (one walk per function:
        a call-dense file follows ``self.<x>`` for every call of the same method)."""
        index = self._attribute_index.get(function)
        if index is None:
            index = {}
            for child in _walk_scope(function):
                if type(child) is ast.Attribute:
                    index.setdefault(child.attr, []).append(child)  # type: ignore[union-attr]
            self._attribute_index[function] = index
        return index

    def _mutation(self, name: str, scope: Scope, assigned: ast.stmt, at: ast.AST) -> int | None:
        """Line of an in-place change (``x.append``, ``x[k] = v``, ``del x[k]``) between assignment and ``at``."""
        end = (getattr(at, "lineno", 0), getattr(at, "col_offset", 0))
        for load, where in self.analysis.loads:
            if where is not scope or load.id != name:
                continue
            if not ((assigned.lineno, assigned.col_offset) < (load.lineno, load.col_offset) < end):
                continue
            up, field, _ = self.up(load) or (None, "", -1)
            if isinstance(up, ast.Attribute) and up.attr in _MUTATORS:
                return load.lineno
            if isinstance(up, ast.Subscript) and not isinstance(up.ctx, ast.Load):
                return load.lineno
            if isinstance(up, ast.AugAssign):
                return load.lineno
        return None


def _walk_scope(root: ast.AST):
    """Every node of a function's own body (not of functions, lambdas or classes nested in it)."""
    stack = list(ast.iter_child_nodes(root))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*_DEFERRED, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def _same_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _block_binds(block: list[ast.stmt], name: str) -> bool:
    for stmt in block:
        if _binds(stmt, name):
            return True
        if isinstance(stmt, _ENDS_ARM):
            return True
    return False


def _binds(stmt: ast.stmt, name: str) -> bool:
    """Does ``stmt`` bind ``name`` whenever it completes normally?"""
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            bound = alias.asname or (alias.name.split(".", 1)[0] if isinstance(stmt, ast.Import) else alias.name)
            if bound == name:
                return True
        return False
    if isinstance(stmt, ast.Assign):
        return any(_target_binds(t, name) for t in stmt.targets)
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        return (stmt.value is not None or isinstance(stmt, ast.AugAssign)) and _target_binds(stmt.target, name)
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name == name
    if isinstance(stmt, ast.If):
        return _block_binds(stmt.body, name) and _block_binds(stmt.orelse, name)
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        as_names = any(i.optional_vars is not None and _target_binds(i.optional_vars, name) for i in stmt.items)
        return as_names or _block_binds(stmt.body, name)
    if isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
        if _block_binds(stmt.finalbody, name):  # type: ignore[attr-defined]
            return True
        return _block_binds([*stmt.body, *stmt.orelse], name) and all(  # type: ignore[attr-defined]
            _block_binds(h.body, name) for h in stmt.handlers  # type: ignore[attr-defined]
        )
    if isinstance(stmt, ast.Match):
        irrefutable = any(
            isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None and c.guard is None for c in stmt.cases
        )
        return irrefutable and all(_block_binds(c.body, name) for c in stmt.cases)
    if isinstance(stmt, ast.While):
        test = stmt.test
        # ``while True:`` without ``break`` leaves only through its body's ends.
        return isinstance(test, ast.Constant) and test.value is True and _block_binds(stmt.body, name) and not any(
            isinstance(n, ast.Break) for n in ast.walk(stmt)
        )
    return False


def _target_binds(target: ast.expr, name: str) -> bool:
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_target_binds(e, name) for e in target.elts)
    if isinstance(target, ast.Starred):
        return _target_binds(target.value, name)
    return False
