r"""NumPy reference of what the three RMSProp APIs compute.

One pure core (``RMSPropConfig`` + ``RMSPropState`` + :func:`init` /
:func:`update`, in the style of optax's ``scale_by_rms``) is parameterised by
the few things the frameworks really disagree on; three thin adapters map each
API's own constructor keywords onto it:

=======================  ==============  ================  ==================
core parameter           torch           mindspore.nn      ms.experimental
=======================  ==============  ================  ==================
``initial_scale``        0               **1** (TF1)       0
``eps_in_sqrt``          False           **True**          False
``lr_in_momentum``       False           **True**          False
``loss_scale``           1               ``loss_scale``    1
``maximize``             ``maximize``    False             ``maximize``
=======================  ==============  ================  ==================

``torch.optim.RMSprop`` (follows ``torch/optim/rmsprop.py``,
``_single_tensor_rmsprop``, the path CPU tensors take)::

    g = -g if maximize
    g = g + weight_decay * p                      if weight_decay != 0
    v = alpha * v + (1 - alpha) * g * g           v_0 = 0
    centered:  ga = lerp(ga, g, 1 - alpha);  den = sqrt(v - ga * ga) + eps
    else:                                    den = sqrt(v) + eps
    momentum > 0:  buf = momentum * buf + g / den;  p = p - lr * buf
    else:          p = p - lr * g / den

``mindspore.nn.RMSProp`` (follows ``mindspore/nn/optim/rmsprop.py`` and
``mindspore/nn/optim/optimizer.py`` for the gradient preprocessing, and the
``ApplyRMSProp`` / ``ApplyCenteredRMSProp`` CPU kernels,
``plugin/device/cpu/kernel/rmsprop_cpu_kernel.cc`` and
``nnacl/fp32/rmsprop_fp32.c``)::

    g = g + (weight_decay * loss_scale) * w       if weight_decay > 0
    g = g * (1 / loss_scale)                      if loss_scale != 1
    s = s + (g * g - s) * (1 - decay)             s_0 = 1   (init='ones')
    centered:  mg = mg + (g - mg) * (1 - decay);  den = sqrt(s - mg * mg + epsilon)
    else:                                         den = sqrt(s + epsilon)
    m = momentum * m + lr_t * g / den             (centered: skipped when s - mg^2 + epsilon <= 0)
    w = w - m

``Optimizer._preprocess_weight_decay`` stores ``weight_decay * loss_scale``,
so after the division by ``loss_scale`` the decay term is ``weight_decay * w``
again: ``g_eff = g / loss_scale + weight_decay * w``.  ``lr_t`` is
``learning_rate`` or, for a list, its t-th entry; MindSpore 2.10 reads it with
``Gather`` and raises ``RuntimeError`` once the list is exhausted, so
:func:`simulate` raises ``ValueError`` when ``steps > len(learning_rate)``.

When params are not grouped, MindSpore applies weight decay only to
parameters whose name contains neither ``'beta'`` nor ``'gamma'``.
:func:`simulate` works on one unnamed array and always applies it: the name
filter is **not** modelled.

MindSpore 2.10's x86 CPU kernel for the *non-centered* float32 op does not
follow its own specification: ``RMSPropUnuseCenterFp32`` handles each worker
thread's chunk in AVX blocks of 8 elements with ``sqrt(s) + epsilon`` and only
the chunk's ``len % 8`` tail with ``sqrt(s + epsilon)``.  Which elements fall
in a block depends on how ``ParallelLaunchAutoSearch`` splits the tensor,
which it re-tunes during the first steps, so on CPU the placement can change
from step to step (recorded in ``fixtures/trajectories/ms_nn__large_epsilon.json``).
:func:`simulate` models the specified op (epsilon inside, as the centered
kernel and the scalar path compute).  The difference is invisible while
``epsilon`` is small against ``sqrt(s)``, e.g. the default ``1e-10``; the core
accepts a per-element boolean mask for ``eps_in_sqrt`` to replay a recording.

``mindspore.experimental.optim.RMSprop`` (follows
``mindspore/experimental/optim/rmsprop.py``) computes torch's update; only the
order of float operations differs (``ga = alpha * ga + (1 - alpha) * g``,
``p = p - (lr * g) / den``, ``p = p - buf * lr``).

Only float rounding depends on ``op_order``; every other field changes the
math.  In ``float32`` the scalars are rounded to float32 first, as all three
frameworks do, so trajectories agree with the real frameworks to ~1e-6
relative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import numpy as np

from ..tables.optimizers import APIS as _API_TABLES

__all__ = [
    "APIS",
    "RMSPropConfig",
    "RMSPropState",
    "config_for",
    "defaults",
    "init",
    "run",
    "simulate",
    "update",
]

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXP = "mindspore.experimental.optim.RMSprop"
APIS = (TORCH, MS_NN, MS_EXP)

OpOrder = Literal["torch", "mindspore.nn", "mindspore.experimental"]


class RMSPropConfig(NamedTuple):
    """Everything the core needs; one value per framework difference."""

    lr: float | tuple[float, ...]
    """Learning rate, or one per step (MindSpore ``nn`` list learning rates)."""
    decay: float
    """Smoothing constant of the averages (torch ``alpha``, MindSpore ``decay``)."""
    eps: float
    eps_in_sqrt: bool | np.ndarray
    """``sqrt(v + eps)`` if true, ``sqrt(v) + eps`` if false; may be a per-element mask."""
    initial_scale: float
    """Start value of the square average: 0 (torch) or 1 (MindSpore ``nn``, TF1)."""
    momentum: float
    centered: bool
    lr_in_momentum: bool
    """``m = mom*m + lr*g/den; p -= m`` if true, ``buf = mom*buf + g/den; p -= lr*buf`` if false."""
    weight_decay: float
    loss_scale: float = 1.0
    maximize: bool = False
    op_order: OpOrder = "torch"
    """Rounding only: whose order of float operations to follow."""


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


def update(
    grads: np.ndarray, state: RMSPropState, params: np.ndarray, config: RMSPropConfig
) -> tuple[np.ndarray, RMSPropState]:
    """One optimizer step; pure: returns ``(new_params, new_state)``.

    Arithmetic happens in ``params.dtype``; scalars are rounded to that dtype
    first, like the frameworks' scalar-to-tensor casts.
    """
    dt = params.dtype.type
    c = config
    one = dt(1.0)
    a = dt(c.decay)
    # torch and ms.experimental compute 1 - alpha in Python double, the
    # MindSpore kernel as 1.0 - (double)float32(decay); both then round.
    oma = dt(1.0 - float(a)) if c.op_order == "mindspore.nn" else dt(1.0 - c.decay)
    eps = dt(c.eps)
    mom_c = dt(c.momentum)
    lr = dt(_lr_at(c, state.count))
    g = np.asarray(grads, dtype=params.dtype)
    p = params

    if c.maximize:
        g = -g
    if c.op_order == "mindspore.nn":
        if c.weight_decay > 0:
            g = p * dt(c.weight_decay * c.loss_scale) + g
        if c.loss_scale != 1.0:
            g = g * dt(1.0 / c.loss_scale)
    elif c.weight_decay != 0:
        g = g + dt(c.weight_decay) * p if c.op_order == "torch" else p * dt(c.weight_decay) + g

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
        elif c.op_order == "torch":
            # Tensor.lerp_(end, w): self + w*(end-self) for w < 0.5, else end - (end-self)*(1-w)
            mu = mu + oma * (g - mu) if oma < 0.5 else g - (g - mu) * (one - oma)
        else:
            mu = mu * a + g * oma
        var = nu - mu * mu
    else:
        var = nu

    with np.errstate(invalid="ignore", divide="ignore"):
        inside = np.sqrt(var + eps)
        outside = np.sqrt(var) + eps
    if isinstance(c.eps_in_sqrt, np.ndarray):
        den = np.where(c.eps_in_sqrt, inside, outside)
    else:
        den = inside if c.eps_in_sqrt else outside

    with np.errstate(invalid="ignore", divide="ignore"):
        if c.lr_in_momentum:
            new_mom = state.mom * mom_c + (g * lr) / den
            new_p = p - new_mom
            if c.centered and c.op_order == "mindspore.nn":
                # ApplyCenteredRMSProp leaves moment and var alone where the
                # denominator is not positive.
                ok = (var + eps) > 0
                new_mom = np.where(ok, new_mom, state.mom)
                new_p = np.where(ok, new_p, p)
        elif c.momentum > 0:
            new_mom = state.mom * mom_c + g / den
            new_p = p + (-lr) * new_mom if c.op_order == "torch" else p - new_mom * lr
        else:
            new_mom = state.mom
            new_p = p + (-lr) * (g / den) if c.op_order == "torch" else p - (lr * g) / den

    new_state = RMSPropState(
        count=state.count + 1,
        nu=nu.astype(params.dtype, copy=False),
        mu=mu.astype(params.dtype, copy=False),
        mom=new_mom.astype(params.dtype, copy=False),
    )
    return new_p.astype(params.dtype, copy=False), new_state


# --------------------------------------------------------------------------
# API adapters


# Each API's constructor defaults under its own keywords, read from the same
# argument tables the converter uses (``rmsport/apis.py``), so the two cannot drift.
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
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _merge(api: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    _check_api(api)
    merged = dict(_DEFAULTS[api])
    for key, value in kwargs.items():
        if key == "params":  # documented: ignored, simulate brings its own array
            continue
        if key not in merged:
            raise ValueError(
                f"{api}.__init__() got an unexpected keyword argument {key!r}"
            )
        merged[key] = value
    return merged


def _torch_config(kw: dict[str, Any]) -> RMSPropConfig:
    # Messages are torch/optim/rmsprop.py's own.
    for key, label in (
        ("lr", "learning rate"),
        ("eps", "epsilon value"),
        ("momentum", "momentum value"),
        ("weight_decay", "weight_decay value"),
        ("alpha", "alpha value"),
    ):
        if not _is_number(kw[key]):
            raise ValueError(
                f"torch.optim.RMSprop: {key} must be a number, got {kw[key]!r} "
                "(schedules live in torch.optim.lr_scheduler)"
            )
        if not 0.0 <= kw[key]:
            raise ValueError(f"Invalid {label}: {kw[key]}")
    return RMSPropConfig(
        lr=float(kw["lr"]),
        decay=float(kw["alpha"]),
        eps=float(kw["eps"]),
        eps_in_sqrt=False,
        initial_scale=0.0,
        momentum=float(kw["momentum"]),
        centered=bool(kw["centered"]),
        lr_in_momentum=False,
        weight_decay=float(kw["weight_decay"]),
        maximize=bool(kw["maximize"]),
        op_order="torch",
    )


def _ms_float(kw: dict[str, Any], key: str, *, positive: bool) -> float:
    # mindspore/nn/optim/rmsprop.py: validator.check_value_type(key, value, [float]);
    # MindSpore raises TypeError for `momentum=0`, which is why ported code needs `0.0`.
    value = kw[key]
    if not isinstance(value, float):
        raise ValueError(
            f"For 'RMSProp', the type of '{key}' should be 'float', "
            f"but got type '{type(value).__name__}'."
        )
    _ms_range(key, value, positive=positive)
    return value


def _ms_range(label: str, value: float, *, positive: bool) -> None:
    if positive and not value > 0:
        raise ValueError(
            f"For 'RMSProp', the '{label}' must be float and must > 0, "
            f"but got '{value}' with type 'float'."
        )
    if not positive and not value >= 0:
        raise ValueError(
            f"For 'RMSProp', the '{label}' must be float and must >= 0, "
            f"but got '{value}' with type 'float'."
        )


def _ms_nn_config(kw: dict[str, Any]) -> RMSPropConfig:
    lr_in = kw["learning_rate"]
    if _is_number(lr_in):
        lr: float | tuple[float, ...] = float(lr_in)
        _ms_range("learning rate", lr, positive=False)
    elif isinstance(lr_in, (list, tuple)) and lr_in and all(_is_number(x) for x in lr_in):
        # Optimizer._preprocess_single_lr: np.array(list(lr)).astype(np.float32), not range-checked.
        lr = tuple(float(x) for x in lr_in)
    else:
        raise ValueError(
            "For 'Optimizer', the argument 'learning_rate' must be int, float, Tensor, "
            f"Iterable or LearningRateSchedule; simulate takes a number or a non-empty "
            f"list of numbers, got {lr_in!r}"
        )
    decay = _ms_float(kw, "decay", positive=False)
    momentum = _ms_float(kw, "momentum", positive=False)
    epsilon = _ms_float(kw, "epsilon", positive=True)
    for key in ("use_locking", "centered"):
        if not isinstance(kw[key], bool):
            raise ValueError(
                f"For 'RMSProp', the type of '{key}' should be 'bool', "
                f"but got type '{type(kw[key]).__name__}'."
            )
    loss_scale = kw["loss_scale"]
    if isinstance(loss_scale, int) and not isinstance(loss_scale, bool):
        loss_scale = float(loss_scale)  # Optimizer.__init__ converts int loss_scale
    if not isinstance(loss_scale, float):
        raise ValueError(
            f"For 'RMSProp', the type of 'loss_scale' should be 'float', "
            f"but got type '{type(loss_scale).__name__}'."
        )
    _ms_range("loss_scale", loss_scale, positive=True)
    weight_decay = kw["weight_decay"]
    if not _is_number(weight_decay):
        raise ValueError(
            f"For 'RMSProp', the 'weight_decay' must be int or float, got {weight_decay!r}"
        )
    weight_decay = float(weight_decay)
    _ms_range("weight_decay", weight_decay, positive=False)
    return RMSPropConfig(
        lr=lr,
        decay=decay,
        eps=epsilon,
        eps_in_sqrt=True,
        initial_scale=1.0,
        momentum=momentum,
        centered=kw["centered"],
        lr_in_momentum=True,
        weight_decay=weight_decay,
        loss_scale=loss_scale,
        maximize=False,
        op_order="mindspore.nn",
    )


def _ms_exp_config(kw: dict[str, Any]) -> RMSPropConfig:
    # Messages are mindspore/experimental/optim/optimizer.py's check_not_less_than[_without_equal].
    for key, strict in (
        ("lr", True),
        ("alpha", False),
        ("eps", True),
        ("momentum", False),
        ("weight_decay", False),
    ):
        value = kw[key]
        if not _is_number(value):
            raise ValueError(f"For RMSprop, the {key} must be a number, but got {value!r}.")
        if strict and not value > 0.0:
            raise ValueError(f"For RMSprop, the {key} must be greater than 0.0, but got {value}.")
        if not strict and not value >= 0.0:
            raise ValueError(
                f"For RMSprop, the {key} must be greater than or equal to 0.0, but got {value}."
            )
    return RMSPropConfig(
        lr=float(kw["lr"]),
        decay=float(kw["alpha"]),
        eps=float(kw["eps"]),
        eps_in_sqrt=False,
        initial_scale=0.0,
        momentum=float(kw["momentum"]),
        centered=bool(kw["centered"]),
        lr_in_momentum=False,
        weight_decay=float(kw["weight_decay"]),
        maximize=bool(kw["maximize"]),
        op_order="mindspore.experimental",
    )


_ADAPTERS: dict[str, Callable[[dict[str, Any]], RMSPropConfig]] = {
    TORCH: _torch_config,
    MS_NN: _ms_nn_config,
    MS_EXP: _ms_exp_config,
}


def config_for(api: str, kwargs: dict[str, Any]) -> RMSPropConfig:
    """Map ``api``'s constructor keywords (defaults filled in) onto the core.

    Raises ``ValueError`` for an unknown API or keyword and for every value the
    framework itself rejects, with the framework's own rule in the message
    (MindSpore raises ``TypeError`` for some of these; here it is ``ValueError``
    with MindSpore's text).  A ``params`` key is ignored.
    """
    merged = _merge(api, kwargs)  # raises for an unknown API first
    return _ADAPTERS[api](merged)


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
) -> np.ndarray:
    """Trajectory of ``params`` under ``api(**kwargs)`` fed the gradients ``grads``.

    Args:
        api: ``"torch.optim.RMSprop"``, ``"mindspore.nn.RMSProp"`` or
            ``"mindspore.experimental.optim.RMSprop"``.
        kwargs: that API's constructor keywords; missing ones take the API's
            defaults (:func:`defaults`).  A ``params`` key is ignored.
            torch's ``foreach``, ``capturable``, ``differentiable`` and
            MindSpore's ``use_locking`` are accepted and change nothing.
            ``mindspore.nn.RMSProp``'s ``learning_rate`` may be a list: step
            ``t`` uses entry ``t``; more steps than entries is a ``ValueError``
            (MindSpore itself raises at that step).
        params: initial parameters, any shape.
        grads: an array of shape ``(steps, *params.shape)``, or a callable
            ``(params, step) -> grad`` (``step`` counts from 0, ``params`` is a
            copy of the current parameters in ``dtype``).
        steps: number of steps; defaults to ``len(grads)`` for an array and is
            required for a callable.
        dtype: arithmetic dtype.  ``np.float32`` follows the frameworks'
            float32 order of operations.

    Returns:
        Array of shape ``(steps + 1, *params.shape)``; row 0 is ``params``.

    Raises:
        ValueError: unknown API or keyword, or a value the framework rejects;
            the message carries the framework's rule (e.g. torch's
            ``"Invalid learning rate: -0.1"``).
    """
    return run(config_for(api, kwargs), params, grads, steps=steps, dtype=dtype)
from .lr_schedules import lr_sequence  # noqa: E402,F401  (issue 12: per-step learning rates of schedulers)
