"""The text path (``engine/textbuild.py``) writes exactly what the libcst path writes.

``pipeline.build`` writes most rewritten calls by offset edits on their own
text and sends the rest through libcst.  For every call the text path claims,
the two must give the same bytes: checked here per call (before layout) and per
module (``build`` with ``text_path`` on and off: same calls, same texts, same
refusals), over every fixture under ``fixtures/convert/`` in every direction,
and over generated calls (keyword/positional mixes, int/float/negative
literals, parameter methods, param-group lists, multi-line layouts with and
without a trailing comma, comments, tabs, CRLF, non-ASCII text before the call
on its line).  A second test keeps the text path claiming the calls of the
benchmark's call-dense corpus, so it cannot silently stop applying.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_properties import modules as property_modules
from test_properties import ms_modules

from rmsport.engine import pipeline
from rmsport.engine.analysis import analyse
from rmsport.engine.convert import Options, convert_source
from rmsport.engine.imports import plan_imports
from rmsport.engine.pipeline import Module, build, select
from rmsport.engine.rewrite import CannotRewrite
from rmsport.engine.uses import follow

ROOT = Path(__file__).resolve().parent.parent
ALL_OPTIONS = [
    Options(to="mindspore", target="nn", eps_mapping="literal"),
    Options(to="mindspore", target="nn", eps_mapping="matched"),
    Options(to="mindspore", target="experimental", eps_mapping="literal"),
    Options(to="mindspore", target="experimental", eps_mapping="matched"),
    Options(to="torch", target="nn", eps_mapping="literal"),
    Options(to="torch", target="nn", eps_mapping="matched"),
]

settings.register_profile(
    "textbuild-dev", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "textbuild-ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "textbuild-thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
_NAME = os.environ.get("RMSPORT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
PROFILE = settings.get_profile(f"textbuild-{_NAME}" if _NAME in ("dev", "ci", "thorough") else "textbuild-dev")


def compare_both_ways(source: str, options: Options) -> tuple[int, int]:
    """Build every call of ``source`` both ways and assert they agree wherever the
    text path claims a call; returns (calls, calls the text path claimed)."""
    module = Module(source, "<test>", analyse(ast.parse(source)))
    selection = select(module, options)
    follow(module, selection, options)
    sites = selection.sites
    if not sites:
        return 0, 0
    imports = plan_imports(
        module.analysis,
        module.index,
        [(s.ref, s.plan.dst.qualname) for s in sites if not pipeline._attr_fix(s)],
        module.newline,
        module.opaque,
    )
    claimed = 0
    for site in sites:
        nested = any(o is not site and site.start <= o.start and o.end <= site.end for o in sites)
        fast = pipeline._build_text(module, site, imports)
        if fast is None or nested:
            continue  # nested: build never asks the text path for a call holding another one
        claimed += 1
        text = source[site.start : site.end]
        try:
            slow = pipeline._build_libcst(module, site, text, imports)
        except Exception as exc:  # noqa: BLE001 - reported below
            pytest.fail(f"text path wrote {fast!r} for {text!r}, libcst refuses it: {exc!r}")
        assert fast == slow, f"for {text!r}"

    # The whole build, both ways: same calls, same texts (after layout), same refusals.
    fast_imports, fast_built, fast_refused = build(module, sites, text_path=True)
    slow_imports, slow_built, slow_refused = build(module, sites, text_path=False)
    assert [(b.site.start, b.text) for b in fast_built] == [(b.site.start, b.text) for b in slow_built]
    assert [(f.line, f.message) for f in fast_refused] == [(f.line, f.message) for f in slow_refused]
    assert fast_imports.edits == slow_imports.edits
    return len(sites), claimed


# -- the fixtures ----------------------------------------------------------------
FIXTURE_FILES = sorted(
    p for p in (FIXTURES / "convert").glob("*/*.py") if p.name in ("input.py", "expected.py", "back.py")
)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_calls_build_the_same_both_ways(path: Path):
    with open(path, encoding="utf-8", newline="") as fh:
        source = fh.read()
    try:
        ast.parse(source)
    except SyntaxError:
        pytest.fail(f"{path} does not parse")
    for options in ALL_OPTIONS:
        compare_both_ways(source, options)


def test_the_fixtures_exercise_the_text_path():
    total = claimed = 0
    for path in FIXTURE_FILES:
        with open(path, encoding="utf-8", newline="") as fh:
            source = fh.read()
        for options in ALL_OPTIONS:
            calls, fast = compare_both_ways(source, options)
            total, claimed = total + calls, claimed + fast
    assert total > 200
    assert claimed > total // 2, (claimed, total)


# -- generated calls -------------------------------------------------------------
TORCH_HEADS = {
    "torch.optim.RMSprop": "import torch\n",
    "optim.RMSprop": "from torch import optim\n",
    "RMSprop": "from torch.optim import RMSprop\n",
    "torch.optim.RMSProp": "import torch\n",  # misspelled
}
MS_HEADS = {
    "nn.RMSProp": "from mindspore import nn\n",
    "ms.nn.RMSProp": "import mindspore as ms\n",
    "mindspore.nn.RMSprop": "import mindspore\n",  # misspelled
    "optim.RMSprop": "from mindspore.experimental import optim\n",
}
TORCH_KEYWORDS = ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered")
MS_KEYWORDS = ("params", "learning_rate", "decay", "momentum", "epsilon", "use_locking", "centered", "loss_scale",
               "weight_decay")
MS_EXPERIMENTAL_KEYWORDS = ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered")

numbers = st.sampled_from(
    ["1", "0", "2", "1_000", "0x10", "0o7", "-1", "- 2", "+3", "-(1)", "0.5", "1e-3", "-0.25", "1E-8", "10 ** -8",
     "1e-3 * 2", "(0.9)", "0.0", "True", "False"]
)
expressions = st.sampled_from(
    ["args.lr", "cfg['eps']", "self.alpha", "lr", "scale * 2", "torch.tensor(0.01)", "get()", "x if y else 0.9",
     "-args.eps", "(args.lr)", "float(args.lr)", "ε", "\"été\""]
)
params_values = st.sampled_from(
    [
        "model.parameters()",
        "net.trainable_params()",
        "模型.parameters()",
        "params",
        "list(model.parameters())",
        "model.parameters(recurse=True)",
        "(p for p in model.parameters())",
        '[{"params": model.a.parameters(), "lr": 0.1}, {"params": model.b.parameters()}]',
        '[\n        {"params": net.a.trainable_params(), "weight_decay": 0.01},\n        {"params": net.b.trainable_params()},\n    ]',
        "[{'params': model.parameters()}, {'params': (model.head.parameters()), 'lr': 1}]",
        "(model.parameters())",
    ]
)


@st.composite
def calls(draw, torch_source: bool):
    heads = TORCH_HEADS if torch_source else MS_HEADS
    func = draw(st.sampled_from(sorted(heads)))
    if torch_source:
        names = TORCH_KEYWORDS
    elif func.startswith("optim."):
        names = MS_EXPERIMENTAL_KEYWORDS
    else:
        names = MS_KEYWORDS
    count = draw(st.integers(1, len(names)))
    chosen = list(names[:1]) + draw(st.permutations(names[1:]))[: count - 1]
    positional = draw(st.integers(0, count))
    # positional arguments must be a prefix of the API's order
    positional_names = [n for n in names[:positional]]
    args = []
    for i, name in enumerate(positional_names):
        args.append((None, draw(params_values) if i == 0 else draw(st.one_of(numbers, expressions))))
    for name in chosen:
        if name in positional_names:
            continue
        value = draw(params_values) if name == "params" else draw(st.one_of(numbers, expressions))
        args.append((name, value))
    equal = draw(st.sampled_from(["=", "=", " = "]))
    written = [value if name is None else f"{name}{equal}{value}" for name, value in args]
    layout = draw(st.sampled_from(["line", "hanging", "hanging", "visual", "first-on-line"]))
    indent = draw(st.sampled_from(["    ", "\t", "        "]))
    comments = draw(st.booleans())
    trailing = draw(st.booleans())
    if layout == "line":
        sep = draw(st.sampled_from([", ", ",", " , "]))
        inner = sep.join(written) + ("," if trailing and written else "")
        text = f"{func}({inner})"
    elif layout == "first-on-line":
        text = f"{func}(" + (",\n" + indent).join(written) + (",\n" if trailing else "\n") + ")"
    else:
        pieces = []
        for i, w in enumerate(written):
            comment = "  # note (see, it)" if comments and i % 2 == 0 else ""
            last = i == len(written) - 1
            pieces.append(indent + w + ("," if (not last or trailing) else "") + comment)
        if layout == "visual":
            pad = " " * (len(func) + 1)
            text = f"{func}(" + ("\n" + pad).join(p.strip() for p in pieces) + ")"
        else:
            text = f"{func}(\n" + "\n".join(pieces) + "\n)"
    prefix = draw(st.sampled_from(["opt = ", "s = 'héllo wörld'; opt = ", "名前 = 1; opt = ", "x = {'é': 1}; opt = ",
                                   "opt = wrap(", "opt = [", "print('α'); opt = "]))
    suffix = ")" if prefix.endswith("(") else "]" if prefix.endswith("[") else ""
    return heads[func], prefix + text + suffix


@st.composite
def modules(draw):
    torch_source = draw(st.booleans())
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        head, line = draw(calls(torch_source))
        if head not in parts:
            parts.insert(0, head)
        parts.append(line + "\n")
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    source = "".join(parts)
    source = source.replace("\n", newline)
    return torch_source, source


@PROFILE
@given(modules(), st.sampled_from(["nn", "experimental"]), st.sampled_from(["literal", "matched"]))
def test_generated_calls_build_the_same_both_ways(module, target, eps_mapping):
    torch_source, source = module
    try:
        ast.parse(source)
    except SyntaxError:
        return  # a generated layout Python refuses (not the converter's concern)
    options = Options(to="mindspore" if torch_source else "torch", target=target, eps_mapping=eps_mapping)
    compare_both_ways(source, options)


@PROFILE
@given(property_modules())
def test_the_property_modules_build_the_same_both_ways(module):
    """The modules ``test_properties.py`` converts (every import style, comments, classes, CRLF)."""
    for options in ALL_OPTIONS[:4]:
        compare_both_ways(module.source, options)


@PROFILE
@given(ms_modules())
def test_the_mindspore_property_modules_build_the_same_both_ways(case):
    for options in ALL_OPTIONS[4:]:
        compare_both_ways(case[0], options)


def test_cases_the_text_path_must_match_exactly():
    cases = [
        # pins inline, one per line after a trailing comma, and after no trailing comma
        "from torch import optim\nopt = optim.RMSprop(model.parameters(), lr=1)\n",
        "from torch import optim\nopt = optim.RMSprop(\n    model.parameters(),\n    lr=1,\n)\n",
        "from torch import optim\nopt = optim.RMSprop(\n    model.parameters(),\n    lr=1\n)\n",
        "from torch import optim\nopt = optim.RMSprop(\n    model.parameters(),  # the model\n    lr=1  # one\n)\n",
        "from torch import optim\nopt = optim.RMSprop(model.parameters(),\n                    lr=1)\n",
        "from torch import optim\nopt = optim.RMSprop(model.parameters(), lr=1,\n)\n",
        # byte vs character offsets: non-ASCII text before the call on its line
        "from torch import optim\ns = 'ünïcödé'; opt = optim.RMSprop(模型.parameters(), 0x10, -1, eps=1_000)\n",
        "from torch import optim\r\nopt = optim.RMSprop(\r\n\tmodel.parameters(),\r\n\tlr=-(2),\r\n)\r\n",
        "from torch import optim\nopt = optim.RMSprop(params=model.parameters(), lr=torch.tensor(0.5))\n",
        "import torch\nopt = torch.optim.RMSProp(model.parameters())\n",
        # names the parser normalizes (NFKC): a combining accent before "parameters", a full-width keyword
        "from torch import optim\nopt = optim.RMSprop([{'params': m.a\u0301parameters()}], ｌｒ=1)\n",
        "from torch import optim\nopt = optim.RMSprop(m.a\u0301parameters(), 1)\n",
        "import torch\nopt = torch.optim.RMSPro\u0301p(m.parameters())\n",
        # inside f-strings (the ast positions of their expressions are worked out differently)
        'from torch import optim\nx = f"é{optim.RMSprop(model.parameters(), 2, alpha=3)}"\n',
        'from torch import optim\nx = f"""ab\ncd{optim.RMSprop(model.parameters(), 2, alpha=3)}"""\n',
        'from torch import optim\nx = f"""{\noptim.RMSprop(model.parameters(), 2,\n alpha=3)}"""\n',
        'from torch import optim\nx = (f"a"\n  f"{optim.RMSprop(model.parameters(), 2, alpha=3)}")\n',
        # no arguments: the pins are the arguments
        "from torch import optim\nopt = optim.RMSprop()\n",
        # eps under --eps-mapping matched: squared, in parentheses unless it is a name, attribute, call or subscript
        "from torch import optim\nopt = optim.RMSprop(p, eps=cfg['eps'])\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=x + y)\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=None)\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=args.eps)\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=get_eps())\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=-e)\n",
        "from torch import optim\nopt = optim.RMSprop(p, eps=1e-4)\n",
        "from torch import optim\nopt = optim.RMSprop([{'params': m.parameters(), 'lr': 1}], lr=2, alpha=x)\n",
    ]
    claimed = 0
    for source in cases:
        for options in ALL_OPTIONS:
            claimed += compare_both_ways(source, options)[1]
    assert claimed >= len(cases)


def test_the_text_path_falls_back_where_it_must():
    """Calls it must leave to libcst: libcst's answer is used (or its refusal reported)."""
    cases = {
        "from torch import optim\nopt = optim.RMSprop((model.parameters()), lr=1)\n": "parenthesized argument",
        "from torch import optim\nopt = optim.RMSprop(model.parameters(), lr=1, foreach=None)\n": "a dropped argument",
        "from torch import optim\nopt = optim.RMSprop(*a, lr=1)\n": "a splat",
        "from torch import optim\nopt = optim.RMSprop(model.parameters(), lr=f'{x}')\n": "an f-string",
        "from torch import optim\nopt = (optim.RMSprop)(model.parameters())\n": "a parenthesized function",
        # libcst writes the file's first line break for every one in the call's whitespace
        "from torch import optim\r\nopt = optim.RMSprop(\n    model.parameters(),\n)\r\n": "mixed line breaks",
        "from torch import optim\nopt = optim.RMSprop(\r\n    model.parameters(), lr=1)\n": "mixed line breaks",
        "from torch import optim\r\nopt = optim.RMSprop(model.parameters(),\r  lr=1)\r\n": "mixed line breaks",
    }
    for source, why in cases.items():
        module = Module(source, "<test>", analyse(ast.parse(source)))
        options = Options()
        selection = select(module, options)
        follow(module, selection, options)
        imports = plan_imports(module.analysis, module.index,
                               [(s.ref, s.plan.dst.qualname) for s in selection.sites], module.newline)
        for site in selection.sites:
            assert pipeline._build_text(module, site, imports) is None, why
        compare_both_ways(source, options)


# -- the benchmark's corpus: the text path must keep claiming it ------------------
def test_the_text_path_claims_the_call_dense_corpus(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import make_call_dense
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    make_call_dense(tmp_path, files=6)
    total = claimed = 0
    for path in sorted(tmp_path.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        calls, fast = compare_both_ways(source, Options())
        total, claimed = total + calls, claimed + fast
        assert convert_source(source, Options()).changed
    assert total >= 50
    assert claimed >= 0.9 * total, f"the text path claimed {claimed} of {total} calls"


def test_a_refused_call_is_refused_the_same_way():
    """libcst refuses to drop an argument whose value holds a comment: RMS002, with or without the text path."""
    source = (
        "from torch import optim\n"
        "a = optim.RMSprop(model.parameters(), lr=1)\n"
        "b = optim.RMSprop(model.parameters(), foreach=(None  # why\n), lr=1)\n"
    )
    module = Module(source, "<test>", analyse(ast.parse(source)))
    selection = select(module, Options())
    follow(module, selection, Options())
    _, fast_built, fast_refused = build(module, selection.sites, text_path=True)
    _, slow_built, slow_refused = build(module, selection.sites, text_path=False)
    assert [b.text for b in fast_built] == [b.text for b in slow_built]
    assert len(fast_built) == 1
    assert [f.message for f in fast_refused] == [f.message for f in slow_refused]
    assert fast_refused and "comment" in fast_refused[0].message
    with pytest.raises(CannotRewrite):
        site = next(s for s in selection.sites if s.start > source.index("b ="))
        imports = plan_imports(module.analysis, module.index, [(s.ref, s.plan.dst.qualname) for s in selection.sites],
                               module.newline)
        pipeline._build_libcst(module, site, source[site.start : site.end], imports)
