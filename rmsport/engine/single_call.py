"""Plan the rewrite of one call given as text (``rmsport compare``)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from ..findings import Finding
from ..tables.optimizers import DIRECTIONS
from .analysis import analyse
from .convert import Options, ParseError, convert_source, parse

# Names a user may write the class with on the command line, per source side.
_PRELUDES = {
    "torch": "import torch\nimport torch as th\nfrom torch import optim\nfrom torch.optim import RMSprop, RMSProp\n",
    "mindspore": (
        "import mindspore\nimport mindspore as ms\nfrom mindspore import nn\n"
        "from mindspore.experimental import optim\nfrom mindspore.nn import RMSProp\n"
    ),
}


class CallError(Exception):
    pass


@dataclass
class PlannedCall:
    source_text: str
    rewritten_text: str
    src_api: str
    src_kwargs: dict
    dst_api: str
    dst_kwargs: dict
    findings: list[Finding] = field(default_factory=list)


def plan_single_call(call: str, options: Options, *, to_given: bool = True) -> PlannedCall:
    """Convert ``call`` (text) as the one statement of a tiny module, and return its plan and rewrite."""
    call = call.strip()
    last_error = "no torch.optim.RMSprop, mindspore.nn.RMSProp or mindspore.experimental.optim.RMSprop call found"
    for side in ("torch", "mindspore"):
        to = "mindspore" if side == "torch" else "torch"
        if to_given and to != options.to:
            continue
        prelude = _PRELUDES[side]
        source = f"{prelude}_ = {call}\n"
        try:
            tree = parse(source)
        except ParseError as exc:
            raise CallError(f"not a Python call: {exc.message}") from None
        analysis = analyse(tree)
        calls = [r for r in analysis.references if r.call is not None]
        if not calls:
            continue
        opts = Options(to=to, target=options.target if to == "mindspore" else "nn", eps_mapping=options.eps_mapping,
                       mindspore_device=options.mindspore_device,
                       line_length=sys.maxsize)  # a call on its own has no file to fit: one line
        if DIRECTIONS[(opts.to, opts.target)].get(calls[0].api.qualname) is None:
            last_error = f"{calls[0].api.qualname} is not converted with --to {to}"
            continue
        conversion = convert_source(source, opts, path="<call>")
        errors = [f for f in conversion.findings if f.severity == "error"]
        if errors:
            raise CallError(errors[0].message)
        # The outermost call is the last one built (they are built innermost first).
        rewritten = conversion.calls[-1]
        plan = rewritten.plan
        if not plan.all_literal:
            raise CallError("compare needs literal arguments (numbers, True/False) to simulate")
        return PlannedCall(
            call, rewritten.after, plan.src.qualname, dict(plan.src_kwargs), plan.dst.qualname,
            dict(plan.dst_kwargs), conversion.findings,
        )
    raise CallError(last_error)


__all__ = ["CallError", "PlannedCall", "plan_single_call"]
