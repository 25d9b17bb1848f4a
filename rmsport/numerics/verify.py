"""Numerical verification of one rewritten optimizer call.

:func:`verify` runs the original call and its rewrite through the NumPy
reference (:mod:`rmsport.numerics.reference`) on one fixed *standard problem* and says
how far apart the two trajectories end up.

Standard problem
----------------
A noisy, ill-conditioned quadratic, ``f(x) = 1/2 * sum_i h_i * (x_i - c_i)**2``,
in 28 coordinates: 4 coordinates at each of the 7 curvatures
``h = 1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2``.  Every coordinate starts at
``x_i = 0`` with its optimum ``c_i = +1`` or ``-1`` (alternating), so the
gradients start at the scale ``h_i`` and span 1e-4 to 1e2, where epsilon
placement and start values show.  The gradient at step ``t`` is
``h_i * (x_i - c_i) + 0.1 * h_i * n_ti`` with ``n_ti`` standard normal noise
(NumPy ``default_rng(0)``, drawn once and reused).  300 steps, float64.
If either call uses a list learning rate, the problem runs for
``min(300, len(list))`` steps; ``steps`` in the result says how many.

Thresholds
----------
The gap at step ``t`` is ``max_i |a_ti - b_ti| / d_i``, where ``a`` and ``b``
are the two trajectories and ``d_i`` the larger of the two distances
coordinate ``i`` travels from its start (``max_t |x_ti - x_0i|``): a gap of
0.01 means the rewrite is off by 1 % of how far the optimizer moved.

* ``equivalent``: the gap never exceeds ``1e-9``, i.e. the two agree to
  float64 rounding.  Renaming is enough.
* ``approximate``: the gap never exceeds ``1e-2`` (1 % of the distance
  travelled).  Same optimizer in practice, not bit for bit.
* ``divergent``: the gap exceeds ``1e-2`` at some step (or one trajectory
  stops being finite).  ``first_divergent_step`` is the first such step
  (1-based; step 0 is the shared start); it is ``None`` for the other verdicts.
* ``unverifiable``: the call could not be simulated: an argument is not a
  literal, or the reference rejects a value (unknown keyword, value the
  framework itself rejects).  The numbers are then ``0.0``, ``0.0``,
  ``None`` and ``steps = 0``.

``max_abs_diff`` is ``max_ti |a_ti - b_ti|`` and ``max_rel_diff`` the largest
gap; both are ``inf`` when only one trajectory becomes non-finite.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from rmsport.numerics.reference import simulate

__all__ = [
    "APPROXIMATE_REL",
    "EQUIVALENT_REL",
    "STANDARD_STEPS",
    "Comparison",
    "classify",
    "compare",
    "standard_problem",
    "unverifiable",
    "verify",
]

STANDARD_STEPS = 300
EQUIVALENT_REL = 1e-9
APPROXIMATE_REL = 1e-2
CURVATURES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2)
PER_SCALE = 4
NOISE = 0.1
SEED = 0


class StandardProblem(NamedTuple):
    h: np.ndarray  # curvature per coordinate
    center: np.ndarray  # optimum per coordinate
    x0: np.ndarray
    noise: np.ndarray  # (STANDARD_STEPS, n), already scaled by NOISE * h


@functools.lru_cache(maxsize=1)
def standard_problem() -> StandardProblem:
    """The standard problem, built once per process."""
    h = np.repeat(np.asarray(CURVATURES, dtype=np.float64), PER_SCALE)
    n = h.size
    center = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    rng = np.random.default_rng(SEED)
    noise = NOISE * h * rng.standard_normal((STANDARD_STEPS, n))
    noise.setflags(write=False)
    return StandardProblem(h=h, center=center, x0=np.zeros(n), noise=noise)


def _gradient(prob: StandardProblem):
    h, c, noise = prob.h, prob.center, prob.noise

    def grad(x: np.ndarray, t: int) -> np.ndarray:
        return h * (x - c) + noise[t]

    return grad


class Comparison(NamedTuple):
    """Both trajectories on the standard problem and the per-step gap."""

    src: np.ndarray  # (steps + 1, n)
    dst: np.ndarray
    gap: np.ndarray  # (steps + 1,) relative gap per step, see module docstring
    abs_gap: np.ndarray  # (steps + 1,) max_i |src - dst|
    result: dict[str, Any]


def unverifiable(steps: int = 0) -> dict[str, Any]:
    """The result for a call that cannot be simulated (e.g. non-literal arguments)."""
    return {
        "verdict": "unverifiable",
        "max_abs_diff": 0.0,
        "max_rel_diff": 0.0,
        "first_divergent_step": None,
        "steps": steps,
    }


def _steps_for(*kwargs: dict[str, Any]) -> int:
    steps = STANDARD_STEPS
    for kw in kwargs:
        lr = kw.get("learning_rate")
        if isinstance(lr, (list, tuple)) and lr:
            steps = min(steps, len(lr))
    return steps


def compare(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
) -> Comparison | None:
    """Simulate both calls on the standard problem; ``None`` if either is rejected."""
    prob = standard_problem()
    n_steps = _steps_for(src_kwargs, dst_kwargs) if steps is None else steps
    if not 0 < n_steps <= STANDARD_STEPS:
        raise ValueError(f"steps must be in 1..{STANDARD_STEPS}, got {n_steps}")
    grad = _gradient(prob)
    try:
        src = simulate(src_api, src_kwargs, prob.x0, grad, steps=n_steps)
        dst = simulate(dst_api, dst_kwargs, prob.x0, grad, steps=n_steps)
    except ValueError:
        return None
    return classify(src, dst, n_steps)


def classify(src: np.ndarray, dst: np.ndarray, n_steps: int) -> Comparison:
    """The gap and verdict of two trajectories of shape ``(steps + 1, n)`` (also used by gradient replay)."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(src - dst)
        travel = np.maximum(
            np.abs(src - src[0]).max(axis=0), np.abs(dst - dst[0]).max(axis=0)
        )
        rel = diff / np.where(travel > 0, travel, 1.0)
    both_nonfinite = ~np.isfinite(src) & ~np.isfinite(dst) & (np.isnan(src) == np.isnan(dst))
    # The same non-finite value on both sides (e.g. both inf) is agreement.
    same = both_nonfinite & ((src == dst) | (np.isnan(src) & np.isnan(dst)))
    diff = np.where(same, 0.0, np.where(np.isfinite(diff), diff, np.inf))
    rel = np.where(same, 0.0, np.where(np.isfinite(rel), rel, np.inf))
    if not np.all(np.isfinite(travel)):
        # A coordinate blew up on one side only: relative gaps there are meaningless.
        rel = np.where(np.isfinite(travel) | same, rel, np.inf)

    gap = rel.max(axis=1)
    abs_gap = diff.max(axis=1)
    max_rel = float(gap.max())
    if max_rel <= EQUIVALENT_REL:
        verdict = "equivalent"
    elif max_rel <= APPROXIMATE_REL:
        verdict = "approximate"
    else:
        verdict = "divergent"
    over = np.nonzero(gap > APPROXIMATE_REL)[0]
    result = {
        "verdict": verdict,
        "max_abs_diff": float(abs_gap.max()),
        "max_rel_diff": max_rel,
        "first_divergent_step": int(over[0]) if over.size else None,
        "steps": n_steps,
    }
    return Comparison(src=src, dst=dst, gap=gap, abs_gap=abs_gap, result=result)


def verify(
    src_api: str, src_kwargs: dict[str, Any], dst_api: str, dst_kwargs: dict[str, Any]
) -> dict[str, Any]:
    """Classify the rewrite ``src_api(**src_kwargs)`` -> ``dst_api(**dst_kwargs)``.

    Returns ``{"verdict", "max_abs_diff", "max_rel_diff",
    "first_divergent_step", "steps"}``; see the module docstring for the
    standard problem, the thresholds and what each verdict means.
    """
    cmp = compare(src_api, src_kwargs, dst_api, dst_kwargs)
    return unverifiable() if cmp is None else cmp.result
