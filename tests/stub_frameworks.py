"""Small stand-ins for torch and MindSpore, to run converted modules for real.

Every ``torch.*`` / ``mindspore.*`` module is importable; the three RMSProp
classes record how they were built (and MindSpore's ``nn.RMSProp`` checks its
float-only arguments the way MindSpore does); anything else is ``Any``, an object
that accepts every operation.  ``run_module`` executes a source text with the
stubs installed and returns the constructions, so a test can ask: did the
converted module build the target class wherever the original built the source
class, and with keywords the target accepts?
"""

from __future__ import annotations

import ast
import builtins
import importlib.abc
import importlib.machinery
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass, field


class Any:
    """Accepts every operation; numbers come out as 2 (iterations) or 0.5."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Any()

    def __call__(self, *args: object, **kwargs: object) -> Any:
        return Any()

    def __iter__(self):
        return iter((Any(), Any()))  # unpacks as a pair, loops twice

    def __index__(self) -> int:
        return 2

    def __float__(self) -> float:
        return 0.5

    def __format__(self, spec: str) -> str:
        return "0.5"

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, key: object) -> Any:
        return Any()

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _op(self, *other: object) -> Any:
        return Any()

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _op
    __pow__ = __rpow__ = __neg__ = __pos__ = __matmul__ = __mod__ = __floordiv__ = _op
    __lt__ = __le__ = __gt__ = __ge__ = _op  # type: ignore[assignment]


@dataclass
class Built:
    qualname: str
    args: tuple
    kwargs: dict


@dataclass
class Run:
    built: list[Built] = field(default_factory=list)


_RUN: Run | None = None
_FLOAT_ONLY = {"mindspore.nn.RMSProp": ("decay", "momentum", "epsilon")}


def _recorder(qualname: str) -> type:
    def __init__(self, *args: object, **kwargs: object) -> None:
        for name in _FLOAT_ONLY.get(qualname, ()):
            if name in kwargs and not isinstance(kwargs[name], float):
                raise TypeError(f"{qualname}: {name} must be float, got {type(kwargs[name]).__name__}")
        assert _RUN is not None
        _RUN.built.append(Built(qualname, args, kwargs))

    def __getattr__(self, name: str) -> Any:  # zero_grad, step, state_dict...
        return Any()

    namespace = {"__init__": __init__, "__getattr__": __getattr__, "__qualname__": qualname}
    return type(qualname.rsplit(".", 1)[1], (), namespace)


CLASSES = {
    "torch.optim": {"RMSprop": _recorder("torch.optim.RMSprop")},
    "mindspore.nn": {"RMSProp": _recorder("mindspore.nn.RMSProp")},
    "mindspore.experimental.optim": {"RMSprop": _recorder("mindspore.experimental.optim.RMSprop")},
}
CLASSES["mindspore.nn.optim"] = CLASSES["mindspore.nn"]


class _StubModule(types.ModuleType):
    def __call__(self, *args: object, **kwargs: object) -> Any:  # ``torch.tensor(...)``
        return Any()

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        child = f"{self.__name__}.{name}"
        if child in sys.modules:
            return sys.modules[child]
        if name[:1].islower() and name not in ("tensor", "zeros", "randn", "float32", "save"):
            return importlib.import_module(child)
        return Any


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots: tuple[str, ...] | None = ("torch", "mindspore")) -> None:
        self.roots = roots  # None: any module (the fallback for other libraries a fixture imports)

    def find_spec(self, fullname, path, target=None):
        if self.roots is None or fullname.split(".", 1)[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        for name, cls in CLASSES.get(spec.name, {}).items():
            setattr(module, name, cls)
        return module

    def exec_module(self, module) -> None:
        parent, _, child = module.__name__.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)


@contextmanager
def stub_frameworks():
    saved = {k: v for k, v in sys.modules.items() if k.split(".", 1)[0] in ("torch", "mindspore")}
    for key in saved:
        del sys.modules[key]
    finder, fallback = _Finder(), _Finder(None)
    sys.meta_path.insert(0, finder)
    sys.meta_path.append(fallback)
    argv, sys.argv = sys.argv, ["converted.py"]  # argparse in a script reads no pytest flags
    added = set()
    try:
        yield added
    finally:
        sys.argv = argv
        sys.meta_path.remove(finder)
        sys.meta_path.remove(fallback)
        for key in [k for k in sys.modules if isinstance(sys.modules[k], _StubModule)]:
            del sys.modules[key]
        for key in [k for k in sys.modules if k.split(".", 1)[0] in ("torch", "mindspore")]:
            del sys.modules[key]
        sys.modules.update(saved)


def free_names(source: str) -> set[str]:
    """Names a module loads but never binds (the fixture's ``model``, ``params``...)."""
    tree = ast.parse(source)
    bound, loaded = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".", 1)[0])
    return loaded - bound - set(dir(builtins))


def run_module(source: str, free: set[str], **values: object) -> Run:
    """Execute ``source`` as ``__main__`` with stubs; then call each top-level function.

    ``free`` are the names to provide as ``Any`` (computed from the *original*
    module, so a name the conversion forgot to bind still raises NameError).
    """
    global _RUN
    _RUN = run = Run()
    namespace: dict[str, object] = {"__name__": "__main__", **{name: Any() for name in free}, **values}
    with stub_frameworks():
        exec(compile(source, "<converted>", "exec"), namespace)
        for stmt in ast.parse(source).body:
            if isinstance(stmt, ast.FunctionDef) and stmt.name != "main":
                required = len(stmt.args.posonlyargs) + len(stmt.args.args) - len(stmt.args.defaults)
                namespace[stmt.name](*[Any() for _ in range(required)])  # type: ignore[operator]
    _RUN = None
    return run
