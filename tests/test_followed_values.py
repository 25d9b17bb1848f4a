"""Property (issue 8, "values that live in variables"): a value assigned once to a
local just above the call is judged as if it were written inline: the same error
findings, and a converted module whose target class accepts it (run against the
stub frameworks, whose MindSpore checks float-only arguments like the real one)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rmsport.engine.convert import convert_source
from rmsport.findings import CODES
from rmsport.options import Options
from stub_frameworks import free_names, run_module

TO_MINDSPORE = {  # torch keyword -> candidate values
    "params": ["[{'params': a, 'alpha': 0.9}]", "[{'params': a, 'lr': 0.1}]", "model.parameters()"],
    "lr": ["0.01", "torch.tensor(0.01)", "torch.tensor(base * 2)", "1e-3 * 2"],
    "momentum": ["0", "0.9", "cfg.momentum", "1"],
    "alpha": ["0.95", "cfg.alpha"],
}
TO_TORCH = {
    "params": ["[{'params': a, 'weight_decay': 0.01}]", "[{'order_params': net.trainable_params()}]",
               "[{'params': a, 'lr': (0.1, 0.2)}]"],
    "learning_rate": ["0.1", "[0.1, 0.05]", "Tensor(0.01)", "Tensor(get_lr())", "nn.ExponentialDecayLR(0.1, 0.9, 4)"],
    "momentum": ["0.0", "cfg.momentum"],
}


@st.composite
def calls(draw):
    to = draw(st.sampled_from(["mindspore", "torch"]))
    table = TO_MINDSPORE if to == "mindspore" else TO_TORCH
    chosen = {k: draw(st.sampled_from(v)) for k, v in table.items() if k == "params" or draw(st.booleans())}
    through = {k for k in chosen if draw(st.booleans())}
    return to, chosen, through


def _module(to: str, chosen: dict[str, str], through: set[str]) -> str:
    head = "import torch\n" if to == "mindspore" else "from mindspore import nn, Tensor\n"
    lines = [f"v_{k} = {chosen[k]}\n" for k in chosen if k in through]
    args = ", ".join(f"{k}=v_{k}" if k in through else f"{k}={v}" for k, v in chosen.items())
    func = "torch.optim.RMSprop" if to == "mindspore" else "nn.RMSProp"
    return head + "".join(lines) + f"opt = {func}({args})\n"


def _errors(findings) -> set[str]:
    return {f.code for f in findings if CODES[f.code][0] == "error"}


@settings(max_examples=80, deadline=None)
@given(calls())
def test_a_followed_local_is_judged_like_the_inline_value(case):
    to, chosen, through = case
    inline = _module(to, chosen, set())
    via = _module(to, chosen, through)
    options = Options(to=to)
    a, b = convert_source(inline, options), convert_source(via, options)
    assert _errors(a.findings) == _errors(b.findings), (inline, via)
    if not _errors(b.findings):
        free = free_names(via)
        built = run_module(b.source, free).built  # MindSpore's float checks raise TypeError here
        assert [x.qualname for x in built] == ["mindspore.nn.RMSProp" if to == "mindspore" else "torch.optim.RMSprop"]
