"""Replay recorded gradients through two optimizer calls (``rmsport compare CALL --grads FILE.npz``).

Instead of the standard quadratic, both calls are fed the gradients of the user's own run,
open loop: step ``t`` of both gets the recorded gradient ``t``, so the trajectories differ
only by the update rules (and the start state).  The verdict is
:func:`rmsport.numerics.verify.classify`'s, on all parameters' coordinates side by side.

The ``.npz`` format (``numpy.savez``):

* ``grad/<name>``: array of shape ``(steps, *shape)``, the gradient parameter ``<name>``
  received at each recorded step (what the optimizer was given, before its own weight
  decay); every parameter has the same number of steps;
* ``param/<name>`` (optional): the parameter's value before the first recorded step
  (default zeros; only weight decay reads it, the verdict is relative to the distance moved).

A start state (a migrated optimizer state) is given per parameter in torch's convention:
any object with ``square_avg``, ``momentum_buffer`` (or ``None``), ``grad_avg`` (or ``None``)
and ``step`` (:class:`rmsport.state.ParamState` is one).  ``mindspore.nn.RMSProp``'s buffer
holds the learning rate (``moment = lr * momentum_buffer``), its square average the
running value instead of its fresh 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .reference import RMSPropState, config_for, simulate, update
from .verify import Comparison, classify

__all__ = ["GradsError", "Recording", "Replay", "load_grads", "replay"]

GRAD_PREFIX = "grad/"
PARAM_PREFIX = "param/"


class GradsError(ValueError):
    """The .npz file cannot be used; the message names the file and the reason."""


@dataclass
class Recording:
    grads: dict[str, np.ndarray]  # name -> (steps, *shape), in the file's order
    params: dict[str, np.ndarray]  # name -> start value

    @property
    def steps(self) -> int:
        return next(iter(self.grads.values())).shape[0]


def load_grads(path: str | Path) -> Recording:
    """Read and check a gradient recording (format in the module docstring)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise GradsError(f"{path}: cannot read as .npz: {exc}") from None
    except Exception as exc:  # zipfile.BadZipFile and friends
        raise GradsError(f"{path}: cannot read as .npz: {type(exc).__name__}: {exc}") from None
    grads: dict[str, np.ndarray] = {}
    params: dict[str, np.ndarray] = {}
    for key, arr in arrays.items():
        if key.startswith(GRAD_PREFIX):
            grads[key[len(GRAD_PREFIX):]] = arr
        elif key.startswith(PARAM_PREFIX):
            params[key[len(PARAM_PREFIX):]] = arr
        else:
            raise GradsError(f"{path}: entry {key!r} is neither grad/<name> nor param/<name>")
    if not grads:
        raise GradsError(f"{path}: no grad/<name> entries")
    steps = None
    for name, g in grads.items():
        if not np.issubdtype(g.dtype, np.floating) or g.ndim < 1 or g.shape[0] < 1:
            raise GradsError(f"{path}: grad/{name} must be a float array of shape (steps, *shape), got "
                             f"{g.dtype} {g.shape}")
        if steps is None:
            steps = g.shape[0]
        elif g.shape[0] != steps:
            raise GradsError(f"{path}: grad/{name} has {g.shape[0]} steps, the first entry {steps}")
        if not np.all(np.isfinite(g)):
            raise GradsError(f"{path}: grad/{name} holds inf or nan")
    for name, p in params.items():
        if name not in grads:
            raise GradsError(f"{path}: param/{name} has no grad/{name}")
        if p.shape != grads[name].shape[1:]:
            raise GradsError(f"{path}: param/{name} has shape {p.shape}, its gradients {grads[name].shape[1:]}")
    return Recording(grads=grads, params=params)


@dataclass
class Replay:
    comparison: Comparison  # over all coordinates, parameters side by side
    per_param: dict[str, dict[str, float]]  # name -> {"max_abs_diff", "max_rel_diff", "travel"}

    @property
    def result(self) -> dict[str, Any]:
        return self.comparison.result


def _start_state(api: str, kwargs: dict[str, Any], start: Any, params: np.ndarray) -> RMSPropState:
    config = config_for(api, kwargs)
    dt = params.dtype
    zeros = np.zeros(params.shape, dtype=dt)
    buf = zeros if start.momentum_buffer is None else np.asarray(start.momentum_buffer, dtype=dt)
    if config.lr_in_momentum:
        lr = config.lr[min(start.step, len(config.lr) - 1)] if isinstance(config.lr, tuple) else config.lr
        buf = buf * dt.type(lr)
    return RMSPropState(
        count=int(start.step) if isinstance(config.lr, tuple) else 0,
        nu=np.asarray(start.square_avg, dtype=dt),
        mu=zeros if start.grad_avg is None else np.asarray(start.grad_avg, dtype=dt),
        mom=buf,
    )


def _trajectory(api: str, kwargs: dict[str, Any], p0: np.ndarray, grads: np.ndarray, start: Any | None,
                dtype: Any) -> np.ndarray:
    if start is None:
        return simulate(api, kwargs, p0, grads, dtype=dtype)
    config = config_for(api, kwargs)
    p = np.array(p0, dtype=dtype)
    state = _start_state(api, kwargs, start, p)
    out = np.empty((grads.shape[0] + 1, *p.shape), dtype=dtype)
    out[0] = p
    for t in range(grads.shape[0]):
        p, state = update(np.asarray(grads[t], dtype=dtype), state, p, config)
        out[t + 1] = p
    return out


def replay(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    recording: Recording,
    *,
    start: Mapping[str, Any] | None = None,
    steps: int | None = None,
    dtype: Any = np.float64,
) -> Replay:
    """Feed both calls the recorded gradients (optionally from a start state) and classify the gap.

    Raises ``ValueError`` when a call cannot be simulated or ``start`` does not cover
    every recorded parameter with the right shape.
    """
    n = recording.steps if steps is None else min(steps, recording.steps)
    if n < 1:
        raise ValueError("steps must be >= 1")
    if start is not None:
        for name, g in recording.grads.items():
            if name not in start:
                raise ValueError(f"the start state has no parameter {name!r} (recorded in the .npz)")
            shape = np.shape(start[name].square_avg)
            if shape != g.shape[1:]:
                raise ValueError(f"the start state of {name!r} has shape {shape}, its gradients {g.shape[1:]}")
    src_parts, dst_parts, per_param = [], [], {}
    for name, g in recording.grads.items():
        p0 = recording.params.get(name, np.zeros(g.shape[1:]))
        s = start[name] if start is not None else None
        a = _trajectory(src_api, src_kwargs, p0, g[:n], s, dtype).reshape(n + 1, -1)
        b = _trajectory(dst_api, dst_kwargs, p0, g[:n], s, dtype).reshape(n + 1, -1)
        src_parts.append(a)
        dst_parts.append(b)
        one = classify(a.astype(np.float64), b.astype(np.float64), n).result
        travel = float(max(np.abs(a - a[0]).max(), np.abs(b - b[0]).max())) if a.size else 0.0
        per_param[name] = {"max_abs_diff": one["max_abs_diff"], "max_rel_diff": one["max_rel_diff"],
                           "travel": travel}
    src = np.concatenate(src_parts, axis=1).astype(np.float64)
    dst = np.concatenate(dst_parts, axis=1).astype(np.float64)
    return Replay(comparison=classify(src, dst, n), per_param=per_param)


def render_replay(console, src_api: str, src_kwargs: dict[str, Any], dst_api: str, dst_kwargs: dict[str, Any],
                  rep: Replay, *, source: str, started_from: str | None) -> None:
    """Print the per-parameter gaps and the verdict (same fields as ``--verify``)."""
    from rich.table import Table

    from .verify import APPROXIMATE_REL, EQUIVALENT_REL

    def args(kw: dict[str, Any]) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in kw.items())

    console.print(f"[cyan]source [/]  {src_api}({args(src_kwargs)})", highlight=False)
    console.print(f"[magenta]rewrite[/]  {dst_api}({args(dst_kwargs)})", highlight=False)
    start = f", starting from the state in {started_from}" if started_from else ", from a fresh state"
    console.print(f"replaying {rep.result['steps']} recorded steps from {source}{start}", style="bold")
    table = Table(show_edge=False)
    for col, justify in (("parameter", "left"), ("moved", "right"), ("max |Δx|", "right"), ("rel gap", "right"),
                         ("", "left")):
        table.add_column(col, justify=justify)
    for name, row in rep.per_param.items():
        gap = row["max_rel_diff"]
        flag = "[green]=[/]" if gap <= EQUIVALENT_REL else "[yellow]~[/]" if gap <= APPROXIMATE_REL else "[red]✗[/]"
        table.add_row(name, f"{row['travel']:.4g}", f"{row['max_abs_diff']:.3g}", f"{gap:.3g}", flag)
    console.print(table)
    r = rep.result
    console.print(f"verdict: {r['verdict']}")
    console.print(f"  max relative gap {r['max_rel_diff']:.4g} (equivalent <= {EQUIVALENT_REL:g}, "
                  f"approximate <= {APPROXIMATE_REL:g})")
    console.print(f"  max |Δx| {r['max_abs_diff']:.4g}")
    if r["first_divergent_step"] is not None:
        console.print(f"  first divergent step {r['first_divergent_step']}")
    console.print(f"  steps {r['steps']}")
