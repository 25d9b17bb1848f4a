"""Per-concept rules of plan.py, table-driven: (call, codes) with the findings each rule adds."""

from __future__ import annotations

import ast

import pytest

from rmsport.engine.analysis import analyse
from rmsport.engine.plan import RULES, plan_call
from rmsport.tables.optimizers import APIS, MS_NN, TORCH


def _plan(source: str, src: str = TORCH, dst: str = MS_NN):
    tree = ast.parse(source)
    analysis = analyse(tree)
    ref = analysis.references[-1]
    assert ref.call is not None
    return plan_call(
        ref.call, APIS[src], APIS[dst], eps_mapping="literal",
        qualname_of=lambda n: analysis.qualname_of(n, ref.scope),
        value_of=lambda n: analysis.value_of(n, ref.scope, ref.call),
    )


def _codes(plan) -> set[str]:
    return {code for code, *_ in plan.reports}


CASES = [
    # torch -> mindspore.nn
    ("import torch\ntorch.optim.RMSprop(p, momentum=0)", TORCH, MS_NN, {"RMS203"}, False),
    ("import torch\ntorch.optim.RMSprop(p, momentum=cfg.m)", TORCH, MS_NN, {"RMS216"}, False),
    ("import torch\nm = 0.9\ntorch.optim.RMSprop(p, momentum=m)", TORCH, MS_NN, set(), False),
    ("import torch\ntorch.optim.RMSprop(p, momentum=float(m))", TORCH, MS_NN, set(), False),
    ("import torch\ntorch.optim.RMSprop(p, lr=torch.tensor(0.01))", TORCH, MS_NN, {"RMS218"}, False),
    ("import torch\ntorch.optim.RMSprop(p, lr=torch.tensor(x))", TORCH, MS_NN, {"RMS217"}, True),
    ("import torch\ng = [{'params': a, 'alpha': 0.9}]\ntorch.optim.RMSprop(g)", TORCH, MS_NN, {"RMS207"}, True),
    ("import torch\ntorch.optim.RMSprop(self.params)", TORCH, MS_NN, {"RMS215"}, False),
    # mindspore.nn -> torch
    ("from mindspore import nn, Tensor\nnn.RMSProp(p, Tensor(0.01))", MS_NN, TORCH, {"RMS218"}, False),
    ("from mindspore import nn, Tensor\nlr = Tensor(f())\nnn.RMSProp(p, lr)", MS_NN, TORCH, {"RMS208"}, True),
    ("from mindspore import nn\nlr = [0.1, 0.2]\nnn.RMSProp(p, lr)", MS_NN, TORCH, {"RMS208"}, True),
    ("from mindspore import nn\nnn.RMSProp(p, args.lr)", MS_NN, TORCH, {"RMS211"}, False),
]


@pytest.mark.parametrize("source, src, dst, codes, blocked", CASES)
def test_rules(source, src, dst, codes, blocked):
    plan = _plan(source, src, dst)
    found = _codes(plan) - {"RMS201", "RMS301", "RMS302", "RMS303", "RMS304", "RMS212"}
    assert found == codes
    assert plan.blocked is blocked


def test_rules_are_registered_per_concept():
    assert {"params", "lr", "eps", "*"} <= set(RULES)


def test_float_wrap_sets_the_action():
    plan = _plan("import torch\ntorch.optim.RMSprop(p, alpha=cfg.alpha)")
    (action,) = [a for a in plan.actions if a.concept == "alpha"]
    assert action.wrap_float and action.dst_keyword == "decay"


def test_matched_eps_expression_is_still_a_float():
    tree_src = "import torch\ntorch.optim.RMSprop(p, eps=cfg.eps)"
    tree = ast.parse(tree_src)
    analysis = analyse(tree)
    ref = analysis.references[-1]
    plan = plan_call(ref.call, APIS[TORCH], APIS[MS_NN], eps_mapping="matched",
                     qualname_of=lambda n: analysis.qualname_of(n, ref.scope))
    (eps,) = [a for a in plan.actions if a.concept == "eps"]
    assert eps.eps_power == 2.0 and eps.wrap_float


@pytest.mark.parametrize(
    "value",
    ["cfg.eps", "eps", "get_eps()", "table[0]", "a + b", "-x", "None", "True", "'1e-8'", "x if y else z",
     "(lambda: 1)()", "...", "[1][0]", "not x", "x or y"],
)
@pytest.mark.parametrize("to", ["mindspore", "torch"])
def test_rms213_says_exactly_what_is_written(value: str, to: str) -> None:
    # The message once said ``(None) ** 2`` where the code said ``None ** 2``: the
    # message must quote the written expression for every kind of value.
    from rmsport.engine.convert import convert_source
    from rmsport.options import Options

    if to == "mindspore":
        source = f"import torch\nopt = torch.optim.RMSprop(p, eps={value})\n"
    else:
        source = f"from mindspore import nn\nopt = nn.RMSProp(p, epsilon={value})\n"
    result = convert_source(source, Options(to=to, eps_mapping="matched"))
    (finding,) = [f for f in result.findings if f.code == "RMS213"]
    written = finding.message.split(" written as ", 1)[1].split(" so that ", 1)[0]
    keyword, expression = written.split("=", 1)
    assert f"{keyword}={expression}" in result.source or f"{keyword}=float({expression})" in result.source, (
        finding.message,
        result.source,
    )
