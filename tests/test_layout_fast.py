"""The cheaper checks in ``engine/layout.py`` decide exactly as the ones they replace.

* ``same_tree(a, b)`` (a walk over both trees) is ``ast.dump(a) == ast.dump(b)``,
  the check that a broken call is still the same expression;
* ``_may_be_in_fstring`` with the file's first triple-quoted f-string found once
  answers as the search from the file's start it replaced.
"""

from __future__ import annotations

import ast
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmsport.engine.layout import _FSTRING_PREFIX, _TRIPLE_FSTRING_PREFIX, _first_triple_end, _may_be_in_fstring, same_tree

settings.register_profile("layout-dev", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "layout-ci", max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("layout-thorough", max_examples=5000, deadline=None)
_NAME = os.environ.get("RMSPORT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
PROFILE = settings.get_profile(f"layout-{_NAME}" if _NAME in ("dev", "ci", "thorough") else "layout-dev")

ATOMS = ["1", "1.0", "True", "0.0", "-0.0", "1e999", "'a'", "b'a'", "u'a'", "\"a\"", "x", "x.y", "None", "...", "1j",
         "0j", "f(x)", "[1, 2]", "(1, 2)", "{1: 2}", "{1}", "lambda a, b=1: a", "x[1:2]", "not x", "-x", "(x for x in y)",
         "f'{x}'", "f'{x!r:>3}'", "x if y else z", "a < b < c", "(y := 2)", "[x for x in y if x]", "await x",
         "f(*a, **k)", "f(a=1)", "x.y.z", "(1)", "((1))"]


@st.composite
def expressions(draw, depth=2):
    if depth == 0 or draw(st.booleans()):
        return draw(st.sampled_from(ATOMS))
    shape = draw(st.sampled_from(["call", "binop", "kw", "list", "attr"]))
    a, b = draw(expressions(depth=depth - 1)), draw(expressions(depth=depth - 1))
    return {
        "call": f"g({a}, {b})",
        "binop": f"({a}) + ({b})",
        "kw": f"g(k={a}, j={b})",
        "list": f"[{a}, {b}]",
        "attr": f"({a}).name",
    }[shape]


def _parse(text: str) -> ast.AST | None:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError:
        return None


@PROFILE
@given(expressions(), expressions(), st.booleans())
def test_same_tree_is_equal_dumps(a, b, reformat):
    if reformat:  # the same expression laid out differently
        b = re.sub(r",\s*", ",\n    ", a)
    left, right = _parse(a), _parse(b)
    if left is None or right is None:
        return
    assert same_tree(left, right) == (ast.dump(left) == ast.dump(right)), (a, b)


def test_same_tree_tells_apart_what_dump_tells_apart():
    pairs = [("1", "1.0"), ("1", "True"), ("0.0", "-0.0"), ("'a'", "b'a'"), ("'a'", "u'a'"), ("f(a, b)", "f(b, a)"),
             ("f(a)", "f(a,)"), ("f(k=1)", "f(j=1)"), ("x.y", "x.z"), ("a + b", "a - b"), ("[x]", "(x,)"),
             ("f(a)(b)", "f(a, b)")]
    for a, b in pairs:
        left, right = ast.parse(a, mode="eval"), ast.parse(b, mode="eval")
        assert same_tree(left, right) == (ast.dump(left) == ast.dump(right)), (a, b)
        assert same_tree(left, ast.parse(a.replace(", ", ",\n  "), mode="eval"))


SOURCE_PIECES = ["x = 1\n", "s = f'''\n", "a = f'{b}'\n", "rf'''x'''\n", "elf'''\n", "'''f'''\n", "y = RMSprop()\n",
                 "t = Rf\"\"\"\n", "# f'''\n", "bf'''\n", "u = FR'''\n"]


@PROFILE
@given(st.lists(st.sampled_from(SOURCE_PIECES), min_size=1, max_size=8), st.data())
def test_fstring_precheck_answers_as_the_search_from_the_start(pieces, data):
    source = "".join(pieces)
    start = data.draw(st.integers(0, len(source)))
    line_start = source.rfind("\n", 0, start) + 1
    before = bool(_FSTRING_PREFIX.search(source, line_start, start) or _TRIPLE_FSTRING_PREFIX.search(source, 0, start))
    assert _may_be_in_fstring(source, line_start, start, _first_triple_end(source)) == before
    assert _may_be_in_fstring(source, line_start, start) == before
