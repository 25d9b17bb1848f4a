"""Property (issue 8): wherever the original built the source class, the converted
module, run with stub frameworks, builds the target class (no NameError), for
random placements of shebang, cookie, docstring, ``__future__`` and conditional
imports around the calls."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rmsport.engine.convert import convert_source
from rmsport.options import Options
from stub_frameworks import run_module

IMPORTS = {
    "plain": "import torch\n",
    "if_else": "if FLAG:\n    import torch\nelse:\n    import torch\n",
    "try_except": "try:\n    import torch\nexcept ImportError:\n    import torch\n",
    "semicolons": "import os; import torch\n",
    "alias": "import torch as th\ntorch = th\n",
    "from": "from torch import optim\n",
}
CALLS = {
    "plain": "opt{i} = torch.optim.RMSprop(params, lr=0.01)\n",
    "alias": "opt{i} = th.optim.RMSprop(params, lr=0.01)\n",
    "from": "opt{i} = optim.RMSprop(params, lr=0.01)\n",
}


@st.composite
def modules(draw):
    head = ""
    if draw(st.booleans()):
        head += "#!/usr/bin/env python3\n"
    if draw(st.booleans()):
        head += "# -*- coding: utf-8 -*-\n"
    shares_line = False
    if draw(st.booleans()):
        shares_line = draw(st.booleans())
        head += '"""Docstring."""; x = 1\n' if shares_line else '"""Docstring."""\n'
    if not shares_line and draw(st.booleans()):  # nothing may precede a __future__ import
        head += "from __future__ import annotations\n"
    kind = draw(st.sampled_from(sorted(IMPORTS)))
    call = CALLS["alias" if kind == "alias" else "from" if kind == "from" else "plain"]
    body = ""
    for i in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["module", "function", "if"]))
        line = call.format(i=i)
        if where == "function":
            body += f"def make{i}():\n    {line}    return opt{i}\nmake{i}()\n"
        elif where == "if":
            body += f"if FLAG:\n    {line}"
        else:
            body += line
    if kind in ("plain", "if_else", "try_except", "semicolons") and draw(st.booleans()):
        body += "y = torch.zeros(1)\n"  # the old import stays in use: the new one goes beside it
    before = draw(st.sampled_from(["", "import mindspore as ms\n", "if FLAG:\n    from mindspore import nn\n"]))
    after = draw(st.sampled_from(["", "import mindspore as ms\n", "from mindspore import nn\n"]))
    return head + IMPORTS[kind] + before + body + after, kind


@settings(max_examples=80, deadline=None)
@given(modules(), st.booleans())
def test_converted_module_builds_the_target_wherever_the_original_built_the_source(case, flag):
    source, kind = case
    free = {"params"}
    before = run_module(source, free, FLAG=flag)
    result = convert_source(source, Options(to="mindspore"))
    after = run_module(result.source, free, FLAG=flag)
    assert [b.qualname for b in before.built] == ["torch.optim.RMSprop"] * len(before.built)
    assert [b.qualname for b in after.built] == ["mindspore.nn.RMSProp"] * len(before.built), result.source
    lines = result.source.splitlines()
    if source.startswith("#!"):
        assert lines[0] == "#!/usr/bin/env python3"
    if "coding" in source:
        assert any("coding" in line for line in lines[:2])
    compile(result.source, "<converted>", "exec")


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.booleans(), st.sampled_from(["torch.optim.RMSprop", "optim.RMSprop", "R"]))
def test_nested_calls_and_walrus_params_all_convert(depth, walrus, spelling):
    """Calls nested ``depth`` deep (issue 8: three deep failed with "overlapping edits")."""
    head = "import torch\nfrom torch import optim\nfrom torch.optim import RMSprop as R\n"
    inner = "ps := params" if walrus else "params"  # unparenthesized: valid as a positional argument only
    expr = inner
    for _ in range(depth):
        expr = f"{spelling}({expr}, lr=0.01)"
    source = head + f"opt = {expr}\n"
    result = convert_source(source, Options(to="mindspore"))
    assert not any(f.code == "RMS002" for f in result.findings), result.findings
    after = run_module(result.source, {"params"})
    assert [b.qualname for b in after.built] == ["mindspore.nn.RMSProp"] * depth
