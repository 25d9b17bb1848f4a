r"""NumPy reference of what the three RMSProp APIs compute, per device.

The update is composed like optax (``scale_by_rms`` -> learning rate ->
trace), from three stages that each read one part of the configuration:

1. **gradient preprocessing**: ``maximize`` (``g = -g``), weight decay
   (``g + wd * p``) and MindSpore's ``loss_scale`` (``g / loss_scale``);
2. **scale by RMS**: the square average ``v`` (start value 0 or 1), the
   centered mean gradient, and the denominator, whose epsilon placement is a
   *strategy* (:class:`EpsPlacement`) that may depend on the element and the
   step: MindSpore's CPU kernel differs per SIMD block;
3. **learning rate and trace**: the learning rate applied at the update
   (torch: ``buf = mom*buf + g/den; p -= lr*buf``) or inside the momentum
   buffer (MindSpore ``nn``: ``m = mom*m + lr*g/den; p -= m``).

What each API computes comes from its :class:`~rmsport.tables.optimizers.Semantics`
(the argument tables): square-average start, epsilon placement per device,
where the learning rate enters, loss scale, the centered skip.  The only other
input is :data:`RMSPropConfig.op_order`, which is **rounding only**: whose
order of float operations to follow, so that ``dtype=np.float32`` reproduces
each framework's float32 results (MindSpore's ``s += (g*g - s) * (1 - decay)``
against torch's ``v = alpha*v + (1 - alpha)*g*g``; torch's fused
multiply-add in the centered variance; MindSpore experimental's ``1 - alpha``
taken from the float32-rounded alpha, even for float64 parameters).

Devices (``simulate(..., device=...)``)
---------------------------------------
* ``None``, ``"gpu"``, ``"ascend"``: the documented rule.  MindSpore's CUDA
  kernel computes ``rsqrt(mean_square + epsilon)`` for every element, and
  Ascend's ``ApplyRMSProp`` is documented the same way.
* ``"cpu"``: MindSpore 2.10's CPU kernel for *non-centered* ``nn.RMSProp``
  (float32, and float16 which it computes the same way) splits the tensor into
  parallel chunks and handles each chunk in 8-wide SIMD blocks that compute
  ``sqrt(s) + epsilon`` (epsilon **outside**), and only the last ``len % 8``
  elements of each chunk with ``sqrt(s + epsilon)``.  :class:`SimdBlocks`
  models that; ``device="cpu"`` uses one chunk, which is exact when MindSpore
  runs CPU kernels on one thread (``mindspore.device_context.cpu.op_tuning.threads_num(1)``).
  With ``K`` threads the kernel's auto-search uses ``min(2, K)`` chunks for
  launches 6-10 and ``min(4, K)`` for 11-15, then whichever was fastest (one
  chunk for tensors up to ~1e5 elements here); ``SimdBlocks(threads=K)``
  replays that schedule, and the single-chunk model then differs from the
  kernel in at most those 10 steps.  torch and ``mindspore.experimental`` do
  not depend on the device.

Weight decay's name filter (MindSpore ``nn`` skips parameters named
``*beta*``/``*gamma*`` when not grouped) is not modelled: :func:`simulate`
works on one unnamed array and always applies weight decay.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, NamedTuple, Protocol

import numpy as np

from ..tables.optimizers import APIS as _API_TABLES
from ..tables.optimizers import MS_EXPERIMENTAL as _MS_EXP
from ..tables.optimizers import MS_NN as _MS_NN
from ..tables.optimizers import TORCH as _TORCH
from ..tables.optimizers import Api

__all__ = [
    "APIS",
    "DEVICES",
    "EPS_INSIDE",
    "EPS_OUTSIDE",
    "EpsPlacement",
    "RMSPropConfig",
    "RMSPropState",
    "SimdBlocks",
    "config_for",
    "defaults",
    "eps_placement_for",
    "init",
    "run",
    "simulate",
    "update",
]

TORCH = _TORCH
MS_NN = _MS_NN
MS_EXP = _MS_EXP
APIS = (TORCH, MS_NN, MS_EXP)
DEVICES = ("cpu", "gpu", "ascend")

OpOrder = Literal["torch", "mindspore.nn", "mindspore.experimental"]
_OP_ORDER: dict[str, OpOrder] = {TORCH: "torch", MS_NN: "mindspore.nn", MS_EXP: "mindspore.experimental"}


# --------------------------------------------------------------------------
# Epsilon placement strategies


class EpsPlacement(Protocol):
    """Where epsilon sits, per element and step: ``True`` = inside the root."""

    def inside(self, shape: tuple[int, ...], step: int) -> bool | np.ndarray: ...


class _Fixed(NamedTuple):
    value: bool

    def inside(self, shape: tuple[int, ...], step: int) -> bool:
        return self.value


EPS_INSIDE: EpsPlacement = _Fixed(True)
EPS_OUTSIDE: EpsPlacement = _Fixed(False)

SIMD_WIDTH = 8  # AVX: 8 float32 lanes
_SEARCH_LAUNCHES = 5  # ParallelLaunchAutoSearch times each chunking over 5 launches


@functools.lru_cache(maxsize=256)
def _block_mask(n: int, chunks: int, width: int) -> np.ndarray:
    """Flat mask of one launch: ``False`` in full SIMD blocks, ``True`` in each chunk's tail."""
    mask = np.ones(n, dtype=bool)
    size = -(-n // chunks)  # ceil, as the thread pool splits
    for start in range(0, n, size):
        length = min(size, n - start)
        mask[start : start + (length // width) * width] = False
    mask.setflags(write=False)
    return mask


class SimdBlocks(NamedTuple):
    """MindSpore 2.10's CPU ``ApplyRMSProp``: epsilon outside in SIMD blocks, inside in chunk tails.

    ``threads`` is the kernel thread count.  The chunking follows the kernel's
    auto-search for a tensor small enough that one chunk is the fastest: one
    chunk for launches 1-5, ``min(2, threads)`` for 6-10, ``min(4, threads)``
    for 11-15, then one.  ``threads=1`` is one chunk throughout.
    """

    threads: int = 1
    width: int = SIMD_WIDTH

    def chunks(self, step: int) -> int:
        power = step // _SEARCH_LAUNCHES
        if 1 <= power <= 2:
            return max(1, min(2**power, self.threads))
        return 1

    def inside(self, shape: tuple[int, ...], step: int) -> np.ndarray:
        n = int(np.prod(shape, dtype=np.int64))
        return _block_mask(n, self.chunks(step), self.width).reshape(shape)


_PLACEMENTS: dict[str, EpsPlacement] = {
    "inside": EPS_INSIDE,
    "outside": EPS_OUTSIDE,
    "cpu_simd_blocks": SimdBlocks(),
}


def eps_placement_for(api: str, device: str | None = None, *, centered: bool = False) -> EpsPlacement:
    """The epsilon strategy of ``api`` on ``device`` (``None``: the documented rule)."""
    _check_api(api)
    if device is not None and device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)} or None")
    return _PLACEMENTS[_API_TABLES[api].semantics.eps_on(device, centered=centered)]


# --------------------------------------------------------------------------
# The core


class RMSPropConfig(NamedTuple):
    """Everything the core needs; one field per framework difference."""

    lr: float | tuple[float, ...]
    """Learning rate, or one per step (step ``t`` uses entry ``t``)."""
    decay: float
    """Smoothing constant of the averages (torch ``alpha``, MindSpore ``decay``)."""
    eps: float
    eps_in_sqrt: bool | np.ndarray | EpsPlacement
    """``sqrt(v + eps)`` if true, ``sqrt(v) + eps`` if false; a per-element mask, or a strategy."""
    initial_scale: float
    """Start value of the square average: 0 (torch) or 1 (MindSpore ``nn``, TF1)."""
    momentum: float
    centered: bool
    lr_in_momentum: bool
    """``m = mom*m + lr*g/den; p -= m`` if true, ``buf = mom*buf + g/den; p -= lr*buf`` if false."""
    weight_decay: float
    loss_scale: float = 1.0
    """Gradients are divided by it (MindSpore ``nn``); 1 elsewhere."""
    maximize: bool = False
    op_order: OpOrder = "torch"
    """Rounding only: whose order of float operations to follow."""
    skip_nonpositive: bool = False
    """Centered: leave ``m`` and ``p`` alone where ``v - mg**2 + eps <= 0`` (MindSpore's kernel)."""


class RMSPropState(NamedTuple):
    count: int
    nu: np.ndarray  # square average (torch square_avg, MindSpore mean_square)
    mu: np.ndarray  # mean gradient, centered only (grad_avg / mean_grad)
    mom: np.ndarray  # momentum buffer (torch momentum_buffer, MindSpore moment)


def init(params: np.ndarray, config: RMSPropConfig) -> RMSPropState:
    """Fresh state for ``params``: all zeros except the square average."""
    dt = params.dtype
    return RMSPropState(
        count=0,
        nu=np.full(params.shape, config.initial_scale, dtype=dt),
        mu=np.zeros(params.shape, dtype=dt),
        mom=np.zeros(params.shape, dtype=dt),
    )


def _lr_at(config: RMSPropConfig, count: int) -> float:
    if isinstance(config.lr, tuple):
        n = len(config.lr)
        if count >= n:
            # MindSpore 2.10 reads list learning rates with Gather, which raises
            # instead of repeating the last value.
            raise ValueError(
                f"learning_rate has {n} values but step {count + 1} was requested "
                f"(MindSpore: For 'Gather', the 'input_indices' should be in the range "
                f"[0, {n}), but got {count})"
            )
        return config.lr[count]
    return config.lr


def _inside_mask(config: RMSPropConfig, shape: tuple[int, ...], step: int) -> bool | np.ndarray:
    placement = config.eps_in_sqrt
    if isinstance(placement, (bool, np.bool_, np.ndarray)):
        return placement
    return placement.inside(shape, step)


def _preprocess(g: np.ndarray, p: np.ndarray, c: RMSPropConfig, dt: Any) -> np.ndarray:
    """Stage 1: maximize, weight decay, loss scale."""
    if c.maximize:
        g = -g
    if c.op_order == "mindspore.nn":
        # Optimizer._preprocess_weight_decay stores weight_decay * loss_scale, so
        # after the division the decay term is weight_decay * w again.
        if c.weight_decay > 0:
            g = p * dt(c.weight_decay * c.loss_scale) + g
        if c.loss_scale != 1.0:
            g = g * dt(1.0 / c.loss_scale)
        return g
    if c.weight_decay != 0:
        g = g + dt(c.weight_decay) * p if c.op_order == "torch" else p * dt(c.weight_decay) + g
    if c.loss_scale != 1.0:
        g = g * dt(1.0 / c.loss_scale)
    return g


def _one_minus_decay(c: RMSPropConfig, dt: Any) -> Any:
    if c.op_order == "torch":
        return dt(1.0 - c.decay)  # Python double, then the tensor's dtype
    if c.op_order == "mindspore.nn":
        # The kernel: 1.0 - (double)decay, decay already in the parameter dtype.
        return dt(1.0 - float(dt(c.decay)))
    # mindspore.experimental takes 1 - alpha from the float32-rounded alpha
    # (8e-5 relative with alpha=0.9999), even for float64 parameters.  Modelled
    # below float64 only: a float64 simulation is each API's exact math, so that
    # float64 comparisons (gradient replay) see torch and experimental as one rule.
    if np.dtype(dt).itemsize >= 8:
        return dt(1.0 - c.decay)
    return dt(1.0 - float(np.float32(c.decay)))


def _scale_by_rms(
    g: np.ndarray, state: RMSPropState, c: RMSPropConfig, dt: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage 2: new square average, new mean gradient, variance and denominator."""
    a = dt(c.decay)
    oma = _one_minus_decay(c, dt)
    eps = dt(c.eps)
    if c.op_order == "mindspore.nn":
        nu = state.nu + (g * g - state.nu) * oma
    elif c.op_order == "torch":
        nu = state.nu * a + oma * g * g
    else:
        nu = state.nu * a + g * g * oma

    mu = state.mu
    if c.centered:
        if c.op_order == "mindspore.nn":
            mu = mu + (g - mu) * oma
            var = nu - mu * mu
        elif c.op_order == "torch":
            # Tensor.lerp_(end, w): self + w*(end-self) for w < 0.5, else end - (end-self)*(1-w)
            mu = mu + oma * (g - mu) if oma < 0.5 else g - (g - mu) * (dt(1.0) - oma)
            var = _fused_variance(nu, mu)
        else:
            mu = mu * a + g * oma
            var = nu - mu * mu
    else:
        var = nu

    inside = _inside_mask(c, var.shape, state.count)
    with np.errstate(invalid="ignore", divide="ignore"):
        if inside is True or inside is np.True_:
            den = np.sqrt(var + eps)
        elif inside is False or inside is np.False_:
            den = np.sqrt(var) + eps
        else:
            den = np.where(inside, np.sqrt(var + eps), np.sqrt(var) + eps)
    return nu, mu, var, den


def _fused_variance(nu: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """torch's ``square_avg.addcmul(grad_avg, grad_avg, value=-1)``: one rounding (fused multiply-add).

    For float32/float16 the product of two such numbers is exact in float64,
    so computing there and rounding once models the fused op (``alpha=0`` can
    then round to a tiny negative and give NaN, as torch does).  float64 is
    computed unfused (no wider type here); the difference is below 1e-16.
    """
    if nu.dtype.itemsize >= 8:
        return nu - mu * mu
    wide = nu.astype(np.float64) - mu.astype(np.float64) * mu.astype(np.float64)
    return wide.astype(nu.dtype)


def _trace(
    g: np.ndarray, den: np.ndarray, var: np.ndarray, p: np.ndarray, state: RMSPropState,
    c: RMSPropConfig, dt: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stage 3: learning rate and momentum trace; returns ``(new_p, new_mom)``."""
    mom_c = dt(c.momentum)
    lr = dt(_lr_at(c, state.count))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if c.lr_in_momentum:
            new_mom = state.mom * mom_c + (g * lr) / den
            new_p = p - new_mom
            if c.skip_nonpositive and c.centered:
                ok = (var + dt(c.eps)) > 0
                new_mom = np.where(ok, new_mom, state.mom)
                new_p = np.where(ok, new_p, p)
        elif c.momentum > 0:
            new_mom = state.mom * mom_c + g / den
            new_p = p + (-lr) * new_mom if c.op_order == "torch" else p - new_mom * lr
        else:
            new_mom = state.mom
            new_p = p + (-lr) * (g / den) if c.op_order == "torch" else p - (lr * g) / den
    return new_p, new_mom


def update(
    grads: np.ndarray, state: RMSPropState, params: np.ndarray, config: RMSPropConfig
) -> tuple[np.ndarray, RMSPropState]:
    """One optimizer step; pure: returns ``(new_params, new_state)``.

    Arithmetic happens in ``params.dtype``; scalars are rounded to that dtype
    first, like the frameworks' scalar-to-tensor casts.
    """
    dt = params.dtype.type
    g = _preprocess(np.asarray(grads, dtype=params.dtype), params, config, dt)
    with np.errstate(over="ignore", invalid="ignore"):
        nu, mu, var, den = _scale_by_rms(g, state, config, dt)
    new_p, new_mom = _trace(g, den, var, params, state, config, dt)
    new_state = RMSPropState(
        count=state.count + 1,
        nu=nu.astype(params.dtype, copy=False),
        mu=mu.astype(params.dtype, copy=False),
        mom=np.asarray(new_mom).astype(params.dtype, copy=False),
    )
    return np.asarray(new_p).astype(params.dtype, copy=False), new_state


# --------------------------------------------------------------------------
# API adapters: constructor keywords -> core configuration


# Each API's constructor defaults under its own keywords, read from the same
# argument tables the converter uses, so the two cannot drift.
_DEFAULTS: dict[str, dict[str, Any]] = {
    qualname: {table.keywords[concept]: value for concept, value in table.defaults.items()}
    for qualname, table in _API_TABLES.items()
}


def defaults(api: str) -> dict[str, Any]:
    """The constructor defaults of ``api`` (a fresh dict, without ``params``)."""
    _check_api(api)
    return dict(_DEFAULTS[api])


def _check_api(api: str) -> None:
    if api not in _DEFAULTS:
        raise ValueError(f"unknown optimizer API {api!r}; expected one of {', '.join(APIS)}")


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, (bool, np.bool_))


def _merge(api: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    _check_api(api)
    merged = dict(_DEFAULTS[api])
    for key, value in kwargs.items():
        if key == "params":  # documented: ignored, simulate brings its own array
            continue
        if key not in merged:
            raise ValueError(f"{api}.__init__() got an unexpected keyword argument {key!r}")
        merged[key] = value
    return merged


def _lr_sequence(value: Any) -> tuple[float, ...] | None:
    """A list, tuple or 1-D array of numbers as a tuple of floats; ``None`` otherwise."""
    if isinstance(value, np.ndarray):
        if value.ndim != 1 or value.size == 0 or not np.issubdtype(value.dtype, np.number):
            return None
        return tuple(float(x) for x in value)
    if isinstance(value, (list, tuple)) and value and all(_is_number(x) for x in value):
        return tuple(float(x) for x in value)
    return None


# Framework wording of a range violation, per API (the messages are the
# frameworks' own, so a user recognises them).
def _torch_range_message(key: str, value: Any, strict: bool) -> str:
    label = {"lr": "learning rate", "eps": "epsilon value"}.get(key, f"{key} value")
    return f"Invalid {label}: {value}"


def _nn_range_message(key: str, value: Any, strict: bool) -> str:
    relation = "must > 0" if strict else "must >= 0"
    return f"For 'RMSProp', the '{key}' must be float and {relation}, but got '{value}' with type 'float'."


def _exp_range_message(key: str, value: Any, strict: bool) -> str:
    relation = "greater than 0.0" if strict else "greater than or equal to 0.0"
    return f"For RMSprop, the {key} must be {relation}, but got {value}."


def _check_range(api: Api, concept: str, key: str, value: float, message: Callable[[str, Any, bool], str]) -> None:
    check = api.checks.get(concept)
    if check is not None and not check.accepts(value):
        raise ValueError(message(key, value, check.strict))


def _lr_config(api: Api, kw: dict[str, Any], message: Callable[[str, Any, bool], str]) -> float | tuple[float, ...]:
    """A number, or one learning rate per step (every API: step ``t`` uses entry ``t``)."""
    key = api.keywords["lr"]
    value = kw[key]
    if _is_number(value):
        lr = float(value)
        _check_range(api, "lr", "learning rate" if api.qualname == MS_NN else key, lr, message)
        return lr
    seq = _lr_sequence(value)
    if seq is None:
        raise ValueError(
            f"{api.qualname}: {key} must be a number or a non-empty list of numbers (one per step), "
            f"got {value!r}"
        )
    if not api.semantics.per_step_lr:
        # torch and experimental take one number; a sequence here stands for a
        # scheduler's per-step values: the first is what the constructor got
        # (its own rule), the later ones must not be negative (a schedule may
        # reach 0, e.g. cosine annealing to eta_min=0).
        _check_range(api, "lr", key, seq[0], message)
        for x in seq[1:]:
            if x < 0:
                raise ValueError(message(key, x, False))
    # MindSpore nn: Optimizer._preprocess_single_lr casts a list to float32, no range check.
    return seq


def _torch_config(kw: dict[str, Any]) -> RMSPropConfig:
    api = _API_TABLES[TORCH]
    lr = _lr_config(api, kw, _torch_range_message)
    for key in ("eps", "momentum", "weight_decay", "alpha"):
        if not _is_number(kw[key]):
            raise ValueError(
                f"torch.optim.RMSprop: {key} must be a number, got {kw[key]!r} "
                "(schedules live in torch.optim.lr_scheduler)"
            )
        _check_range(api, key, key, kw[key], _torch_range_message)
    return _build(api, kw, lr)


def _ms_nn_config(kw: dict[str, Any]) -> RMSPropConfig:
    api = _API_TABLES[MS_NN]
    if not _is_number(kw["learning_rate"]) and _lr_sequence(kw["learning_rate"]) is None:
        raise ValueError(
            "For 'Optimizer', the argument 'learning_rate' must be int, float, Tensor, "
            f"Iterable or LearningRateSchedule; simulate takes a number or a non-empty "
            f"list of numbers, got {kw['learning_rate']!r}"
        )
    lr = _lr_config(api, kw, _nn_range_message)
    for concept in (c for c in api.keywords if c in api.float_only):
        key = api.keywords[concept]
        # mindspore/nn/optim/rmsprop.py: validator.check_value_type(key, value, [float]);
        # MindSpore raises TypeError for `momentum=0`, which is why ported code needs `0.0`.
        if not isinstance(kw[key], float):
            raise ValueError(
                f"For 'RMSProp', the type of '{key}' should be 'float', but got type '{type(kw[key]).__name__}'."
            )
        _check_range(api, concept, key, kw[key], _nn_range_message)
    for key in ("use_locking", "centered"):
        if not isinstance(kw[key], bool):
            raise ValueError(
                f"For 'RMSProp', the type of '{key}' should be 'bool', but got type '{type(kw[key]).__name__}'."
            )
    loss_scale = kw["loss_scale"]
    if isinstance(loss_scale, int) and not isinstance(loss_scale, bool):
        loss_scale = float(loss_scale)  # Optimizer.__init__ converts int loss_scale
    if not isinstance(loss_scale, float):
        raise ValueError(
            f"For 'RMSProp', the type of 'loss_scale' should be 'float', but got type '{type(loss_scale).__name__}'."
        )
    _check_range(api, "loss_scale", "loss_scale", loss_scale, _nn_range_message)
    if not _is_number(kw["weight_decay"]):
        raise ValueError(f"For 'RMSProp', the 'weight_decay' must be int or float, got {kw['weight_decay']!r}")
    _check_range(api, "weight_decay", "weight_decay", float(kw["weight_decay"]), _nn_range_message)
    return _build(api, {**kw, "loss_scale": loss_scale}, lr)


def _ms_exp_config(kw: dict[str, Any]) -> RMSPropConfig:
    # Messages are mindspore/experimental/optim/optimizer.py's check_not_less_than[_without_equal].
    api = _API_TABLES[MS_EXP]
    lr = _lr_config(api, kw, _exp_range_message)
    for key in ("alpha", "eps", "momentum", "weight_decay"):
        if not _is_number(kw[key]):
            raise ValueError(f"For RMSprop, the {key} must be a number, but got {kw[key]!r}.")
        _check_range(api, key, key, kw[key], _exp_range_message)
    return _build(api, kw, lr)


def _build(api: Api, kw: dict[str, Any], lr: float | tuple[float, ...]) -> RMSPropConfig:
    """The core configuration from the table's semantics and the checked keywords."""
    sem = api.semantics
    k = api.keywords
    return RMSPropConfig(
        lr=lr,
        decay=float(kw[k["alpha"]]),
        eps=float(kw[k["eps"]]),
        eps_in_sqrt=_PLACEMENTS[sem.eps_placement],
        initial_scale=sem.square_avg_start,
        momentum=float(kw[k["momentum"]]),
        centered=bool(kw[k["centered"]]),
        lr_in_momentum=sem.lr_placement == "momentum",
        weight_decay=float(kw[k["weight_decay"]]),
        loss_scale=float(kw[k["loss_scale"]]) if sem.loss_scale else 1.0,
        maximize=bool(kw[k["maximize"]]) if "maximize" in k else False,
        op_order=_OP_ORDER[api.qualname],
        skip_nonpositive=sem.skips_nonpositive_denominator,
    )


_ADAPTERS: dict[str, Callable[[dict[str, Any]], RMSPropConfig]] = {
    TORCH: _torch_config,
    MS_NN: _ms_nn_config,
    MS_EXP: _ms_exp_config,
}


def config_for(api: str, kwargs: dict[str, Any], *, device: str | None = None) -> RMSPropConfig:
    """Map ``api``'s constructor keywords (defaults filled in) onto the core.

    ``device`` chooses the epsilon strategy (see the module docstring).
    Raises ``ValueError`` for an unknown API, keyword or device and for every
    value the framework itself rejects, with the framework's own rule in the
    message (MindSpore raises ``TypeError`` for some of these; here it is
    ``ValueError`` with MindSpore's text).  A ``params`` key is ignored.
    """
    merged = _merge(api, kwargs)  # raises for an unknown API first
    config = _ADAPTERS[api](merged)
    if device is not None:
        config = config._replace(eps_in_sqrt=eps_placement_for(api, device, centered=config.centered))
    return config


def run(
    config: RMSPropConfig,
    params: np.ndarray,
    grads: np.ndarray | Callable[[np.ndarray, int], Any],
    *,
    steps: int | None = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Run the core for ``steps`` steps; see :func:`simulate` for the arguments."""
    p = np.array(params, dtype=dtype)
    if callable(grads):
        if steps is None:
            raise ValueError("steps is required when grads is a callable")
        grad_at = grads
    else:
        g_all = np.asarray(grads, dtype=dtype)
        if g_all.shape[1:] != p.shape:
            raise ValueError(
                f"grads must have shape (steps, *params.shape) = (steps, {', '.join(map(str, p.shape))}), "
                f"got {g_all.shape}"
            )
        if steps is None:
            steps = g_all.shape[0]
        if steps > g_all.shape[0]:
            raise ValueError(f"steps={steps} but only {g_all.shape[0]} gradients were given")

        def grad_at(_p: np.ndarray, t: int) -> np.ndarray:
            return g_all[t]

    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if isinstance(config.lr, tuple) and steps > len(config.lr):
        _lr_at(config, len(config.lr))  # raises MindSpore's out-of-range rule
    out = np.empty((steps + 1, *p.shape), dtype=dtype)
    out[0] = p
    state = init(p, config)
    for t in range(steps):
        g = np.asarray(grad_at(p.copy(), t), dtype=dtype)
        if g.shape != p.shape:
            raise ValueError(f"gradient for step {t} has shape {g.shape}, expected {p.shape}")
        p, state = update(g, state, p, config)
        out[t + 1] = p
    return out


def simulate(
    api: str,
    kwargs: dict[str, Any],
    params: np.ndarray,
    grads: np.ndarray | Callable[[np.ndarray, int], Any],
    *,
    steps: int | None = None,
    dtype: Any = np.float64,
    device: str | None = None,
) -> np.ndarray:
    """Trajectory of ``params`` under ``api(**kwargs)`` fed the gradients ``grads``.

    Args:
        api: ``"torch.optim.RMSprop"``, ``"mindspore.nn.RMSProp"`` or
            ``"mindspore.experimental.optim.RMSprop"``.
        kwargs: that API's constructor keywords; missing ones take the API's
            defaults (:func:`defaults`).  A ``params`` key is ignored.
            torch's ``foreach``, ``capturable``, ``differentiable`` and
            MindSpore's ``use_locking`` are accepted and change nothing.
            The learning rate (``lr`` / ``learning_rate``) of every API may
            be a list, tuple or 1-D array: step ``t`` uses entry ``t`` (for
            torch and experimental these are a scheduler's per-step values);
            more steps than entries is a ``ValueError`` (MindSpore itself
            raises at that step).
        params: initial parameters, any shape.
        grads: an array of shape ``(steps, *params.shape)``, or a callable
            ``(params, step) -> grad`` (``step`` counts from 0, ``params`` is a
            copy of the current parameters in ``dtype``).
        steps: number of steps; defaults to ``len(grads)`` for an array and is
            required for a callable.
        dtype: arithmetic dtype.  ``np.float32`` (and ``np.float16``) follow
            the frameworks' order of operations in that dtype.
        device: ``"cpu"``, ``"gpu"``, ``"ascend"`` or ``None`` (the documented
            rule, which GPU and Ascend follow).  ``"cpu"`` models MindSpore's
            CPU kernel for non-centered ``nn.RMSProp`` (:class:`SimdBlocks`,
            one chunk); other APIs do not depend on it.

    Returns:
        Array of shape ``(steps + 1, *params.shape)``; row 0 is ``params``.

    Raises:
        ValueError: unknown API, keyword or device, or a value the framework
            rejects; the message carries the framework's rule (e.g. torch's
            ``"Invalid learning rate: -0.1"``).
    """
    return run(config_for(api, kwargs, device=device), params, grads, steps=steps, dtype=dtype)


def lr_length(value: Sequence[Any] | Any) -> int | None:
    """How many steps a per-step learning rate covers (``None`` for a number)."""
    seq = _lr_sequence(value)
    return None if seq is None else len(seq)


# --------------------------------------------------------------------------
# Many trajectories at once (what --verify pays for)


class LinearGradient(NamedTuple):
    """``grad(x, t) = h * (x - center) + noise[t]``: a quadratic's gradient, which :func:`run_rows` can fold."""

    h: np.ndarray
    center: np.ndarray
    noise: np.ndarray  # (steps, n)

    def __call__(self, x: np.ndarray, t: int) -> np.ndarray:
        return self.h * (x - self.center) + self.noise[t]


def run_rows(
    configs: Sequence[RMSPropConfig],
    starts: np.ndarray,
    grad: Callable[[np.ndarray, int], np.ndarray],
    steps: int,
    *,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Run one configuration per row of ``starts`` (shape ``(rows, n)``) in lockstep.

    The same three stages as :func:`update`, with each configuration's scalars
    as a column, so the rows cost one pass of NumPy calls per step instead of
    one each (``--verify`` runs the source twice and the rewrite once or twice).
    One order of float operations for every row (torch's), so a row agrees
    with :func:`simulate` to float32 rounding, not bit for bit; epsilon
    placements are per row and element (``SimdBlocks`` is laid out on the last
    axis, the shape one row's tensor has).  ``grad(x, t)`` gets the
    ``(rows, n)`` array; a :class:`LinearGradient` is folded into the
    preprocessing (fewer NumPy calls per step).  Returns ``(steps + 1, rows, n)``.
    """
    rows, n = starts.shape
    if len(configs) != rows:
        raise ValueError(f"{len(configs)} configurations for {rows} rows")
    dt = np.dtype(dtype).type

    def col(values: Sequence[float]) -> np.ndarray:
        return np.asarray(values, dtype=dtype).reshape(rows, 1)

    for c in configs:
        if isinstance(c.lr, tuple) and steps > len(c.lr):
            _lr_at(c, len(c.lr))
    lr = np.empty((steps, rows, 1), dtype=dtype)
    for r, c in enumerate(configs):
        lr[:, r, 0] = c.lr[:steps] if isinstance(c.lr, tuple) else c.lr
    in_momentum = col([c.lr_in_momentum for c in configs]) > 0
    lr_in = np.where(in_momentum, lr, dt(1))
    lr_out = np.where(in_momentum, dt(1), lr)
    # Constant learning rates (the common case) need no per-step indexing.
    per_step_lr = any(isinstance(c.lr, tuple) for c in configs)
    lr_in_c, lr_out_c = lr_in[0], lr_out[0]
    unit_lr_in = not per_step_lr and bool(np.all(lr_in_c == 1))
    a = col([c.decay for c in configs])
    oma = np.asarray([[_one_minus_decay(c, dt)] for c in configs], dtype=dtype)
    eps = col([c.eps for c in configs])
    mom = col([c.momentum for c in configs])
    any_momentum = any(c.momentum != 0 for c in configs)
    wd = col([c.weight_decay for c in configs])
    any_wd = any(c.weight_decay != 0 for c in configs)
    # MindSpore nn: g / loss_scale + wd * w (the decay is not scaled); maximize flips g first.
    pre_scale = col([(-1.0 if c.maximize else 1.0) / c.loss_scale for c in configs])
    centered = col([c.centered for c in configs])
    any_centered = any(c.centered for c in configs)
    skip = np.asarray([[c.skip_nonpositive and c.centered] for c in configs])
    any_skip = bool(skip.any())

    def eps_split(t: int) -> tuple[np.ndarray, np.ndarray]:
        # den = sqrt(var + eps_in) + eps_out: exactly one of the two is eps, the
        # other 0 (adding 0 is exact), so one expression serves both placements.
        inside = np.stack([np.broadcast_to(_inside_mask(c, (n,), t), (n,)) for c in configs])
        return np.where(inside, eps, dt(0)), np.where(inside, dt(0), eps)

    step_dependent = any(isinstance(c.eps_in_sqrt, SimdBlocks) and c.eps_in_sqrt.threads > 1 for c in configs)
    eps_in, eps_out = eps_split(0)

    linear = isinstance(grad, LinearGradient)
    if linear:
        h_scaled = (np.asarray(grad.h, dtype=dtype) * pre_scale).astype(dtype)
        center = np.asarray(grad.center, dtype=dtype)
        noise = np.asarray(grad.noise[:steps], dtype=dtype)[:, None, :] * pre_scale

    out = np.empty((steps + 1, rows, n), dtype=dtype)
    out[0] = starts
    nu = np.broadcast_to(col([c.initial_scale for c in configs]), (rows, n)).copy()
    mu = np.zeros((rows, n), dtype=dtype)
    m = np.zeros((rows, n), dtype=dtype)
    g = np.empty((rows, n), dtype=dtype)
    tmp = np.empty((rows, n), dtype=dtype)
    den = np.empty((rows, n), dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for t in range(steps):
            x = out[t]
            if linear:
                np.subtract(x, center, out=g)
                g *= h_scaled
                g += noise[t]
            else:
                np.multiply(grad(x, t), pre_scale, out=g)
            if any_wd:
                np.multiply(wd, x, out=tmp)
                g += tmp
            np.multiply(g, g, out=tmp)
            tmp *= oma
            nu *= a
            nu += tmp
            if any_centered:
                mu *= a
                np.multiply(oma, g, out=tmp)
                mu += tmp
                var = nu - centered * mu * mu
            else:
                var = nu
            if step_dependent:
                eps_in, eps_out = eps_split(t)
            np.add(var, eps_in, out=den)
            np.sqrt(den, out=den)
            den += eps_out
            if unit_lr_in:
                np.divide(g, den, out=tmp)
            else:
                np.multiply(g, lr_in[t] if per_step_lr else lr_in_c, out=tmp)
                tmp /= den
            if any_skip:
                new_m = m * mom + tmp
                ok = ~skip | ((var + eps) > 0)
                m = np.where(ok, new_m, m)
                out[t + 1] = np.where(ok, x - lr_out[t] * new_m, x)
                continue
            step_lr = lr_out[t] if per_step_lr else lr_out_c
            if any_momentum:
                m *= mom
                m += tmp
                np.multiply(step_lr, m, out=tmp)
            else:
                tmp *= step_lr
            np.subtract(x, tmp, out=out[t + 1])
    return out


from .lr_schedules import lr_sequence  # noqa: E402,F401  (issue 12: per-step learning rates of schedulers)
