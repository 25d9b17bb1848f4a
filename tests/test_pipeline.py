"""The converter pipeline's stages, one at a time (engine/pipeline.py)."""

from __future__ import annotations

import ast

import pytest

from rmsport.engine.analysis import analyse
from rmsport.engine.convert import convert_source
from rmsport.engine.imports import Edit
from rmsport.engine.pipeline import Module, build, check, edits_for, select, splice
from rmsport.engine.single_call import CallError, plan_single_call
from rmsport.options import Options


def _module(source: str) -> Module:
    return Module(source, "m.py", analyse(ast.parse(source)))


@pytest.mark.parametrize(
    ("source", "codes", "sites"),
    [
        pytest.param("import torch\nopt = torch.optim.RMSprop(p)\n", [], 1, id="plain_call"),
        pytest.param("import torch\nclass O(torch.optim.RMSprop): pass\n", ["RMS103"], 0, id="base_class_reported"),
        pytest.param("import torch\nopt = torch.optim.RMSProp(p)\n", ["RMS102"], 1, id="misspelled_still_planned"),
        pytest.param("import torch\nopt = torch.optim.RMSprop(p, maximize=True)\n", ["RMS206"], 0, id="blocked_error_only"),
        pytest.param("from mindspore import nn\nopt = nn.RMSProp(p)\n", [], 0, id="other_direction_ignored"),
    ],
)
def test_select(source: str, codes: list[str], sites: int):
    selection = select(_module(source), Options())
    assert [f.code for f in selection.findings] == codes
    assert len(selection.sites) == sites


def test_build_innermost_first_and_splice_outermost_only():
    source = "import torch\nx = torch.optim.RMSprop(torch.optim.RMSprop(torch.optim.RMSprop(p)))\n"
    module = _module(source)
    selection = select(module, Options(target="experimental"))
    imports, built, refused = build(module, selection.sites)
    assert refused == []
    assert [len(b.site.call.args) for b in built] == [1, 1, 1]
    new = splice(source, edits_for(imports, built))
    assert check(new) is None
    assert new.count("optim.RMSprop(params=") == 3
    assert "torch" not in new


def test_three_nested_calls_convert_through_the_public_core():
    source = "import torch\nx = torch.optim.RMSprop(torch.optim.RMSprop(torch.optim.RMSprop(p)))\n"
    conversion = convert_source(source, Options())
    assert conversion.changed
    assert [f.code for f in conversion.findings].count("RMS101") == 3
    assert len(conversion.calls) == 3
    assert conversion.calls[-1].before == source.split("= ", 1)[1].strip()


def test_splice_refuses_overlapping_edits():
    with pytest.raises(RuntimeError):
        splice("abcdef", [Edit(0, 3, "x"), Edit(2, 4, "y")])


def test_check_reports_code_that_does_not_parse():
    assert check("x = (\n") is not None
    assert check("x = 1\n") is None


def test_single_call_uses_the_conversion_plan():
    planned = plan_single_call("torch.optim.RMSprop(p, lr=0.1, momentum=0)", Options(target="experimental"))
    assert planned.src_api == "torch.optim.RMSprop"
    assert planned.dst_api == "mindspore.experimental.optim.RMSprop"
    assert planned.rewritten_text == "mindspore.experimental.optim.RMSprop(params=p, lr=0.1, momentum=0)"
    assert planned.src_kwargs == {"lr": 0.1, "momentum": 0}


def test_single_call_rejects_non_literals():
    with pytest.raises(CallError, match="literal"):
        plan_single_call("torch.optim.RMSprop(p, lr=base_lr)", Options())


STAR = "from helpers import *\n\nopt = torch.optim.RMSprop(model.parameters(), 0.001)\nfn = lambda p: torch.optim.RMSprop(p)\n"


def test_a_class_only_a_star_import_can_bind_is_reported_not_rewritten():
    # A real shape (an RL library's examples module): torch comes in through
    # ``from <package> import *``. It used to be passed over in silence.
    from rmsport.engine.convert import convert_source
    from rmsport.options import Options

    for options in (Options(), Options(target="experimental")):
        result = convert_source(STAR, options)
        assert result.source == STAR
        assert [(f.code, f.line) for f in result.findings] == [("RMS106", 3), ("RMS106", 4)]
        assert "from helpers import *" in result.findings[0].message
    # Going to torch, a torch call is no source: nothing to say.
    assert convert_source(STAR, Options(to="torch")).findings == []


def test_an_import_or_a_framework_star_import_still_decides():
    from rmsport.engine.convert import convert_source
    from rmsport.options import Options

    imported = convert_source("import torch\n" + STAR, Options())
    assert "RMS106" not in {f.code for f in imported.findings} and "nn.RMSProp(" in imported.source
    framework = convert_source("from torch.optim import *\nopt = RMSprop(model.parameters())\n", Options())
    assert "RMS106" not in {f.code for f in framework.findings} and "RMSProp(" in framework.source
    unbound = convert_source("opt = torch.optim.RMSprop(model.parameters())\n", Options())
    assert unbound.findings == []  # no star import: an unknown name, left alone as before


def test_a_mindspore_schedule_behind_a_star_import_is_not_rewritten_to_torch():
    from rmsport.engine.convert import convert_source
    from rmsport.options import Options

    src = (
        "from helpers import *\n"
        "lr = mindspore.nn.exponential_decay_lr(0.1, 0.9, 100, 10, 1)\n"
        "opt = mindspore.nn.RMSProp(net.trainable_params(), learning_rate=mindspore.nn.ExponentialDecayLR(0.1, 0.9, 10))\n"
    )
    result = convert_source(src, Options(to="torch"))
    assert result.source == src
    assert [f.code for f in result.findings] == ["RMS106"]
