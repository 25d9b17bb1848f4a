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
rewritten: a local variable called ``RMSprop`` is left alone.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..tables.optimizers import BY_NAME, CLASS_NAMES, Api

FRAMEWORK_ROOTS = ("torch", "mindspore")
_NEWLINE = re.compile(r"\r\n|\r|\n")


@dataclass(eq=False)
class Binding:
    name: str
    qualname: str | None  # for imports: what the name is bound to; None for anything else
    stmt: ast.stmt | None = None  # the Import / ImportFrom
    alias: ast.alias | None = None
    scope: Scope | None = None
    star: bool = False


@dataclass(eq=False)
class Scope:
    kind: str  # module | function | class | comprehension
    parent: Scope | None
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


@dataclass
class Analysis:
    tree: ast.Module
    module_scope: Scope
    references: list[Reference]
    # Name loads of framework-bound names: id(Binding list owner) -> nodes.
    uses: dict[tuple[int, str], list[ast.Name]]
    # How often each identifier occurs (loads, stores, params, import aliases...).
    name_counts: dict[str, int]
    # id(import stmt) -> (id(body list), len(body list), parent is module)
    stmt_blocks: dict[int, tuple[int, int]]
    scopes: list[Scope]
    stmt_scope: dict[int, Scope]

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
            return None, found, s
        for star in s.star_modules:
            candidate = f"{star.qualname}.{name}"
            if candidate in BY_NAME:
                return candidate, [star], s
        s = s.parent
    return None, [], None


class _Collector:
    """One walk over the tree: scopes, bindings, loads and attribute chains."""

    def __init__(self) -> None:
        self.module = Scope("module", None)
        self.loads: list[tuple[ast.Name, Scope]] = []
        self.chains: list[tuple[list[ast.expr], Scope]] = []  # [Name, Attr, Attr...]
        self.call_funcs: dict[int, ast.Call] = {}
        self.name_counts: dict[str, int] = {}
        self.stmt_blocks: dict[int, tuple[int, int]] = {}
        self.scopes: list[Scope] = [self.module]
        self.stmt_scope: dict[int, Scope] = {}  # id(import stmt) -> scope it is written in

    def new_scope(self, kind: str, parent: Scope) -> Scope:
        scope = Scope(kind, parent)
        self.scopes.append(scope)
        return scope

    def count(self, name: str) -> None:
        self.name_counts[name] = self.name_counts.get(name, 0) + 1

    # -- walking -------------------------------------------------------------
    def walk_body(self, body: list[ast.stmt], scope: Scope) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.stmt_blocks[id(stmt)] = (id(body), len(body))
                self.stmt_scope[id(stmt)] = scope
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
            self._bind_other(node.id, scope)

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
        self.call_funcs[id(node.func)] = node
        self.visit(node.func, scope)
        for arg in node.args:
            self.visit(arg, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        self._imports(node, scope)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope) -> None:
        for dec in node.decorator_list:
            self.visit(dec, scope)
        self._bind_other(node.name, scope)
        self.count(node.name)
        inner_scope = self.new_scope("function", scope)
        self._arguments(node.args, scope, inner_scope)
        if node.returns is not None:
            self.visit(node.returns, scope)
        for tp in getattr(node, "type_params", ()) or ():
            self.visit(tp, inner_scope)
        self.walk_body(node.body, inner_scope)

    def _lambda(self, node: ast.Lambda, scope: Scope) -> None:
        inner_scope = self.new_scope("function", scope)
        self._arguments(node.args, scope, inner_scope)
        self.visit(node.body, inner_scope)

    def _class(self, node: ast.ClassDef, scope: Scope) -> None:
        for dec in node.decorator_list:
            self.visit(dec, scope)
        for base in node.bases:
            self.visit(base, scope)
        for kw in node.keywords:
            self.visit(kw.value, scope)
        self._bind_other(node.name, scope)
        self.count(node.name)
        inner_scope = self.new_scope("class", scope)
        for tp in getattr(node, "type_params", ()) or ():
            self.visit(tp, inner_scope)
        self.walk_body(node.body, inner_scope)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, scope: Scope) -> None:
        inner_scope = self.new_scope("comprehension", scope)
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
            self._bind_other(name, scope)
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
            self._bind_other(arg.arg, inner)
            self.count(arg.arg)

    def _bind_other(self, name: str, scope: Scope) -> None:
        target = self.module if name in scope.globals else scope
        if name in scope.nonlocals and scope.parent is not None:
            # Bound in the nearest enclosing function scope.
            target = scope.parent
            while target.kind == "class" and target.parent is not None:
                target = target.parent
        target.bind(Binding(name, None))

    def _imports(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        target = scope
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    name, qualname = alias.asname, alias.name
                else:
                    name = qualname = alias.name.split(".", 1)[0]
                self.count(name)
                self._bind_import(target, Binding(name, qualname, node, alias))
            return
        module = node.module or ""
        for alias in node.names:
            if alias.name == "*":
                if node.level == 0:
                    star = Binding("*", module, node, alias, star=True)
                    star.scope = target
                    target.star_modules.append(star)
                continue
            name = alias.asname or alias.name
            self.count(name)
            qualname = f"{module}.{alias.name}" if node.level == 0 else None
            self._bind_import(target, Binding(name, qualname, node, alias))

    def _bind_import(self, scope: Scope, binding: Binding) -> None:
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
    ast.ExceptHandler: _Collector._named_binding,
    ast.MatchAs: _Collector._named_binding,
    ast.MatchStar: _Collector._named_binding,
    ast.MatchMapping: _Collector._named_binding,
    ast.Constant: _Collector._leaf,
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
    collector = _Collector()
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

    uses: dict[tuple[int, str], list[ast.Name]] = {}
    resolved: dict[int, tuple[str, list[Binding], Scope]] = {}
    for node, scope in collector.loads:
        if node.id not in relevant:
            continue
        qualname, bindings, owner = _resolve(node.id, scope, module)
        if owner is None or not bindings:
            continue
        uses.setdefault((id(owner), node.id), []).append(node)
        if qualname is not None and _is_framework(qualname):
            resolved[id(node)] = (qualname, bindings, owner)

    references: list[Reference] = []
    claimed: set[int] = set()  # Name nodes that are the root of a longer chain
    for chain, scope in collector.chains:
        root = chain[0]
        assert isinstance(root, ast.Name)
        hit = resolved.get(id(root))
        if hit is None:
            continue
        qualname, bindings, _ = hit
        parts = [qualname]
        for level in chain[1:]:
            assert isinstance(level, ast.Attribute)
            parts.append(level.attr)
            spelled = ".".join(parts)
            api = BY_NAME.get(spelled)
            if api is not None:
                claimed.add(id(root))
                references.append(
                    Reference(level, spelled, api, root, bindings, scope, collector.call_funcs.get(id(level)))
                )
                break
        else:
            claimed.add(id(root))
    for node, scope in collector.loads:
        if id(node) in claimed:
            continue
        hit = resolved.get(id(node))
        if hit is None:
            continue
        qualname, bindings, _ = hit
        api = BY_NAME.get(qualname)
        if api is not None:
            references.append(Reference(node, qualname, api, node, bindings, scope, collector.call_funcs.get(id(node))))
    references.sort(key=lambda r: (r.node.lineno, r.node.col_offset))
    return Analysis(
        tree=tree,
        module_scope=module,
        references=references,
        uses=uses,
        name_counts=collector.name_counts,
        stmt_blocks=collector.stmt_blocks,
        scopes=collector.scopes,
        stmt_scope=collector.stmt_scope,
    )


class LineIndex:
    """Converts ast positions (1-based line, UTF-8 byte column) to str offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        starts = [0]
        starts.extend(m.end() for m in _NEWLINE.finditer(source))
        self.starts = starts

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
