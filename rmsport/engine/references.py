"""Say what a reference to an optimizer class that is not a call *is* (RMS103).

A class named without being called is not rewritten, and why that matters, and
what to do instead, depends on the role the name plays: a base class inherits
the old framework's constructor and update rule; an ``isinstance`` check or an
annotation keeps naming the old class after the calls are converted; a class
kept in a table or passed to a factory is called elsewhere, with arguments
rmsport cannot see.  :func:`describe_reference` finds the role from the syntax
around the name and words the finding for it.

Only the ``ast`` tree is needed (no analysis state), so the converter hands over
the node and the module and gets back one message.
"""

from __future__ import annotations

import ast

__all__ = ["describe_reference", "reference_role"]

# The converter asks about a handful of nodes per file at most; the parent map
# of the last module asked about is kept, so several references cost one walk.
_last_tree: ast.AST | None = None
_last_parents: dict[int, ast.AST] = {}


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    global _last_tree, _last_parents
    if tree is not _last_tree:
        _last_parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        _last_tree = tree
    return _last_parents


def _enclosing_name(node: ast.AST, parents: dict[int, ast.AST]) -> str | None:
    current = parents.get(id(node))
    while current is not None:
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return current.name
        current = parents.get(id(current))
    return None


def _callee(call: ast.Call) -> str:
    func = call.func
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
        return ".".join(reversed(parts))
    return "a call"


def _parameter_with_default(arguments: ast.arguments, default: ast.AST) -> str:
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = [
        *zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults),
        *zip(arguments.kwonlyargs, arguments.kw_defaults),
    ]
    return next((arg.arg for arg, value in pairs if value is default), "?")


def _targets(node: ast.AST) -> str:
    if isinstance(node, ast.Assign):
        names = [ast.unparse(t) for t in node.targets]
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
        names = [ast.unparse(node.target)]
    else:  # pragma: no cover - callers pass assignments only
        names = []
    return " = ".join(names)


def reference_role(node: ast.AST, tree: ast.AST) -> tuple[str, str]:
    """``(kind, detail)`` for a class reference ``node`` inside ``tree``.

    ``kind`` is one of ``base class``, ``type check``, ``annotation``,
    ``table``, ``argument``, ``alias``, ``default``, ``return``, ``other``;
    ``detail`` names the place (class, function, variable) where it helps.
    """
    parents = _parents(tree)
    child: ast.AST = node
    parent = parents.get(id(child))
    container = None  # the first list/tuple/set/dict met on the way up
    while parent is not None:
        if isinstance(parent, ast.ClassDef) and any(base is child for base in parent.bases):
            return "base class", parent.name
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)) and parent.returns is child:
            return "annotation", f"return annotation of {parent.name}()"
        if isinstance(parent, ast.arg) and parent.annotation is child:
            return "annotation", f"annotation of parameter {parent.arg}"
        if isinstance(parent, ast.AnnAssign) and parent.annotation is child:
            return "annotation", f"annotation of {ast.unparse(parent.target)}"
        if isinstance(parent, ast.Call):
            callee = _callee(parent)
            if callee in ("isinstance", "issubclass") and len(parent.args) > 1 and parent.args[1] is child:
                return "type check", f"{callee}()"
            if child is not parent.func:
                if container is not None:
                    return "table", f"{container} passed to {callee}()"
                return "argument", f"{callee}()"
            return "other", ""
        if isinstance(parent, ast.Compare):
            return "type check", "comparison"
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set)):
            container = container or type(parent).__name__.lower()
        elif isinstance(parent, ast.Dict):
            container = "dict"
        elif isinstance(parent, ast.arguments):
            owner = parents.get(id(parent))
            where = f"{owner.name}()" if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef)) else "a lambda"
            return "default", f"default of parameter {_parameter_with_default(parent, child)} of {where}"
        elif isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            if container is not None:
                return "table", f"{container} {_targets(parent)}"
            return "alias", _targets(parent)
        elif isinstance(parent, ast.Return):
            return "return", f"{_enclosing_name(parent, parents) or 'a function'}()"
        elif not isinstance(parent, (ast.Subscript, ast.BinOp, ast.Starred, ast.IfExp, ast.keyword)):
            break
        child, parent = parent, parents.get(id(parent))
    if container is not None:
        return "table", container
    return "other", ""


def describe_reference(spelled: str, node: ast.AST, tree: ast.AST, target: str | None = None) -> str:
    """The RMS103 message for ``spelled`` (the class as written) at ``node``.

    ``target`` is the class the converted calls now construct, named in the
    advice where the user must write it by hand.
    """
    kind, detail = reference_role(node, tree)
    new = target or "the converted class"
    if kind == "base class":
        return (
            f"{spelled} is the base class of {detail}; not rewritten: the subclass inherits its constructor "
            f"and update rule, so port {detail} by hand (its super().__init__ call uses the old argument names)"
        )
    if kind == "type check":
        return (
            f"{spelled} is used in a type check ({detail}); not rewritten: once the calls are converted "
            f"the objects are {new}, so update the check by hand"
        )
    if kind == "annotation":
        return (
            f"{spelled} is a type annotation ({detail}); not rewritten: annotations construct nothing; "
            f"change it to {new} by hand if the code now holds one"
        )
    if kind == "table":
        return (
            f"{spelled} is a value in a table ({detail}); not rewritten: it is called where it is looked up, "
            "with arguments rmsport cannot see; convert that call by hand"
        )
    if kind == "argument":
        return (
            f"{spelled} is passed to {detail} as a value; not rewritten: it is called there, "
            "with arguments rmsport cannot see; convert that call by hand"
        )
    if kind == "alias":
        return (
            f"{spelled} is assigned to {detail}; not rewritten: calls through {detail} pass their arguments "
            "elsewhere; convert them by hand"
        )
    if kind == "default":
        return (
            f"{spelled} is the {detail}; not rewritten: it is called with arguments rmsport cannot see; "
            "convert that call by hand"
        )
    if kind == "return":
        return (
            f"{spelled} is returned from {detail}; not rewritten: the caller calls it with arguments "
            "rmsport cannot see; convert that call by hand"
        )
    return f"{spelled} is referenced but not called here; not rewritten: convert this use by hand"
