"""Numerical verification of one rewritten optimizer call.

:func:`verify` runs the original call and its rewrite through the NumPy
reference (:mod:`rmsport.numerics.reference`) on one fixed *standard problem*,
in float32 as the frameworks train, on the chosen MindSpore device, and says
how far apart the two trajectories end up **compared with the float32 noise
of the source itself**.

Standard problem
----------------
A noisy, ill-conditioned quadratic, ``f(x) = 1/2 * sum_i h_i * (x_i - c_i)**2``,
in 28 coordinates: 4 coordinates at each of the 7 curvatures
``h = 1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2``.  Every coordinate starts at
``x_i = 0`` with its optimum ``c_i = +1`` or ``-1`` (alternating), so the
gradients start at the scale ``h_i`` and span 1e-4 to 1e2, where epsilon
placement and start values show.  The gradient at step ``t`` is
``h_i * (x_i - c_i) + 0.1 * h_i * n_ti`` with ``n_ti`` standard normal noise
(NumPy ``default_rng(0)``, drawn once and reused).  300 steps, float32.
If either call uses a per-step learning-rate list, the problem runs for
``min(300, len(list))`` steps; ``steps`` in the result says how many.

Gap and noise floor
-------------------
The gap at step ``t`` is ``max_i |a_ti - b_ti| / d_i``, where ``a`` and ``b``
are two trajectories and ``d_i`` the larger of the two distances coordinate
``i`` travels from its start (``max_t |x_ti - x_0i|``): a gap of 0.01 means
off by 1 % of how far the optimizer moved.

The source runs twice: once from ``x_0`` and once from ``x_0`` moved one
float32 ulp towards the optimum (``2**-23``, the ulp of the start's distance
1 to it).  The largest gap between those two runs is the **noise floor**:
what float32 rounding alone can do to this optimizer on this problem.
Well-conditioned configurations have a floor near 1e-7; chaotic ones (large
momentum, centered with a small decay) amplify it to the size of the
trajectory itself.

Verdicts
--------
* ``sensitive``: the noise floor itself exceeds ``1e-2``: one ulp at the start
  moves the source by more than the divergence threshold, so no rewrite can be
  judged on this problem (``first_divergent_step`` is ``None``).
* ``equivalent``: the rewrite's gap never exceeds
  ``max(NOISE_FACTOR * noise_floor, EQUIVALENT_REL)``: it is within the
  float32 noise of the source.  Renaming is enough.
* ``approximate``: the gap never exceeds ``1e-2`` (1 % of the distance
  travelled).  Same optimizer in practice, not bit for bit.
* ``divergent``: the gap exceeds ``1e-2`` at some step (or one trajectory
  stops being finite).  ``first_divergent_step`` is the first such step
  (1-based; step 0 is the shared start); it is ``None`` for the other verdicts.
* ``unverifiable``: the call could not be simulated: an argument is not a
  literal, or the reference rejects a value (unknown keyword, value the
  framework itself rejects).  The numbers are then ``0.0``, ``0.0``,
  ``None``, ``steps = 0`` and ``noise_floor = 0.0``.

``max_abs_diff`` is ``max_ti |a_ti - b_ti|`` and ``max_rel_diff`` the largest
gap; both are ``inf`` when only one trajectory becomes non-finite.
``noise_floor`` is the source's own largest one-ulp gap, and ``device`` the
MindSpore device simulated (``"ascend"``, ``"gpu"`` or ``"cpu"``; only
``mindspore.nn.RMSProp`` on ``"cpu"`` computes differently, see
:mod:`rmsport.numerics.reference`).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import numpy as np

from rmsport.numerics.reference import DEVICES, LinearGradient, config_for, lr_length, run_rows

__all__ = [
    "APPROXIMATE_REL",
    "DEFAULT_DEVICE",
    "EQUIVALENT_REL",
    "NOISE_FACTOR",
    "STANDARD_STEPS",
    "VERDICTS",
    "Comparison",
    "classify",
    "compare",
    "standard_problem",
    "unverifiable",
    "verify",
]

STANDARD_STEPS = 300
APPROXIMATE_REL = 1e-2
NOISE_FACTOR = 10.0
# float64 agreement: "equivalent" for two float64 trajectories (classify without a
# noise floor, e.g. gradient replay), and the least bound of float32 verification.
EQUIVALENT_REL = 1e-9
DEFAULT_DEVICE = "ascend"
VERDICTS = ("equivalent", "approximate", "divergent", "sensitive", "unverifiable")
CURVATURES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0, 1e1, 1e2)
PER_SCALE = 4
NOISE = 0.1
SEED = 0
DTYPE = np.float32


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


@functools.lru_cache(maxsize=1)
def _problem32() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    prob = standard_problem()
    cast = [a.astype(DTYPE) for a in (prob.h, prob.center, prob.x0, prob.noise)]
    for a in cast:
        a.setflags(write=False)
    return tuple(cast)  # type: ignore[return-value]


@functools.lru_cache(maxsize=1)
def _gradient() -> LinearGradient:
    h, c, _, noise = _problem32()
    return LinearGradient(h, c, noise)


def nudged_start() -> np.ndarray:
    """``x_0`` moved one float32 ulp (of the distance 1 to the optimum) towards the optimum."""
    _, c, x0, _ = _problem32()
    return x0 + np.spacing(DTYPE(1.0)) * c


class Comparison(NamedTuple):
    """Both trajectories on the standard problem and the per-step gap."""

    src: np.ndarray  # (steps + 1, n)
    dst: np.ndarray
    gap: np.ndarray  # (steps + 1,) relative gap per step, see module docstring
    abs_gap: np.ndarray  # (steps + 1,) max_i |src - dst|
    result: dict[str, Any]
    noise: np.ndarray | None = None  # (steps + 1,) relative gap of the source to its one-ulp twin
    alternatives: tuple[float, ...] = ()  # max relative gap of each alternative rewrite


def unverifiable(steps: int = 0, device: str = DEFAULT_DEVICE) -> dict[str, Any]:
    """The result for a call that cannot be simulated (e.g. non-literal arguments)."""
    return {
        "verdict": "unverifiable",
        "max_abs_diff": 0.0,
        "max_rel_diff": 0.0,
        "first_divergent_step": None,
        "steps": steps,
        "noise_floor": 0.0,
        "device": device,
    }


def _steps_for(*kwargs: dict[str, Any]) -> int:
    steps = STANDARD_STEPS
    for kw in kwargs:
        for key in ("learning_rate", "lr"):
            n = lr_length(kw.get(key))
            if n:
                steps = min(steps, n)
    return steps


def _gaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(relative gap per step, max |a - b| per step); see the module docstring.

    ``a`` and ``b`` are ``(steps + 1, ..., n)`` and broadcast; the maximum is
    over the last axis, so ``(steps + 1, rows, n)`` gives one column per row.
    """
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(a - b)
        travel = np.maximum(np.abs(a - a[0]).max(axis=0), np.abs(b - b[0]).max(axis=0))
        rel = diff / np.where(travel > 0, travel, 1.0)
    both_nonfinite = ~np.isfinite(a) & ~np.isfinite(b) & (np.isnan(a) == np.isnan(b))
    # The same non-finite value on both sides (e.g. both inf) is agreement.
    same = both_nonfinite & ((a == b) | (np.isnan(a) & np.isnan(b)))
    diff = np.where(same, 0.0, np.where(np.isfinite(diff), diff, np.inf))
    rel = np.where(same, 0.0, np.where(np.isfinite(rel), rel, np.inf))
    if not np.all(np.isfinite(travel)):
        # A coordinate blew up on one side only: relative gaps there are meaningless.
        rel = np.where(np.isfinite(travel) | same, rel, np.inf)
    return rel.max(axis=-1), diff.max(axis=-1)


def _check_device(device: str) -> None:
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")


def compare(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
    device: str = DEFAULT_DEVICE,
    alternatives: tuple[dict[str, Any], ...] = (),
) -> Comparison | None:
    """Simulate both calls on the standard problem; ``None`` if either is rejected.

    ``alternatives`` are other keyword sets for ``dst_api`` (e.g. the other
    ``--eps-mapping``), simulated in the same pass; their largest relative gaps
    to the source come back in ``Comparison.alternatives`` (``inf`` for one
    the reference rejects).
    """
    _check_device(device)
    n_steps = _steps_for(src_kwargs, dst_kwargs) if steps is None else steps
    if not 0 < n_steps <= STANDARD_STEPS:
        raise ValueError(f"steps must be in 1..{STANDARD_STEPS}, got {n_steps}")
    try:
        src_cfg = config_for(src_api, src_kwargs, device=device)
        dst_cfg = config_for(dst_api, dst_kwargs, device=device)
    except ValueError:
        return None
    alt_cfgs = []
    for kw in alternatives:
        try:
            alt_cfgs.append(config_for(dst_api, kw, device=device))
        except ValueError:
            alt_cfgs.append(None)
    configs = [src_cfg, src_cfg, dst_cfg, *(c for c in alt_cfgs if c is not None)]
    _, _, x0, _ = _problem32()
    starts = np.stack([x0, nudged_start(), *([x0] * (len(configs) - 2))])
    try:
        rows = run_rows(configs, starts, _gradient(), n_steps, dtype=DTYPE)
    except ValueError:
        return None
    src, dst = rows[:, 0], rows[:, 2]
    gaps, abs_gaps = _gaps(rows[:, :1], rows[:, 1:])  # every row against the source at once
    noise, gap, abs_gap = gaps[:, 0], gaps[:, 1], abs_gaps[:, 1]
    alt_gaps = []
    row = 2
    for cfg in alt_cfgs:
        if cfg is None:
            alt_gaps.append(float("inf"))
        else:
            alt_gaps.append(float(gaps[:, row].max()))
            row += 1

    result = _result(gap, abs_gap, n_steps, noise=noise, device=device)
    return Comparison(
        src=src, dst=dst, gap=gap, abs_gap=abs_gap, result=result, noise=noise, alternatives=tuple(alt_gaps)
    )


def _result(
    gap: np.ndarray, abs_gap: np.ndarray, n_steps: int, *, noise: np.ndarray | None, device: str | None
) -> dict[str, Any]:
    max_rel = float(gap.max())
    floor = float(noise.max()) if noise is not None else 0.0
    if floor > APPROXIMATE_REL:
        verdict = "sensitive"
    elif max_rel <= max(NOISE_FACTOR * floor, EQUIVALENT_REL):
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
        "first_divergent_step": int(over[0]) if verdict == "divergent" and over.size else None,
        "steps": n_steps,
    }
    if noise is not None:
        result["noise_floor"] = floor
        result["device"] = device
    return result


def classify(
    src: np.ndarray, dst: np.ndarray, n_steps: int, *, noise: np.ndarray | None = None, device: str | None = None
) -> Comparison:
    """The gap and verdict of two trajectories of shape ``(steps + 1, n)`` (also used by gradient replay).

    Without ``noise`` (a per-step noise gap, see :func:`compare`) the verdict has
    no noise floor: ``equivalent`` means agreement to ``EQUIVALENT_REL`` (float64
    rounding), and the result has no ``noise_floor`` / ``device`` fields.
    """
    gap, abs_gap = _gaps(src, dst)
    result = _result(gap, abs_gap, n_steps, noise=noise, device=device)
    return Comparison(src=src, dst=dst, gap=gap, abs_gap=abs_gap, result=result, noise=noise)


def verify(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    device: str = DEFAULT_DEVICE,
) -> dict[str, Any]:
    """Classify the rewrite ``src_api(**src_kwargs)`` -> ``dst_api(**dst_kwargs)``.

    Returns ``{"verdict", "max_abs_diff", "max_rel_diff",
    "first_divergent_step", "steps", "noise_floor", "device"}``; see the module
    docstring for the standard problem, the noise floor and what each verdict
    means.
    """
    cmp = compare(src_api, src_kwargs, dst_api, dst_kwargs, device=device)
    return unverifiable(device=device) if cmp is None else cmp.result
