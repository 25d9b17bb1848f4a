"""The verification pass: RMS401 for each rewritten call (``--verify``).

It runs after the pipeline and only reads the planned calls: the numbers come
from ``rmsport.numerics.verify``, and the wording of the verdict is here.
"""

from __future__ import annotations

from collections.abc import Callable

from ..findings import Finding
from ..tables.optimizers import MS_NN, Api
from .plan import CallPlan

Replan = Callable[[Api, str], CallPlan]


def verify_plan(plan: CallPlan) -> dict | None:
    """The verification result of one plan, or None for a spelling fix (nothing to compare)."""
    from ..numerics.verify import unverifiable, verify

    if plan.spelling_only:
        return None
    if not plan.all_literal:
        return unverifiable()
    return verify(plan.src.qualname, dict(plan.src_kwargs), plan.dst.qualname, dict(plan.dst_kwargs))


def verdict_message(plan: CallPlan, result: dict) -> tuple[str, str]:
    """(message, severity) of an RMS401 finding."""
    verdict = result["verdict"]
    if verdict == "equivalent":
        return f"verified equivalent to {plan.src.qualname} over {result['steps']} steps", "info"
    if verdict == "unverifiable":
        if plan.not_literal:
            why = "not literals: " + ", ".join(plan.not_literal)
        elif plan.grouped:
            why = "params are grouped; per-group values are not simulated"
        else:
            why = "the reference rejects an argument value"
        return f"unverifiable ({why}); non-literal calls are not simulated over a grid", "info"
    message = (
        f"{verdict}: max abs diff {result['max_abs_diff']:.3g}, max rel diff {result['max_rel_diff']:.3g}"
        + (
            f", first divergent step {result['first_divergent_step']}"
            if result["first_divergent_step"] is not None
            else ""
        )
        + f" over {result['steps']} steps"
    )
    if plan.dst.qualname == MS_NN:
        message += "; --target experimental (mindspore.experimental.optim.RMSprop) verifies equivalent"
    return message, "warning"


def eps_mapping_note(plan: CallPlan, result: dict, eps_mapping: str, replan: Replan) -> str:
    """Which --eps-mapping tracks the source more closely, for this call."""
    if result["verdict"] in ("equivalent", "unverifiable") or (plan.src.qualname == MS_NN) == (
        plan.dst.qualname == MS_NN
    ):
        return ""
    other = "matched" if eps_mapping == "literal" else "literal"
    try:
        alt = verify_plan(replan(plan.dst, other))
    except Exception:  # noqa: BLE001 - only a hint: the mapping in use was verified
        return ""
    if alt is None or alt["verdict"] == "unverifiable":
        return ""
    mine, theirs = result["max_rel_diff"], alt["max_rel_diff"]
    if abs(theirs - mine) <= 1e-4 * max(abs(mine), abs(theirs)):
        verdict = "no closer"
    else:
        verdict = "closer" if theirs < mine else "further"
    return f"; --eps-mapping {other} would give max rel diff {theirs:.4g} vs {mine:.4g} ({verdict})"


def verification_finding(
    locate: Callable[..., Finding], plan: CallPlan, eps_mapping: str, replan: Replan
) -> Finding | None:
    """The RMS401 finding of one rewritten call, or None when there is nothing to verify.

    ``locate(code, message, severity=..., verification=...)`` places the finding on the call.
    """
    if getattr(plan, "scheduler", None) is not None:  # a scheduler: its learning-rate sequence (issue 12)
        from ..numerics.lr_schedules import schedule_verification

        message, severity, result = schedule_verification(plan)
        return locate("RMS401", message, severity=severity, verification=result)
    result = verify_plan(plan)
    if result is None:
        return None
    message, severity = verdict_message(plan, result)
    message += eps_mapping_note(plan, result, eps_mapping, replan)
    return locate("RMS401", message, severity=severity, verification=result)
