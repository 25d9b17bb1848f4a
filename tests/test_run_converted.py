"""Run every fixture's converted module for real, against stub frameworks (issue 8).

The stubs (``tests/stub_frameworks.py``) stand in for torch and MindSpore: the
three RMSProp classes record their arguments and MindSpore's ``nn.RMSProp``
rejects non-float ``decay``/``momentum``/``epsilon`` as the real one does.  Each
converted module must execute without NameError and build the target class
wherever the original built the source class, with keywords the target takes.
"""

from __future__ import annotations

import pytest

from rmsport.findings import CODES
from rmsport.tables.optimizers import APIS, DIRECTIONS
from stub_frameworks import free_names, run_module
from test_fixtures import CASES


def _blocked(case) -> bool:
    """An error, or a reference reported and not rewritten (getattr): the source class stays."""
    return any(CODES[code][0] == "error" or code == "RMS104" for code in case.expected_codes)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES if not c.xfail])
def test_converted_module_runs_and_builds_the_target(case):
    original, converted = case.read("input.py"), case.read("expected.py")
    free = free_names(original)
    before = run_module(original, free)
    after = run_module(converted, free)
    direction = DIRECTIONS[(case.options.to, case.options.target)]
    targets = set(direction.values())
    assert len(after.built) >= len(before.built), "the converted module builds fewer optimizers"
    for built in after.built:
        if built.qualname not in targets:
            assert _blocked(case), f"{built.qualname} built, but nothing said the call was left unchanged"
            continue
        accepted = set(APIS[built.qualname].keywords.values())
        assert set(built.kwargs) <= accepted, f"{built.qualname} got {sorted(set(built.kwargs) - accepted)}"
        assert len(built.args) == 0 or "params" not in built.kwargs
