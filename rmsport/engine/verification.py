"""The verification pass: RMS401 for each rewritten call (``--verify``).

It runs after the pipeline and only reads the planned calls.  The numbers
*and* their wording live in ``rmsport.numerics.advice`` (which takes plain
data: qualified names, keyword dicts, the device); this module only turns a
plan into that data, re-plans with the other ``--eps-mapping`` where the two
sides place epsilon differently, and places the finding on the call.
"""

from __future__ import annotations

from collections.abc import Callable

from ..findings import Finding
from ..tables.optimizers import Api
from .plan import CallPlan

Replan = Callable[[Api, str], CallPlan]


def verification_finding(
    locate: Callable[..., Finding], plan: CallPlan, eps_mapping: str, replan: Replan, device: str = "ascend"
) -> Finding | None:
    """The RMS401 finding of one rewritten call, or None when there is nothing to verify.

    ``locate(code, message, severity=..., verification=...)`` places the finding on the call.
    """
    if getattr(plan, "scheduler", None) is not None:  # a scheduler: its learning-rate sequence (issue 12)
        from ..numerics.lr_schedules import schedule_verification

        message, severity, result = schedule_verification(plan)
        return locate("RMS401", message, severity=severity, verification=result)
    from ..numerics.advice import eps_alternative_matters, verification

    if plan.spelling_only:
        return None
    alternative = None
    if plan.all_literal and eps_alternative_matters(plan.src.qualname, plan.dst.qualname, device):
        # The other --eps-mapping's keywords, simulated in the same pass as the rewrite.
        try:
            alt = replan(plan.dst, "matched" if eps_mapping == "literal" else "literal")
        except Exception:  # noqa: BLE001 - only a hint: the mapping in use is still verified
            alt = None
        if alt is not None and alt.all_literal and not alt.blocked:
            alternative = dict(alt.dst_kwargs)
    ver = verification(
        plan.src.qualname, dict(plan.src_kwargs), plan.dst.qualname, dict(plan.dst_kwargs),
        device=device, literal=plan.all_literal, not_literal=tuple(plan.not_literal), grouped=plan.grouped,
        eps_mapping=eps_mapping, alternative_kwargs=alternative,
    )
    return locate("RMS401", ver.message, severity=ver.severity, verification=ver.result)
