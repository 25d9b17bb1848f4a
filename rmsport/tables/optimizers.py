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
from dataclasses import dataclass
from types import MappingProxyType

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXPERIMENTAL = "mindspore.experimental.optim.RMSprop"


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
    # Concepts whose values must be Python floats: MindSpore's validator does
    # ``isinstance(x, float)``, so ``momentum=0`` raises TypeError.
    float_only: frozenset[str] = frozenset()
    # Concepts that must be > 0 (others must merely be >= 0).
    positive: frozenset[str] = frozenset()
    # Keys a param-group dict may carry.
    group_keys: frozenset[str] = frozenset()
    # The idiom for "all trainable parameters of this model".
    params_method: str = "parameters"

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
        float_only=frozenset({"alpha", "momentum", "eps"}),
        positive=frozenset({"eps"}),
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
        positive=frozenset({"lr", "eps"}),
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
