"""Find the RMSProp references in a module by what their names are bound to.

Why ``ast`` and not libcst's ``QualifiedNameProvider``: the scope metadata made a
call-dense module ~9x slower than parse + codegen, while ``ast.parse`` is several
times *faster* than libcst's parser.  So the whole analysis (scopes, bindings,
positions) runs on ``ast``, and libcst only touches the few call and import
snippets that are actually rewritten (see ``convert.py``).

The scope model follows Python's: module, function, lambda, class and
comprehension scopes; class scopes are invisible to the functions nested in them;
``global`` and ``nonlocal`` redirect a name.  A name whose bindings in its scope
are not all imports of the same thing is *unknown*, and unknown names are never
rewritten: a local variable called ``RMSprop`` is left alone.  One exception:
an import whose only other bindings are ``name = None`` in ``except`` clauses
(the "not installed" fallback) resolves to the import.

The binding table: each ``Scope`` maps a name to its ``Binding`` list, in
source order; a binding knows its kind, node, statement, value (for
``name = value``) and the scope it is written in.  Questions about control flow
("bound on every path before this call?", "assigned once before this call, and
to what?") are answered by ``flow.Flow`` from the same table, built on first
use so that the whole-tree ``check`` walk pays nothing for them.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Literal

from ..tables.optimizers import BY_NAME, CLASS_NAMES, Api
from .flow import Flow, Followed

FRAMEWORK_ROOTS = ("torch", "mindspore")
_NEWLINE = re.compile(r"\r\n|\r|\n")


BindingKind = Literal["import", "assign", "store", "def", "class", "param", "capture"]


@dataclass(eq=False)
class Binding:
    """One place where a name is bound, in the scope the name belongs to.

    ``kind`` says how: ``import`` (``stmt``/``alias`` are the import), ``assign``
    (``name = value`` with one plain target: ``value`` is the expression),
    ``store`` (any other store: tuple targets, ``for``, ``with ... as``, ``+=``,
    walrus), ``def``/``class``, ``param`` (a function or lambda argument) and
    ``capture`` (``except ... as``, match captures, type parameters).  Where the
    binding sits in the control flow (which ``if``/``try``/loop arms enclose it)
    is asked of ``Analysis.flow``, built only for modules that need it.
    """

    name: str
    qualname: str | None  # for imports: what the name is bound to; None for anything else
    kind: BindingKind = "store"
    node: ast.AST | None = None  # the Name/arg/def/alias that binds
    stmt: ast.stmt | None = None  # the Import / ImportFrom / Assign
    alias: ast.alias | None = None
    scope: Scope | None = field(default=None, repr=False)  # the scope the name belongs to
    # The scope the statement is written in (differs from ``scope`` under ``global``).
    written_in: Scope | None = field(default=None, repr=False)
    star: bool = False
    value: ast.expr | None = None  # for ``assign``: the assigned expression
    in_handler: bool = False  # written inside an ``except`` clause


ScopeKind = Literal["module", "function", "class", "comprehension"]


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    parent: Scope | None
    node: ast.AST | None = None  # the Module/FunctionDef/Lambda/ClassDef/comprehension
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    star_modules: list[Binding] = field(default_factory=list)

    def bind(self, binding: Binding) -> None:
        binding.scope = self
        self.bindings.setdefault(binding.name, []).append(binding)


@dataclass(eq=False)
class Reference:
    """A name or attribute chain that resolves to one of the RMSProp classes."""

    node: ast.expr  # the Name or the Attribute that names the class
    spelled: str  # the qualified name as written (may be a misspelling)
    api: Api
    root: ast.Name
    bindings: list[Binding]
    scope: Scope
    call: ast.Call | None
    # ``getattr(torch.optim, "RMSprop")``: the getattr call (the class is reached
    # through a string, so the reference is reported, never rewritten).
    via_getattr: ast.Call | None = None
    # The name is bound to the class by an import with a fallback in an
    # ``except`` clause (``except ImportError: R = None``).
    fallback: list[Binding] = field(default_factory=list)
    # ``from helpers import *`` and then ``torch.optim.RMSprop(...)`` with ``torch``
    # bound nowhere in the module: the star import (this binding) must bring it, but
    # what it binds cannot be seen, so the reference is reported, never rewritten.
    via_star: Binding | None = None

    @property
    def indirect(self) -> bool:
        """Reached through a string or a star import: reported, never rewritten."""
        return self.via_getattr is not None or self.via_star is not None


@dataclass
class Analysis:
    tree: ast.Module
    module_scope: Scope
    references: list[Reference]
    # Loads of framework-bound names, per (scope that owns the binding, name).
    uses: dict[tuple[Scope, str], list[ast.Name]]
    # How often each identifier occurs (loads, stores, params, import aliases...).
    name_counts: dict[str, int]
    scopes: list[Scope]
    # Every Name load (and ``del``) with the scope it is written in.
    loads: list[tuple[ast.Name, Scope]] = field(default_factory=list)
    # Every str constant: code in strings (``__all__``, string annotations, eval) can name an import.
    strings: list[ast.Constant] = field(default_factory=list)
    _flow: Flow | None = field(default=None, repr=False)

    @property
    def flow(self) -> Flow:
        """Statement sites and path queries; built on first use (only modules with rewrites pay)."""
        if self._flow is None:
            self._flow = Flow(self)
        return self._flow

    def resolve(self, name: str, scope: Scope) -> tuple[str | None, list[Binding], Scope | None]:
        return _resolve(name, scope, self.module_scope)

    def qualname_of(self, node: ast.expr, scope: Scope) -> str | None:
        """Qualified name of a Name/Attribute chain, when its root is an import."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        qualname, _, _ = self.resolve(node.id, scope)
        if qualname is None:
            return None
        return ".".join([qualname, *reversed(attrs)])

    def value_of(self, node: ast.expr, scope: Scope, at: ast.AST | None = None) -> Followed:
        """What a Name in ``scope`` holds where ``at`` runs (see ``Flow.follow``)."""
        return self.flow.follow(node, scope, at if at is not None else node)


def _resolve(name: str, scope: Scope, module: Scope) -> tuple[str | None, list[Binding], Scope | None]:
    start = scope
    s: Scope | None = scope
    if name in scope.globals:
        s = module
    while s is not None:
        if s.kind == "class" and s is not start:
            s = s.parent
            continue
        if s is not start and name in s.globals:
            s = module
            continue
        if name in s.nonlocals:
            s = s.parent
            continue
        found = s.bindings.get(name)
        if found:
            qualnames = {b.qualname for b in found}
            if len(qualnames) == 1 and None not in qualnames:
                return found[0].qualname, found, s
            # ``try: import X as R / except ImportError: R = None``: the name can
            # only be called as X, so it resolves to the import.
            imports = [b for b in found if b.qualname is not None]
            if len(qualnames) == 2 and imports and all(_is_fallback(b) for b in found if b.qualname is None):
                return imports[0].qualname, imports, s
            return None, found, s
        for star in s.star_modules:
            candidate = f"{star.qualname}.{name}"
            if candidate in BY_NAME:
                return candidate, [star], s
        s = s.parent
    return None, [], None


def _is_fallback(binding: Binding) -> bool:
    """``R = None`` in an ``except`` clause: the "not installed" shape of an import."""
    value = binding.value
    return binding.in_handler and type(value) is ast.Constant and value.value is None  # type: ignore[union-attr]


class _Collector:
    """One walk over the tree: scopes, bindings, loads and attribute chains.

    This walk is the hot loop of a whole-tree ``check``: it records only what
    costs nothing extra (the binding node, and the value of a plain
    ``name = value``).  Positions in the control flow are left to ``Flow``.
    """

    def __init__(self, tree: ast.Module) -> None:
        self.module = Scope("module", None, tree)
        self.loads: list[tuple[ast.Name, Scope]] = []
        self.chains: list[tuple[list[ast.expr], Scope]] = []  # [Name, Attr, Attr...]
        self.call_funcs: dict[ast.expr, ast.Call] = {}  # Call.func -> the Call
        self.getattr_calls: list[tuple[ast.Call, Scope]] = []
        self.strings: list[ast.Constant] = []
        self.name_counts: dict[str, int] = {}
        self.scopes: list[Scope] = [self.module]
        self.in_handler = 0  # depth of ``except`` clauses around the current statement

    def new_scope(self, kind: ScopeKind, parent: Scope, node: ast.AST) -> Scope:
        scope = Scope(kind, parent, node)
        self.scopes.append(scope)
        return scope

    def count(self, name: str) -> None:
        self.name_counts[name] = self.name_counts.get(name, 0) + 1

    # -- walking -------------------------------------------------------------
    def walk_body(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            self.visit(stmt, scope)

    def visit(self, node: ast.AST, scope: Scope) -> None:
        # Dispatch on the exact type: this walk is the hot loop of a whole-tree
        # check, so plain nodes take the cheapest path (``_generic``).
        handler = _HANDLERS.get(type(node))
        if handler is None:
            self._generic(node, scope)
        else:
            handler(self, node, scope)

    def _generic(self, node: ast.AST, scope: Scope) -> None:
        for name in _CHILD_FIELDS.get(type(node)) or _child_fields(type(node)):
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                if value and isinstance(value[0], ast.stmt):
                    self.walk_body(value, scope)
                else:
                    for item in value:
                        if isinstance(item, ast.AST):
                            self.visit(item, scope)
            elif isinstance(value, ast.AST):
                self.visit(value, scope)

    def _constant(self, node: ast.Constant, scope: Scope) -> None:
        if type(node.value) is str:
            self.strings.append(node)

    def _leaf(self, node: ast.AST, scope: Scope) -> None:
        return

    def _name(self, node: ast.Name, scope: Scope) -> None:
        counts = self.name_counts
        counts[node.id] = counts.get(node.id, 0) + 1
        ctx = type(node.ctx)
        if ctx is ast.Load or ctx is ast.Del:
            # ``del torch`` needs the binding as much as a use does.
            self.loads.append((node, scope))
        elif ctx is ast.Store:
            self._bind_other(node.id, scope, "store", node)

    def _assign(self, node: ast.Assign, scope: Scope) -> None:
        targets = node.targets
        target = targets[0]
        if len(targets) == 1 and type(target) is ast.Name:
            self.visit(node.value, scope)
            counts = self.name_counts
            counts[target.id] = counts.get(target.id, 0) + 1
            binding = self._bind_other(target.id, scope, "assign", target)
            binding.stmt = node
            binding.value = node.value
        else:
            self._generic(node, scope)

    def _handler(self, node: ast.ExceptHandler, scope: Scope) -> None:
        self.in_handler += 1
        try:
            self._named_binding(node, scope)
        finally:
            self.in_handler -= 1

    def _attribute(self, node: ast.Attribute, scope: Scope) -> None:
        chain: list[ast.expr] = [node]
        inner = node.value
        while type(inner) is ast.Attribute:
            chain.append(inner)
            inner = inner.value  # type: ignore[attr-defined]
        if type(inner) is ast.Name:
            chain.append(inner)
            chain.reverse()
            self.chains.append((chain, scope))
        self.visit(inner, scope)

    def _call(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        self.call_funcs[func] = node
        if type(func) is ast.Name and func.id == "getattr":
            self.getattr_calls.append((node, scope))
        self.visit(func, scope)
        for arg in node.args:
            self.visit(arg, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        self._imports(node, scope)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        for dec in node.decorator_list:
            self.visit(dec, scope)
        self._bind_other(node.name, scope, "def", node)
        self.count(node.name)
        inner_scope = self.new_scope("function", scope, node)
        self._arguments(node.args, scope, inner_scope)
        if node.returns is not None:
            self.visit(node.returns, scope)
        for tp in getattr(node, "type_params", ()) or ():
            self.visit(tp, inner_scope)
        self.walk_body(node.body, inner_scope)

    def _lambda(self, node: ast.Lambda, scope: Scope) -> None:
        inner_scope = self.new_scope("function", scope, node)
        self._arguments(node.args, scope, inner_scope)
        self.visit(node.body, inner_scope)

    def _class(self, node: ast.ClassDef, scope: Scope) -> None:
        for dec in node.decorator_list:
            self.visit(dec, scope)
        for base in node.bases:
            self.visit(base, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)
        self._bind_other(node.name, scope, "class", node)
        self.count(node.name)
        inner_scope = self.new_scope("class", scope, node)
        for tp in getattr(node, "type_params", ()) or ():
            self.visit(tp, inner_scope)
        self.walk_body(node.body, inner_scope)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, scope: Scope) -> None:
        inner_scope = self.new_scope("comprehension", scope, node)
        for i, gen in enumerate(node.generators):
            # The first iterable is evaluated in the enclosing scope.
            self.visit(gen.iter, scope if i == 0 else inner_scope)
            self.visit(gen.target, inner_scope)
            for cond in gen.ifs:
                self.visit(cond, inner_scope)
        if isinstance(node, ast.DictComp):
            self.visit(node.key, inner_scope)
            self.visit(node.value, inner_scope)
        else:
            self.visit(node.elt, inner_scope)

    def _global(self, node: ast.Global, scope: Scope) -> None:
        scope.globals.update(node.names)
        for name in node.names:
            self.count(name)

    def _nonlocal(self, node: ast.Nonlocal, scope: Scope) -> None:
        scope.nonlocals.update(node.names)
        for name in node.names:
            self.count(name)

    def _named_binding(self, node: ast.AST, scope: Scope) -> None:
        # except ... as NAME, match captures, type parameters
        name = getattr(node, "rest", None) if isinstance(node, ast.MatchMapping) else getattr(node, "name", None)
        if name:
            self._bind_other(name, scope, "capture", node)
            self.count(name)
        self._generic(node, scope)

    def _arguments(self, args: ast.arguments, outer: Scope, inner: Scope) -> None:
        for default in (*args.defaults, *[d for d in args.kw_defaults if d is not None]):
            self.visit(default, outer)
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if args.vararg:
            every.append(args.vararg)
        if args.kwarg:
            every.append(args.kwarg)
        for arg in every:
            if arg.annotation is not None:
                self.visit(arg.annotation, outer)
            self._bind_other(arg.arg, inner, "param", arg)
            self.count(arg.arg)

    def _bind_other(self, name: str, scope: Scope, kind: BindingKind, node: ast.AST) -> Binding:
        target = self.module if name in scope.globals else scope
        if name in scope.nonlocals and scope.parent is not None:
            # Bound in the nearest enclosing function scope.
            target = scope.parent
            while target.kind == "class" and target.parent is not None:
                target = target.parent
        binding = Binding(name, None, kind, node)
        binding.written_in = scope
        if self.in_handler:
            binding.in_handler = True
        target.bind(binding)
        return binding

    def _imports(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        target = scope
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    name, qualname = alias.asname, alias.name
                else:
                    name = qualname = alias.name.split(".", 1)[0]
                self.count(name)
                self._bind_import(target, Binding(name, qualname, "import", alias, node, alias))
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                if node.level == 0:
                    star = Binding("*", module, "import", alias, node, alias, star=True)
                    star.scope = star.written_in = target
                    target.star_modules.append(star)
                continue
            name = alias.asname or alias.name
            self.count(name)
            qualname = f"{module}.{alias.name}" if node.level == 0 else None
            self._bind_import(target, Binding(name, qualname, "import", alias, node, alias))

    def _bind_import(self, scope: Scope, binding: Binding) -> None:
        binding.written_in = scope
        binding.in_handler = self.in_handler > 0
        if binding.name in scope.globals:
            self.module.bind(binding)
        else:
            scope.bind(binding)


_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}
# Fields that never hold a node worth visiting (operators, contexts, names).
_SKIP_FIELDS = frozenset(
    {"ctx", "op", "ops", "type_comment", "kind", "conversion", "is_async", "level", "simple", "id", "attr", "arg"}
)


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = tuple(f for f in cls._fields if f not in _SKIP_FIELDS)  # type: ignore[attr-defined]
    _CHILD_FIELDS[cls] = fields
    return fields


_HANDLERS: dict[type, object] = {
    ast.Name: _Collector._name,
    ast.Attribute: _Collector._attribute,
    ast.Assign: _Collector._assign,
    ast.Call: _Collector._call,
    ast.Import: _Collector._import,
    ast.ImportFrom: _Collector._import,
    ast.FunctionDef: _Collector._function,
    ast.AsyncFunctionDef: _Collector._function,
    ast.Lambda: _Collector._lambda,
    ast.ClassDef: _Collector._class,
    ast.ListComp: _Collector._comprehension,
    ast.SetComp: _Collector._comprehension,
    ast.GeneratorExp: _Collector._comprehension,
    ast.DictComp: _Collector._comprehension,
    ast.Global: _Collector._global,
    ast.Nonlocal: _Collector._nonlocal,
    ast.ExceptHandler: _Collector._handler,
    ast.MatchAs: _Collector._named_binding,
    ast.MatchStar: _Collector._named_binding,
    ast.MatchMapping: _Collector._named_binding,
    ast.Constant: _Collector._constant,
    ast.Pass: _Collector._leaf,
    ast.Break: _Collector._leaf,
    ast.Continue: _Collector._leaf,
}
for _name in ("TypeVar", "ParamSpec", "TypeVarTuple"):
    if hasattr(ast, _name):
        _HANDLERS[getattr(ast, _name)] = _Collector._named_binding


def _is_framework(qualname: str | None) -> bool:
    return qualname is not None and qualname.split(".", 1)[0] in FRAMEWORK_ROOTS


def analyse(tree: ast.Module) -> Analysis:
    collector = _Collector(tree)
    collector.walk_body(tree.body, collector.module)
    module = collector.module

    # Which identifiers can matter at all: names bound anywhere to a framework
    # import, plus class names reachable through a star import.
    relevant: set[str] = set()
    all_scopes = collector.scopes
    for scope in all_scopes:
        for name, bindings in scope.bindings.items():
            if any(_is_framework(b.qualname) for b in bindings):
                relevant.add(name)
        if any(_is_framework(star.qualname) for star in scope.star_modules):
            relevant.update(CLASS_NAMES)

    uses: dict[tuple[Scope, str], list[ast.Name]] = {}
    resolved: dict[ast.Name, tuple[str, list[Binding], Scope]] = {}
    for node, scope in collector.loads:
        if node.id not in relevant:
            continue
        qualname, bindings, owner = _resolve(node.id, scope, module)
        if owner is None or not bindings:
            continue
        uses.setdefault((owner, node.id), []).append(node)
        if qualname is not None and _is_framework(qualname):
            resolved[node] = (qualname, bindings, owner)

    def fallbacks(bindings: list[Binding], owner: Scope) -> list[Binding]:
        if not bindings or bindings[0].star:
            return []
        return [b for b in owner.bindings.get(bindings[0].name, ()) if b.qualname is None]

    references: list[Reference] = []
    claimed: set[ast.Name] = set()  # Name nodes that are the root of a longer chain
    call_funcs = collector.call_funcs
    for chain, scope in collector.chains:
        root = chain[0]
        assert isinstance(root, ast.Name)
        hit = resolved.get(root)
        if hit is None:
            continue
        qualname, bindings, owner = hit
        parts = [qualname]
        for level in chain[1:]:
            assert isinstance(level, ast.Attribute)
            parts.append(level.attr)
            spelled = ".".join(parts)
            api = BY_NAME.get(spelled)
            if api is not None:
                claimed.add(root)
                references.append(
                    Reference(level, spelled, api, root, bindings, scope, call_funcs.get(level),
                              fallback=fallbacks(bindings, owner))
                )
                break
        else:
            claimed.add(root)
    for node, scope in collector.loads:
        if node in claimed:
            continue
        hit = resolved.get(node)
        if hit is None:
            continue
        qualname, bindings, owner = hit
        api = BY_NAME.get(qualname)
        if api is not None:
            references.append(Reference(node, qualname, api, node, bindings, scope, call_funcs.get(node),
                                        fallback=fallbacks(bindings, owner)))
    # ``torch.optim.RMSprop`` where ``torch`` is bound nowhere but a non-framework star
    # import could bind it (``from deep_rl import *``, which imports torch itself).
    stars = [b for b in module.star_modules if not _is_framework(b.qualname)]
    for chain, scope in collector.chains if stars else ():
        root = chain[0]
        if root.id not in FRAMEWORK_ROOTS or root in resolved or _resolve(root.id, scope, module)[1]:
            continue
        parts = [root.id]
        for level in chain[1:]:
            parts.append(level.attr)  # type: ignore[attr-defined]
            api = BY_NAME.get(".".join(parts))
            if api is not None:
                references.append(Reference(level, ".".join(parts), api, root, [stars[0]], scope,
                                            call_funcs.get(level), via_star=stars[0]))
                break
    # ``getattr(torch.optim, "RMSprop")``: the class reached through a string.
    for call, scope in collector.getattr_calls:
        if len(call.args) < 2 or call.keywords:
            continue
        obj, attr = call.args[0], call.args[1]
        if not (type(attr) is ast.Constant and isinstance(attr.value, str)):
            continue  # a computed name: cannot be known, left alone
        root: ast.expr = obj
        while type(root) is ast.Attribute:
            root = root.value  # type: ignore[attr-defined]
        if type(root) is not ast.Name or root not in resolved or _resolve("getattr", scope, module)[1]:
            continue  # not a framework module, or ``getattr`` is not the builtin
        spelled = f"{_dotted(obj, resolved[root][0])}.{attr.value}"
        api = BY_NAME.get(spelled)
        if api is not None:
            references.append(Reference(call, spelled, api, root, resolved[root][1], scope,
                                        call_funcs.get(call), via_getattr=call))
    references.sort(key=lambda r: (r.node.lineno, r.node.col_offset))
    return Analysis(
        tree=tree,
        module_scope=module,
        references=references,
        uses=uses,
        name_counts=collector.name_counts,
        scopes=collector.scopes,
        loads=collector.loads,
        strings=collector.strings,
    )


def _dotted(node: ast.expr, root_qualname: str) -> str:
    attrs: list[str] = []
    while isinstance(node, ast.Attribute):
        attrs.append(node.attr)
        node = node.value
    return ".".join([root_qualname, *reversed(attrs)])


class LineIndex:
    """Converts ast positions (1-based line, UTF-8 byte column) to str offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        starts = [0]
        starts.extend(m.end() for m in _NEWLINE.finditer(source))
        self.starts = starts
        # An ASCII file's byte columns are its character columns: the common
        # case skips the per-line test (offset is called ~100 times per call).
        self.ascii = source.isascii()

    def line_text(self, lineno: int) -> str:
        start = self.starts[lineno - 1]
        end = self.starts[lineno] if lineno < len(self.starts) else len(self.source)
        return self.source[start:end]

    def char_col(self, lineno: int, byte_col: int) -> int:
        text = self.line_text(lineno)
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))

    def offset(self, lineno: int, byte_col: int) -> int:
        if self.ascii:
            return self.starts[lineno - 1] + byte_col
        return self.starts[lineno - 1] + self.char_col(lineno, byte_col)

    def span(self, node: ast.AST) -> tuple[int, int]:
        return (
            self.offset(node.lineno, node.col_offset),  # type: ignore[attr-defined]
            self.offset(node.end_lineno, node.end_col_offset),  # type: ignore[attr-defined]
        )

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and 1-based character column of a str offset."""
        import bisect

        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1
