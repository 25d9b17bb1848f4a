"""The binding table and its flow queries (analysis.py, flow.py), table-driven."""

from __future__ import annotations

import ast

import pytest

from rmsport.engine.analysis import analyse


def _last_call(tree: ast.Module) -> ast.Call:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Call)][-1]


BOUND = [
    ("import m\nf()", True),
    ("f()\nimport m", False),
    ("if a:\n    import m\nelse:\n    import m\nf()", True),
    ("if a:\n    import m\nf()", False),
    ("try:\n    import m\nexcept ImportError:\n    m = None\nf()", True),
    ("try:\n    import m\nexcept ImportError:\n    pass\nf()", False),
    ("try:\n    import m\nexcept ImportError:\n    raise\nf()", True),
    ("for x in y:\n    import m\nf()", False),
    ("with c:\n    import m\nf()", True),
    ("def g():\n    f()\nimport m", False),  # g() may be called before the import runs
    ("import m\ndef g():\n    f()", True),
    ("class C:\n    f()\nimport m", False),  # a class body runs at once
    ("try:\n    pass\nfinally:\n    import m\nf()", True),
    ("match v:\n    case 1:\n        import m\n    case _:\n        import m\nf()", True),
    ("match v:\n    case 1:\n        import m\nf()", False),
]


@pytest.mark.parametrize("source, expected", BOUND)
def test_bound_before(source, expected):
    tree = ast.parse(source)
    analysis = analyse(tree)
    assert analysis.flow.bound_before("m", analysis.module_scope, _last_call(tree)) is expected


FOLLOW = [
    ("x = [1, 2]\nf(x)", "[1, 2]"),
    ("x = 0.1\ny = x\nf(y)", "0.1"),
    ("x = 1\nx = 2\nf(x)", None),
    ("if a:\n    x = 1\nf(x)", None),
    ("x = []\nx.append(1)\nf(x)", None),
    ("x = {}\nx['k'] = 1\nf(x)", None),
    ("def g(x):\n    f(x)", None),
    ("f(x)\nx = 1", None),
    ("x = g()\nf(x)", "g()"),
    ("def m(self):\n    self.p = [1]\n    f(self.p)", "[1]"),
    ("def m(self):\n    self.p = [1]\n    self.p += [2]\n    f(self.p)", None),
    ("def m(self):\n    self.p = [1]\n    self.p.append(2)\n    f(self.p)", None),
    ("def m(self):\n    f(self.p)", None),
]


@pytest.mark.parametrize("source, expected", FOLLOW)
def test_follow(source, expected):
    tree = ast.parse(source)
    analysis = analyse(tree)
    call = _last_call(tree) if "g()" not in source else [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "f"][0]
    scope = analysis.scopes[-1] if source.startswith("def") else analysis.module_scope
    followed = analysis.value_of(call.args[0], scope, call)
    if expected is None:
        assert followed.value is None and followed.why
    else:
        assert followed.value is not None and ast.unparse(followed.value) == expected


def test_binding_records_kind_value_and_site():
    tree = ast.parse("import torch as t\nif c:\n    lr = 0.1\n")
    analysis = analyse(tree)
    module = analysis.module_scope
    (imp,) = module.bindings["t"]
    (lr,) = module.bindings["lr"]
    assert (imp.kind, imp.qualname) == ("import", "torch")
    assert lr.kind == "assign" and ast.unparse(lr.value) == "0.1"
    site = analysis.flow.site(lr.node)
    assert site.index == 0 and isinstance(site.arms[0][0], ast.If) and site.arms[0][1] == "body"


@pytest.mark.parametrize(
    "source, resolved",
    [
        ("try:\n    from torch.optim import RMSprop as R\nexcept ImportError:\n    R = None\nR(p)", True),
        ("try:\n    from torch.optim import RMSprop as R\nexcept ImportError:\n    R = Other\nR(p)", False),
        ("from torch.optim import RMSprop as R\nR = 3\nR(p)", False),
    ],
)
def test_import_with_none_fallback_resolves(source, resolved):
    analysis = analyse(ast.parse(source))
    assert bool(analysis.references) is resolved


def test_getattr_with_literal_name_is_a_reference():
    analysis = analyse(ast.parse('import torch\ngetattr(torch.optim, "RMSprop")(p)\ngetattr(torch.optim, n)(p)\n'))
    (ref,) = analysis.references
    assert ref.via_getattr is not None and ref.spelled == "torch.optim.RMSprop"
