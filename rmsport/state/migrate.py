"""The math of a migration, pure numpy (no framework import): torch <-> neutral <-> MindSpore.

* ``nn.RMSProp`` folds the learning rate into its momentum buffer
  (``m = mom*m + lr*g/den; w -= m``), torch keeps it out (``buf = mom*buf + g/den;
  w -= lr*buf``), so ``moment = lr * momentum_buffer`` and back.  With a constant
  learning rate the two then take identical steps.
* ``nn.RMSProp`` starts ``mean_square`` at 1, torch at 0; a migrated state carries the
  running value, so the start value no longer matters.
* torch's per-parameter ``step`` maps to ``nn.RMSProp``'s single ``global_step``;
  ``mindspore.experimental`` keeps no step.  RMSProp has no bias correction, so the step
  changes no update; it only indexes per-step learning rates.
Everything that cannot be carried exactly becomes a line in ``MigratedState.notes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .errors import MISMATCH, UNREADABLE, StateError
from .model import GroupHyper, MigratedState, ParamState
from .slots import (
    EXPERIMENTAL,
    GRAD_AVG,
    HOLDS_GRAD_AVG,
    MOMENT,
    MS_PREFIXES,
    NN,
    NN_GLOBAL_STEP,
    NN_LEARNING_RATE,
    NN_SCALARS,
    SQUARE,
    TARGETS,
    TORCH_GROUP_KEYS,
    TORCH_GROUP_NO_MATH,
)

# ---------------------------------------------------------------------------
# torch state_dict -> neutral


def from_torch(
    sd: Any,
    names: Sequence[str],
    *,
    shapes: Sequence[tuple[int, ...] | None] | None = None,
) -> MigratedState:
    """Read a torch ``RMSprop.state_dict()`` (tensors already numpy) into the neutral state.

    ``names[i]`` is the MindSpore name of optimizer position ``i``; ``shapes[i]``, when
    known (from a model ``state_dict``), lets a parameter that never took a step start
    from torch's fresh state (zeros).
    """
    groups_raw = _torch_groups(sd)
    positions = [(gi, pos) for gi, g in enumerate(groups_raw) for pos in g["params"]]
    if len(names) != len(positions):
        if len(names) < len(positions):
            gi, pos = positions[len(names)]
            shape = _state_shape(sd["state"].get(pos))
            what = f"shape {shape}" if shape is not None else "no state"
            raise StateError(
                f"SRC's optimizer holds {len(positions)} parameters but {len(names)} names were given: "
                f"parameter {pos} ({what}) has no name",
                MISMATCH,
            )
        raise StateError(
            f"{len(names)} names were given but SRC's optimizer holds {len(positions)} parameters: "
            f"{names[len(positions)]!r} has no parameter in SRC",
            MISMATCH,
        )
    unknown = sorted(set(sd["state"]) - {pos for _, pos in positions}, key=str)
    if unknown:
        raise StateError(f"SRC's optimizer state has an entry {unknown[0]!r} that no param group lists", UNREADABLE)

    groups = [_group_hyper(g, gi) for gi, g in enumerate(groups_raw)]
    out = MigratedState(params=[], groups=groups)
    never_stepped: list[str] = []
    for i, ((gi, pos), name) in enumerate(zip(positions, names)):
        hyper = groups[gi]
        entry = sd["state"].get(pos)
        if not entry:
            shape = shapes[i] if shapes else None
            if shape is None:
                raise StateError(
                    f"parameter {name!r} (position {pos}) has no state in SRC (it never took a step) and its "
                    "shape is unknown: save the model state_dict beside the optimizer",
                    MISMATCH,
                )
            zeros = np.zeros(shape, dtype=np.float32)
            never_stepped.append(name)
            out.params.append(ParamState(name, zeros, zeros.copy() if hyper.momentum > 0 else None,
                                         zeros.copy() if hyper.centered else None, 0, gi))
            continue
        if not isinstance(entry, Mapping) or SQUARE.torch_key not in entry:
            raise StateError(f"parameter {name!r} (position {pos}): no 'square_avg': not RMSprop state", UNREADABLE)
        square = np.asarray(entry[SQUARE.torch_key])
        buf = _slot(entry, MOMENT.torch_key, name, square.shape, needed=hyper.momentum > 0)
        gavg = _slot(entry, GRAD_AVG.torch_key, name, square.shape, needed=hyper.centered)
        if shapes and shapes[i] is not None and tuple(shapes[i]) != square.shape:
            raise StateError(
                f"parameter {name!r}: state has shape {square.shape} but the model says {tuple(shapes[i])}", MISMATCH
            )
        out.params.append(ParamState(name, square, buf, gavg, _int_step(entry.get("step", 0), name), gi))
    if never_stepped:
        out.notes.append(
            f"{len(never_stepped)} parameter(s) never took a step in torch ({never_stepped[0]}, ...): "
            "written as torch's fresh state (zeros)"
        )
    return out


def torch_state_shapes(sd: Any) -> list[tuple[int, ...] | None]:
    """The state shape of each optimizer position (``None``: the parameter never took a step)."""
    groups = _torch_groups(sd)
    return [_state_shape(sd["state"].get(pos)) for g in groups for pos in g["params"]]


def _torch_groups(sd: Any) -> list[dict]:
    if not isinstance(sd, Mapping) or "state" not in sd or "param_groups" not in sd:
        keys = ", ".join(map(str, list(sd)[:8])) if isinstance(sd, Mapping) else type(sd).__name__
        raise StateError(
            f"SRC does not hold an optimizer state_dict (no 'state'/'param_groups'; found: {keys}); "
            "use --key NAME when it is stored under a key",
            UNREADABLE,
        )
    groups = sd["param_groups"]
    if not isinstance(groups, Sequence) or not groups:
        raise StateError("SRC's optimizer state_dict has no param_groups", UNREADABLE)
    for gi, g in enumerate(groups):
        if not isinstance(g, Mapping) or "params" not in g:
            raise StateError(f"param group {gi} in SRC has no 'params'", UNREADABLE)
        missing = [k for k in ("lr", "alpha", "eps", "momentum", "centered", "weight_decay") if k not in g]
        if missing:
            raise StateError(
                f"SRC holds the state of another optimizer, not torch.optim.RMSprop (param group {gi} "
                f"has no {missing[0]!r})",
                UNREADABLE,
            )
    if not isinstance(sd["state"], Mapping):
        raise StateError("SRC's optimizer state_dict 'state' is not a dict", UNREADABLE)
    return list(groups)


def _group_hyper(g: Mapping, gi: int) -> GroupHyper:
    try:
        return GroupHyper(
            lr=float(g["lr"]),
            alpha=float(g["alpha"]),
            eps=float(g["eps"]),
            momentum=float(g["momentum"]),
            centered=bool(g["centered"]),
            weight_decay=float(g["weight_decay"]),
            maximize=bool(g.get("maximize", False)),
            initial_lr=float(g["initial_lr"]) if g.get("initial_lr") is not None else None,
        )
    except (TypeError, ValueError) as exc:
        raise StateError(f"param group {gi} in SRC: a hyperparameter is not a number ({exc})", UNREADABLE) from None


def _state_shape(entry: Any) -> tuple[int, ...] | None:
    if isinstance(entry, Mapping) and SQUARE.torch_key in entry:
        return tuple(np.shape(entry[SQUARE.torch_key]))
    return None


def _slot(entry: Mapping, key: str, name: str, shape: tuple, *, needed: bool) -> np.ndarray | None:
    if not needed:
        return None
    if key not in entry:
        raise StateError(f"parameter {name!r}: its group uses {key} but SRC's state has none", MISMATCH)
    arr = np.asarray(entry[key])
    if arr.shape != shape:
        raise StateError(f"parameter {name!r}: {key} has shape {arr.shape}, square_avg {shape}", MISMATCH)
    return arr


def _int_step(step: Any, name: str) -> int:
    value = float(np.asarray(step).reshape(-1)[0]) if np.size(step) else 0.0
    if not np.isfinite(value) or value < 0 or value != int(value):
        raise StateError(f"parameter {name!r}: step {value!r} is not a count", UNREADABLE)
    return int(value)


# ---------------------------------------------------------------------------
# neutral -> MindSpore checkpoint entries


def to_mindspore(state: MigratedState, target: str) -> list[tuple[str, np.ndarray]]:
    """The checkpoint entries ``target``'s optimizer keeps; appends notes to ``state.notes``."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}")
    notes = state.notes
    used = sorted({p.group for p in state.params})
    groups = [state.groups[g] for g in used]
    centered = {g.centered for g in groups}
    if len(centered) > 1 and target == NN:
        raise StateError("param groups disagree on centered; mindspore.nn.RMSProp has one centered flag", MISMATCH)
    if target == NN:
        for key in ("alpha", "eps", "momentum"):
            values = {getattr(g, key) for g in groups}
            if len(values) > 1:
                notes.append(f"param groups differ in {key} ({sorted(values)}): nn.RMSProp takes one value; "
                             "the state is carried, the constructor must pick one")
        if any(g.maximize for g in groups):
            notes.append("maximize=True: mindspore.nn.RMSProp cannot maximize; negate the loss, or use "
                         "--target experimental")
        zero_lr = [p.name for p in state.params if p.momentum_buffer is not None and state.hyper(p).lr == 0]
        if zero_lr:
            notes.append(f"lr is 0 for {zero_lr[0]}: moment = lr * momentum_buffer loses the buffer")
        if any(g.weight_decay > 0 for g in groups) and any(
            "beta" in p.name or "gamma" in p.name for p in state.params
        ):
            notes.append("weight_decay > 0: ungrouped nn.RMSProp skips decay for parameters named beta/gamma "
                         "(torch decays them)")
    if any(g.initial_lr is not None for g in groups):
        notes.append("a torch lr scheduler was attached (initial_lr): its position is not carried; "
                     f"MindSpore starts from the current lr {groups[0].lr:g}")

    entries: list[tuple[str, np.ndarray]] = []
    if target == NN:
        steps = sorted({p.step for p in state.params})
        if len(steps) > 1:
            notes.append(f"parameters took different step counts ({steps[0]}..{steps[-1]}): "
                         f"global_step = {steps[-1]}")
        entries.append((NN_GLOBAL_STEP, np.array([steps[-1] if steps else 0], dtype=np.int32)))
        lrs = sorted({g.lr for g in groups})
        if len(lrs) == 1:
            entries.append((NN_LEARNING_RATE, np.array(lrs[0], dtype=np.float32)))
        else:
            notes.append(f"param groups have different lr ({lrs}): moment is folded with each group's lr; "
                         "learning_rate is not written, give the group lrs to nn.RMSProp's group_params")
    elif any(p.step for p in state.params):
        notes.append("mindspore.experimental.optim.RMSprop keeps no step count: torch's step is dropped "
                     "(RMSprop's update does not use it)")

    with_grad_avg = HOLDS_GRAD_AVG[target] == "always" or True in centered
    for p in state.params:
        if with_grad_avg:
            grad_avg = p.grad_avg if p.grad_avg is not None else np.zeros_like(p.square_avg)
            entries.append((f"{GRAD_AVG.ms_prefix}.{p.name}", grad_avg))
    for p in state.params:
        entries.append((f"{SQUARE.ms_prefix}.{p.name}", p.square_avg))
    for p in state.params:
        hyper = state.hyper(p)
        buf = p.momentum_buffer if p.momentum_buffer is not None else np.zeros_like(p.square_avg)
        if target == NN and MOMENT.lr_folded_in_nn:
            buf = (buf * np.asarray(hyper.lr, dtype=buf.dtype)).astype(buf.dtype)
        entries.append((f"{MOMENT.ms_prefix}.{p.name}", buf))
    return entries


# ---------------------------------------------------------------------------
# MindSpore checkpoint -> neutral


def detect_source(ckpt: Mapping[str, np.ndarray]) -> str:
    """``nn`` when the checkpoint holds nn.RMSProp's scalars, else ``experimental``."""
    return NN if any(k in ckpt for k in NN_SCALARS) else EXPERIMENTAL


def from_mindspore(
    ckpt: Mapping[str, np.ndarray],
    *,
    source: str,
    hyper: GroupHyper,
    names: Sequence[str] | None = None,
    step: int | None = None,
) -> MigratedState:
    """Read MindSpore checkpoint entries (numpy) into the neutral state.

    ``hyper`` holds the torch-side hyperparameters (from ``--call`` or the source class's
    defaults); for ``nn`` the checkpoint's ``learning_rate`` replaces ``hyper.lr``
    (it is the one the buffers were folded with), and ``mean_grad.*`` decides ``centered``.
    ``names`` gives the torch optimizer's order; by default the checkpoint's own order.
    """
    hyper = GroupHyper(**vars(hyper))
    notes: list[str] = []
    prefix = SQUARE.ms_prefix + "."
    found = [k[len(prefix):] for k in ckpt if k.startswith(prefix)]
    if not found:
        raise StateError("SRC holds no RMSProp state (no mean_square.* entries)", UNREADABLE)
    if source == EXPERIMENTAL and any(k in ckpt for k in NN_SCALARS):
        raise StateError("SRC holds global_step/learning_rate, which only mindspore.nn.RMSProp keeps, "
                         "but the source is mindspore.experimental.optim.RMSprop", MISMATCH)
    found_set = set(found)
    for key in ckpt:
        for pre in MS_PREFIXES:
            if key.startswith(pre + ".") and key[len(pre) + 1:] not in found_set:
                raise StateError(f"SRC has {key} but no {prefix}{key[len(pre) + 1:]}", MISMATCH)
    if names is not None:
        missing = [n for n in names if n not in found_set]
        if missing:
            raise StateError(f"parameter {missing[0]!r} from --names has no {prefix}{missing[0]} in SRC", MISMATCH)
        extra = [n for n in found if n not in set(names)]
        if extra:
            raise StateError(f"SRC holds state for {extra[0]!r}, which --names does not list", MISMATCH)
        order = list(names)
    else:
        order = found

    has_grad = [f"{GRAD_AVG.ms_prefix}.{n}" in ckpt for n in order]
    if any(has_grad) and not all(has_grad):
        n = order[has_grad.index(False)]
        raise StateError(f"SRC has mean_grad for some parameters but not {n!r}", MISMATCH)
    if source == NN:
        if any(has_grad) != hyper.centered:
            notes.append(f"SRC {'holds' if any(has_grad) else 'has no'} mean_grad.* (centered="
                         f"{any(has_grad)} in nn.RMSProp): torch gets centered={any(has_grad)}")
        hyper.centered = any(has_grad)
        lr, lr_note = _nn_lr(ckpt, hyper.lr)
        if lr_note:
            notes.append(lr_note)
        hyper.lr = lr
        gstep = ckpt.get(NN_GLOBAL_STEP)
        steps = int(np.asarray(gstep).reshape(-1)[0]) if gstep is not None else 0
        if step is not None and step != steps:
            notes.append(f"--step {step} overrides SRC's global_step {steps}")
            steps = step
        if hyper.weight_decay > 0 and any("beta" in n or "gamma" in n for n in order):
            notes.append("weight_decay > 0: nn.RMSProp skipped decay for beta/gamma parameters; torch decays them")
    else:
        if hyper.centered and not all(has_grad):
            raise StateError("centered=True but SRC has no mean_grad.* entries", MISMATCH)
        steps = step or 0
        notes.append(f"mindspore.experimental.optim.RMSprop keeps no step count: torch's step is set to {steps} "
                     "(RMSprop's update does not use it; --step N to choose)")

    params: list[ParamState] = []
    for name in order:
        square = np.asarray(ckpt[f"{prefix}{name}"])
        moment_key = f"{MOMENT.ms_prefix}.{name}"
        if moment_key not in ckpt:
            raise StateError(f"SRC has {prefix}{name} but no {moment_key}", MISMATCH)
        moment = np.asarray(ckpt[moment_key])
        grad_avg = np.asarray(ckpt[f"{GRAD_AVG.ms_prefix}.{name}"]) if hyper.centered else None
        for key, arr in ((moment_key, moment), (f"{GRAD_AVG.ms_prefix}.{name}", grad_avg), (name, ckpt.get(name))):
            if arr is not None and np.shape(arr) != square.shape:
                raise StateError(f"{key} has shape {np.shape(arr)} but {prefix}{name} has {square.shape}", MISMATCH)
        buf: np.ndarray | None = None
        if hyper.momentum > 0:
            if source == NN:
                if hyper.lr == 0:
                    raise StateError("learning_rate is 0: momentum_buffer = moment / lr cannot be recovered",
                                     MISMATCH)
                buf = (moment / np.asarray(hyper.lr, dtype=moment.dtype)).astype(moment.dtype)
            else:
                buf = moment
        elif source == EXPERIMENTAL and np.any(moment != 0):
            raise StateError(f"{moment_key} is non-zero, so the optimizer ran with momentum > 0: "
                             "give its constructor with --call", MISMATCH)
        params.append(ParamState(name, square, buf, grad_avg, steps, 0))
    return MigratedState(params=params, groups=[hyper], notes=notes)


def _nn_lr(ckpt: Mapping[str, np.ndarray], call_lr: float) -> tuple[float, str | None]:
    raw = ckpt.get(NN_LEARNING_RATE)
    if raw is None:
        return call_lr, f"SRC has no learning_rate: using lr={call_lr:g} from the call to unfold moment"
    arr = np.asarray(raw).reshape(-1)
    if arr.size == 1:
        lr = _shortest(arr[0])
        note = None
        if not np.isclose(lr, call_lr, rtol=1e-6, atol=0):
            note = f"SRC's learning_rate {lr:g} replaces the call's {call_lr:g}"
        return lr, note
    gstep = ckpt.get(NN_GLOBAL_STEP)
    t = int(np.asarray(gstep).reshape(-1)[0]) if gstep is not None else 0
    lr = _shortest(arr[min(max(t - 1, 0), arr.size - 1)])
    return lr, (f"SRC's learning_rate is a {arr.size}-step schedule: moment is unfolded with the lr of step {t} "
                f"({lr:g}) and torch gets that constant lr; the schedule's position is not carried")


def _shortest(value: np.generic) -> float:
    """The shortest decimal that rounds to ``value``'s own precision: float32 0.01 is 0.01, not 0.00999999977."""
    return float(str(value))


# ---------------------------------------------------------------------------
# neutral -> torch state_dict


def to_torch(state: MigratedState) -> dict[str, Any]:
    """A ``torch.optim.RMSprop.state_dict()`` with numpy arrays and float steps (io makes tensors)."""
    torch_state: dict[int, dict[str, Any]] = {}
    for i, p in enumerate(state.params):
        hyper = state.hyper(p)
        entry: dict[str, Any] = {"step": float(p.step), SQUARE.torch_key: p.square_avg}
        if hyper.momentum > 0:
            entry[MOMENT.torch_key] = (p.momentum_buffer if p.momentum_buffer is not None
                                       else np.zeros_like(p.square_avg))
        if hyper.centered:
            entry[GRAD_AVG.torch_key] = p.grad_avg if p.grad_avg is not None else np.zeros_like(p.square_avg)
        torch_state[i] = entry
    groups = []
    for gi, g in enumerate(state.groups):
        values = {**TORCH_GROUP_NO_MATH, "lr": g.lr, "momentum": g.momentum, "alpha": g.alpha, "eps": g.eps,
                  "centered": g.centered, "weight_decay": g.weight_decay, "maximize": g.maximize}
        group = {key: values[key] for key in TORCH_GROUP_KEYS}  # torch's own key order
        group["params"] = [i for i, p in enumerate(state.params) if p.group == gi]
        groups.append(group)
    return {"state": torch_state, "param_groups": groups}
