"""What rmsport says about the numbers: RMS30x wording, RMS401 verdicts, eps advice.

Everything here takes plain data (qualified names, keyword dicts, the device)
and reads the frameworks' semantics from the argument tables, so the engine
only passes what it planned.  No NumPy at import: ``rmsport check`` words its
findings without paying for it; :func:`verification` imports the simulator
only when ``--verify`` asks for numbers.

Devices: ``"ascend"`` (the default: what most MindSpore training runs on),
``"gpu"`` and ``"cpu"``.  Only ``mindspore.nn.RMSProp`` on ``"cpu"`` differs:
MindSpore 2.10's CPU kernel puts epsilon outside the root in 8-wide SIMD
blocks (see :mod:`rmsport.numerics.reference`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..tables.optimizers import APIS, Api

__all__ = [
    "DEVICES",
    "DEFAULT_DEVICE",
    "Verification",
    "cpu_kernel_note",
    "eps_alternative_matters",
    "eps_placement_message",
    "lr_placement_message",
    "sig3",
    "square_avg_message",
    "transient_steps",
    "verification",
]

DEVICES = ("ascend", "gpu", "cpu")
DEFAULT_DEVICE = "ascend"

# Measured with MindSpore 2.10 on CPU (README "Numerics"): the gap between the
# CPU kernel and its documented rule, as a fraction of the distance moved.
_CPU_GAP = (
    "0.25-0.99 of the distance moved after 1,000 steps with epsilon 1e-10..1e-6 and gradients ~1e-5, "
    "and 1.8% (epsilon 1e-8) to 19% (1e-6) of a small MLP's weights after 300 steps"
)


def sig3(x: float) -> str:
    """``x`` with 3 significant digits, trailing zeros kept (``1.00`` for 0.99997, never a bare ``1``)."""
    if x is None:
        return "None"
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    if x == 0:
        return "0"
    text = f"{x:#.3g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return f"{mantissa}e{int(exponent)}"
    return text.rstrip(".")


def _placement(api: Api, device: str | None, *, centered: bool = False) -> str:
    return api.semantics.eps_on(device, centered=centered)


def _effective_inside(api: Api, device: str | None) -> bool:
    """Does epsilon sit inside the root for (most of) this API's elements on ``device``?"""
    return _placement(api, device) == "inside"


def eps_alternative_matters(src: str, dst: str, device: str = DEFAULT_DEVICE) -> bool:
    """Whether the two calls place epsilon differently on ``device`` (the --eps-mapping question)."""
    # --eps-mapping only changes a call whose two sides document different placements.
    return APIS[src].semantics.eps_placement != APIS[dst].semantics.eps_placement


def transient_steps(decay: float) -> int | None:
    """Steps until a start-value difference of 1 has decayed below 1% (``decay**t < 0.01``)."""
    if not isinstance(decay, (int, float)) or isinstance(decay, bool) or not 0 <= decay < 1:
        return None
    if decay == 0:
        return 1
    return max(1, math.ceil(math.log(0.01) / math.log(decay)))


def square_avg_message(src: Api, dst: Api, decay: Any, experimental_hint: str = "") -> str:
    """RMS301: the square averages start differently; for how long, from the call's own decay."""
    one, other = (dst, src) if dst.semantics.square_avg_start != 0 else (src, dst)
    start_one, start_other = one.semantics.square_avg_start, other.semantics.square_avg_start
    steps = transient_steps(decay)
    word = src.semantics.decay_word
    if steps is None:
        if isinstance(decay, (int, float)) and not isinstance(decay, bool) and decay >= 1:
            how_long = f"every step: {word} {decay} never forgets the start"
        else:  # an expression: its value is not known here
            how_long = ""
    elif steps == 1:
        how_long = f"the first step only with {word} {decay}"
    else:
        scale = "hundreds of steps" if steps >= 100 else "tens of steps" if steps >= 10 else "a few steps"
        how_long = f"{scale} with {word} {decay}: {decay}**t < 1% after {steps}"
    return (
        f"{one.qualname} starts its square average at {start_one:g}, {other.qualname} at {start_other:g}: "
        "early steps differ" + (f" for {how_long}" if how_long else "") + experimental_hint
    )


def eps_placement_message(src: Api, dst: Api, device: str = DEFAULT_DEVICE) -> str:
    """RMS302: where each side puts epsilon on ``device``, and which --eps-mapping keeps the floor."""
    inside_api, outside_api = (dst, src) if dst.semantics.eps_placement == "inside" else (src, dst)
    documented = (
        f"{inside_api.qualname} adds epsilon inside the square root (sqrt(v + eps)), "
        f"{outside_api.qualname} outside (sqrt(v) + eps)"
    )
    if _placement(inside_api, device) == "cpu_simd_blocks":
        return (
            f"{documented} by its documentation, but on CPU (--mindspore-device cpu) MindSpore 2.10's "
            f"non-centered kernel puts it outside too, in 8-wide SIMD blocks, and inside only for each chunk's "
            f"last len % 8 elements: --eps-mapping literal is the closer mapping there; matched does not keep "
            f"the denominator's floor"
        )
    return f"{documented}; --eps-mapping matched keeps the denominator's floor"


def lr_placement_message(src: Api, dst: Api) -> str:
    """RMS303: where the learning rate enters."""
    inside_api = dst if dst.semantics.lr_placement == "momentum" else src
    return (
        f"{inside_api.qualname} multiplies the learning rate into the momentum buffer; equal steps for a "
        "constant learning rate, different ones under a schedule"
    )


def cpu_kernel_note(src: str, dst: str, device: str) -> str | None:
    """The finding for --mindspore-device cpu: the kernel is not the documented rule (None if it does not apply)."""
    if device != "cpu":
        return None
    for name in (dst, src):
        api = APIS[name]
        if api.semantics.eps_on("cpu", centered=False) != api.semantics.eps_placement:
            return (
                f"on CPU, MindSpore 2.10's non-centered {api.qualname} kernel does not follow its documentation: "
                f"epsilon sits outside the root (sqrt(v) + eps) in 8-wide SIMD blocks and inside only for each "
                f"chunk's last len % 8 elements; measured against the documented rule the gap reaches {_CPU_GAP}; "
                f"centered is unaffected"
            )
    return None


@dataclass
class Verification:
    """RMS401's content: the JSON ``verification`` object, the message and its severity."""

    result: dict[str, Any]
    message: str
    severity: str
    extra: dict[str, Any] = field(default_factory=dict)


def verification(
    src: str,
    src_kwargs: dict[str, Any],
    dst: str,
    dst_kwargs: dict[str, Any],
    *,
    device: str = DEFAULT_DEVICE,
    literal: bool = True,
    not_literal: tuple[str, ...] = (),
    grouped: bool = False,
    eps_mapping: str = "literal",
    alternative_kwargs: dict[str, Any] | None = None,
) -> Verification:
    """Simulate the rewrite and word RMS401.

    ``alternative_kwargs`` are the rewrite's keywords under the other
    ``--eps-mapping``; pass them only when :func:`eps_alternative_matters`
    (the caller plans them): they are simulated in the same pass, and the
    advice is printed only for a verdict that is not ``equivalent``.
    """
    from .verify import compare, unverifiable

    cmp = None
    if literal:
        alternatives = (alternative_kwargs,) if alternative_kwargs is not None else ()
        cmp = compare(src, src_kwargs, dst, dst_kwargs, device=device, alternatives=alternatives)
    result = unverifiable(device=device) if cmp is None else cmp.result
    verdict = result["verdict"]
    if verdict == "equivalent":
        message = (
            f"verified equivalent to {src} over {result['steps']} steps on {device} "
            f"(within the source's own float32 noise, {sig3(result['noise_floor'])})"
        )
        return Verification(result, message, "info")
    if verdict == "unverifiable":
        if not_literal:
            why = "not literals: " + ", ".join(not_literal)
        elif grouped:
            why = "params are grouped; per-group values are not simulated"
        else:
            why = "the reference rejects an argument value"
        return Verification(result, f"unverifiable ({why}); non-literal calls are not simulated over a grid", "info")
    if verdict == "sensitive":
        message = (
            f"sensitive: one float32 ulp at the start moves the source itself by {sig3(result['noise_floor'])} "
            f"of its travel on the standard problem (over {result['steps']} steps on {device}), so the rewrite's "
            f"gap ({sig3(result['max_rel_diff'])}) cannot be judged here"
        )
        return Verification(result, message, "warning")
    message = (
        f"{verdict}: max abs diff {sig3(result['max_abs_diff'])}, max rel diff {sig3(result['max_rel_diff'])}"
        + (
            f", first divergent step {result['first_divergent_step']}"
            if result["first_divergent_step"] is not None
            else ""
        )
        + f" over {result['steps']} steps on {device} (source's own noise {sig3(result['noise_floor'])})"
    )
    start = APIS[src].semantics.square_avg_start
    if APIS[dst].semantics.square_avg_start != start:
        # Another API of the target framework with the source's start value (experimental for torch).
        for name, api in APIS.items():
            if api.framework == APIS[dst].framework and api.semantics.square_avg_start == start:
                message += f"; --target experimental ({name}) verifies equivalent"
                break
    if cmp is not None and cmp.alternatives:
        other = "matched" if eps_mapping == "literal" else "literal"
        mine, theirs = result["max_rel_diff"], cmp.alternatives[0]
        if math.isfinite(theirs):
            if abs(theirs - mine) <= 1e-4 * max(abs(mine), abs(theirs)):
                closer = "no closer"
            else:
                closer = "closer" if theirs < mine else "further"
            message += f"; --eps-mapping {other} would give max rel diff {sig3(theirs)} vs {sig3(mine)} ({closer})"
    return Verification(result, message, "warning")
