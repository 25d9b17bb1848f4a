"""The argument tables: what each RMSProp constructor accepts, as data.

Every fact here is checked against the real frameworks (see semantics.md and
tests/test_frameworks.py).  The transformer in ``rewrite.py`` reads these tables in
either direction; adding another optimizer should be another set of tables, not
another transformer.

Arguments are keyed by a *concept* (``lr``, ``alpha``, ...) so that one table can
say "torch calls it ``lr``, MindSpore ``learning_rate``" without a pairwise map.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXPERIMENTAL = "mindspore.experimental.optim.RMSprop"


@dataclass(frozen=True)
class Check:
    """What the constructor accepts for one argument (its own validator's rule)."""

    lower: float = 0.0
    strict: bool = False  # ``> lower`` if true, ``>= lower`` otherwise
    float_only: bool = False  # ``isinstance(x, float)`` (MindSpore ``nn``: ``momentum=0`` raises TypeError)

    def accepts(self, value: float) -> bool:
        return value > self.lower if self.strict else value >= self.lower


@dataclass(frozen=True)
class Semantics:
    """What the update computes, as data: where the frameworks really disagree.

    ``rmsport.numerics.reference`` builds its update from these fields and the
    engine words its findings (RMS301-RMS304) from them, so a new optimizer or a
    corrected fact is an edit here, not a new ``if qualname == ...``.
    """

    square_avg_start: float
    """Start value of the square average: 0 (torch), 1 (MindSpore ``nn``, TF1 style)."""
    eps_placement: str
    """The documented rule: ``"outside"`` (``sqrt(v) + eps``) or ``"inside"`` (``sqrt(v + eps)``)."""
    eps_placement_on: dict[str, str] = field(default_factory=dict)
    """Device -> placement where a kernel departs from the documented rule.
    ``"cpu_simd_blocks"``: MindSpore 2.10's CPU kernel (non-centered only) puts
    epsilon outside the root in 8-wide SIMD blocks and inside for each chunk's
    ``len % 8`` tail (see ``reference.SimdBlocks``)."""
    lr_placement: str = "update"
    """``"update"`` (``p -= lr * buf``) or ``"momentum"`` (``m = mom*m + lr*g/den; p -= m``)."""
    weight_decay_skips: tuple[str, ...] = ()
    """Name parts whose parameters get no weight decay when params are not grouped."""
    loss_scale: bool = False
    """Gradients are divided by ``loss_scale`` (after weight decay is added)."""
    skips_nonpositive_denominator: bool = False
    """Centered: the step is skipped where ``v - mean_grad**2 + eps <= 0`` (MindSpore's kernel)."""
    state_slots: dict[str, str] = field(default_factory=dict)
    """Concept (``square_avg``, ``momentum``, ``grad_avg``) -> the framework's own state name."""
    per_step_lr: bool = False
    """The constructor itself takes one learning rate per step (a list)."""
    decay_word: str = "alpha"
    """What the documentation calls the smoothing constant (for messages)."""

    def eps_on(self, device: str | None, *, centered: bool) -> str:
        """Where epsilon sits on ``device`` (``None``: the documented rule)."""
        if device is None or centered:
            return self.eps_placement
        return self.eps_placement_on.get(device, self.eps_placement)


@dataclass(frozen=True)
class Api:
    qualname: str
    framework: str  # "torch" | "mindspore"
    # concept -> keyword, in the constructor's positional order (params first).
    keywords: dict[str, str]
    # concept -> default value (only for concepts with a default).
    defaults: dict[str, object]
    # Other spellings that reach the same class (module paths, misspellings).
    aliases: tuple[str, ...] = ()
    # Spellings that raise AttributeError in the real framework but appear in
    # real code; converted and reported (RMS102).
    misspellings: tuple[str, ...] = ()
    # Validation: concept -> the constructor's own rule (numbers only).
    checks: dict[str, Check] = field(default_factory=dict)
    # What the update computes.
    semantics: Semantics = field(default_factory=lambda: Semantics(0.0, "outside"))
    # Keys a param-group dict may carry.
    group_keys: frozenset[str] = frozenset()
    # The idiom for "all trainable parameters of this model".
    params_method: str = "parameters"

    @property
    def float_only(self) -> frozenset[str]:
        """Concepts whose values must be Python floats (``isinstance(x, float)``)."""
        return frozenset(c for c, check in self.checks.items() if check.float_only)

    @property
    def positive(self) -> frozenset[str]:
        """Concepts that must be > 0 (the others with a check must be >= 0)."""
        return frozenset(c for c, check in self.checks.items() if check.strict)

    @property
    def positional(self) -> tuple[str, ...]:
        return tuple(self.keywords)

    @property
    def concept_of(self) -> dict[str, str]:
        return {kw: concept for concept, kw in self.keywords.items()}

    @property
    def all_names(self) -> tuple[str, ...]:
        return (self.qualname, *self.aliases, *self.misspellings)


APIS: dict[str, Api] = {
    TORCH: Api(
        qualname=TORCH,
        framework="torch",
        keywords={
            "params": "params",
            "lr": "lr",
            "alpha": "alpha",
            "eps": "eps",
            "weight_decay": "weight_decay",
            "momentum": "momentum",
            "centered": "centered",
            "capturable": "capturable",
            "foreach": "foreach",
            "maximize": "maximize",
            "differentiable": "differentiable",
        },
        defaults={
            "lr": 1e-2,
            "alpha": 0.99,
            "eps": 1e-8,
            "weight_decay": 0,
            "momentum": 0,
            "centered": False,
            "capturable": False,
            "foreach": None,
            "maximize": False,
            "differentiable": False,
        },
        aliases=("torch.optim.rmsprop.RMSprop",),
        misspellings=("torch.optim.RMSProp",),
        checks={c: Check() for c in ("lr", "eps", "momentum", "weight_decay", "alpha")},
        semantics=Semantics(
            square_avg_start=0.0,
            eps_placement="outside",
            lr_placement="update",
            state_slots={"square_avg": "square_avg", "momentum": "momentum_buffer", "grad_avg": "grad_avg"},
        ),
        group_keys=frozenset(
            {
                "params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered",
                "capturable", "foreach", "maximize", "differentiable", "initial_lr",
            }
        ),
        params_method="parameters",
    ),
    MS_NN: Api(
        qualname=MS_NN,
        framework="mindspore",
        keywords={
            "params": "params",
            "lr": "learning_rate",
            "alpha": "decay",
            "momentum": "momentum",
            "eps": "epsilon",
            "use_locking": "use_locking",
            "centered": "centered",
            "loss_scale": "loss_scale",
            "weight_decay": "weight_decay",
        },
        defaults={
            "lr": 0.1,
            "alpha": 0.9,
            "momentum": 0.0,
            "eps": 1e-10,
            "use_locking": False,
            "centered": False,
            "loss_scale": 1.0,
            "weight_decay": 0.0,
        },
        aliases=("mindspore.nn.optim.RMSProp", "mindspore.nn.optim.rmsprop.RMSProp"),
        misspellings=("mindspore.nn.RMSprop",),
        checks={
            "lr": Check(),
            "alpha": Check(float_only=True),
            "momentum": Check(float_only=True),
            "eps": Check(strict=True, float_only=True),
            "loss_scale": Check(strict=True),
            "weight_decay": Check(),
        },
        semantics=Semantics(
            square_avg_start=1.0,
            eps_placement="inside",
            eps_placement_on={"cpu": "cpu_simd_blocks"},
            lr_placement="momentum",
            weight_decay_skips=("beta", "gamma"),
            loss_scale=True,
            skips_nonpositive_denominator=True,
            state_slots={"square_avg": "mean_square", "momentum": "moment", "grad_avg": "mean_grad"},
            per_step_lr=True,
            decay_word="decay",
        ),
        group_keys=frozenset({"params", "lr", "weight_decay", "grad_centralization", "order_params"}),
        params_method="trainable_params",
    ),
    MS_EXPERIMENTAL: Api(
        qualname=MS_EXPERIMENTAL,
        framework="mindspore",
        keywords={
            "params": "params",
            "lr": "lr",
            "alpha": "alpha",
            "eps": "eps",
            "weight_decay": "weight_decay",
            "momentum": "momentum",
            "centered": "centered",
            "maximize": "maximize",
        },
        defaults={
            "lr": 1e-2,
            "alpha": 0.99,
            "eps": 1e-8,
            "weight_decay": 0.0,
            "momentum": 0.0,
            "centered": False,
            "maximize": False,
        },
        aliases=("mindspore.experimental.optim.rmsprop.RMSprop",),
        checks={
            "lr": Check(strict=True),
            "alpha": Check(),
            "eps": Check(strict=True),
            "momentum": Check(),
            "weight_decay": Check(),
        },
        semantics=Semantics(
            square_avg_start=0.0,
            eps_placement="outside",
            lr_placement="update",
            state_slots={"square_avg": "mean_square", "momentum": "moment", "grad_avg": "mean_grad"},
        ),
        group_keys=frozenset(
            {"params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize", "initial_lr"}
        ),
        params_method="trainable_params",
    ),
}

# Qualified name (any spelling) -> canonical API.
BY_NAME: dict[str, Api] = {name: api for api in APIS.values() for name in api.all_names}
MISSPELLED: frozenset[str] = frozenset(n for api in APIS.values() for n in api.misspellings)

# The class names a reference can end in; the byte prefilter and the analysis
# only look further at code that mentions one of them.
CLASS_NAMES: frozenset[str] = frozenset(name.rsplit(".", 1)[1] for name in BY_NAME)

# Each framework's "the model's weights" method (``model.parameters()``,
# ``net.trainable_params()``) -> the other's: swapped in the params argument and
# in every param group (engine/rewrite.py with libcst, engine/textbuild.py on text).
PARAMS_METHOD_SWAP: dict[str, str] = {
    APIS[TORCH].params_method: APIS[MS_NN].params_method,
    APIS[MS_NN].params_method: APIS[TORCH].params_method,
}


@dataclass(frozen=True)
class Drop:
    """How an argument the target lacks is handled."""

    # "always": changes no math, dropped whatever its value.
    # "at_default": dropped only when it is a literal equal to the default;
    #    any other value changes the math and leaves the call unchanged (error).
    # "loss_scale": dropped; a value other than 1.0 gets a warning (RMS210).
    how: str
    note: str = ""


# Concepts that exist on one side only.
DROPS: dict[str, Drop] = {
    "foreach": Drop("always", "selects torch's kernel implementation; no effect on the math"),
    "capturable": Drop("always", "CUDA-graph capture switch in torch; no effect on the math"),
    "differentiable": Drop("always", "autograd through the step in torch; no effect on the update"),
    "use_locking": Drop("always", "MindSpore's lock for the weight update; no effect on the math"),
    "maximize": Drop("at_default"),
    "loss_scale": Drop("loss_scale"),
}

# Which calls are converted, and to what, for each --to / --target.
# source qualname -> target qualname (read-only: one table shared by every run).
DIRECTIONS: dict[tuple[str, str], Mapping[str, str]] = {
    ("mindspore", "nn"): MappingProxyType({TORCH: MS_NN}),
    ("mindspore", "experimental"): MappingProxyType({TORCH: MS_EXPERIMENTAL}),
    ("torch", "nn"): MappingProxyType({MS_NN: TORCH, MS_EXPERIMENTAL: TORCH}),
    ("torch", "experimental"): MappingProxyType({MS_NN: TORCH, MS_EXPERIMENTAL: TORCH}),
}


@dataclass(frozen=True)
class Reuse:
    """An existing binding of ``module`` spells the class as ``<name>.<attr>`` (or ``<name>``)."""

    module: str
    attr: str


@dataclass(frozen=True)
class AddImport:
    """An import to add: the statement, the name it binds, and how the call is then spelled."""

    statement: str
    name: str
    expr: str


@dataclass(frozen=True)
class Spellings:
    """For one target, in order of preference: reuse one of ``reuse`` (when its
    binding is in place wherever the rewritten calls run), else add the first
    import of ``add`` whose bound name is free in the file."""

    reuse: tuple[Reuse, ...]
    add: tuple[AddImport, ...]


TARGET_SPELLINGS: dict[str, Spellings] = {
    MS_NN: Spellings(
        reuse=(
            Reuse("mindspore.nn", "RMSProp"),
            Reuse("mindspore.nn.RMSProp", ""),
            Reuse("mindspore", "nn.RMSProp"),
            Reuse("mindspore.nn.optim", "RMSProp"),
        ),
        add=(
            AddImport("from mindspore import nn", "nn", "nn.RMSProp"),
            AddImport("import mindspore", "mindspore", "mindspore.nn.RMSProp"),
            AddImport("import mindspore as ms", "ms", "ms.nn.RMSProp"),
            AddImport("from mindspore import nn as ms_nn", "ms_nn", "ms_nn.RMSProp"),
        ),
    ),
    MS_EXPERIMENTAL: Spellings(
        reuse=(
            Reuse("mindspore.experimental.optim", "RMSprop"),
            Reuse("mindspore.experimental.optim.RMSprop", ""),
            Reuse("mindspore", "experimental.optim.RMSprop"),
        ),
        add=(
            AddImport("from mindspore.experimental import optim", "optim", "optim.RMSprop"),
            AddImport("import mindspore", "mindspore", "mindspore.experimental.optim.RMSprop"),
            AddImport("import mindspore as ms", "ms", "ms.experimental.optim.RMSprop"),
            AddImport("from mindspore.experimental import optim as ms_optim", "ms_optim", "ms_optim.RMSprop"),
        ),
    ),
    TORCH: Spellings(
        reuse=(
            Reuse("torch.optim", "RMSprop"),
            Reuse("torch.optim.RMSprop", ""),
            Reuse("torch", "optim.RMSprop"),
        ),
        add=(
            AddImport("import torch", "torch", "torch.optim.RMSprop"),
            AddImport("from torch import optim", "optim", "optim.RMSprop"),
            AddImport("import torch as th", "th", "th.optim.RMSprop"),
            AddImport("from torch import optim as torch_optim", "torch_optim", "torch_optim.RMSprop"),
        ),
    ),
}

# Learning-rate schedule classes of MindSpore (mindspore.nn.*LR and the
# LearningRateSchedule base): an instance as ``learning_rate`` has no torch
# constructor spelling.
MS_LR_SCHEDULES: frozenset[str] = frozenset(
    {
        "mindspore.nn.LearningRateSchedule",
        "mindspore.nn.ExponentialDecayLR",
        "mindspore.nn.NaturalExpDecayLR",
        "mindspore.nn.InverseDecayLR",
        "mindspore.nn.CosineDecayLR",
        "mindspore.nn.PolynomialDecayLR",
        "mindspore.nn.WarmUpLR",
        "mindspore.nn.piecewise_constant_lr",
        "mindspore.nn.exponential_decay_lr",
        "mindspore.nn.natural_exp_decay_lr",
        "mindspore.nn.inverse_decay_lr",
        "mindspore.nn.cosine_decay_lr",
        "mindspore.nn.polynomial_decay_lr",
        "mindspore.nn.warmup_lr",
        "mindspore.Tensor",
        "mindspore.tensor",
        "mindspore.common.Tensor",
        "mindspore.common.tensor.Tensor",
        "mindspore.numpy.array",
    }
)
