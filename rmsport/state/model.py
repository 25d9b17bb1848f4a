"""The framework-neutral optimizer state: torch's convention, numpy arrays.

torch's convention is the neutral one because it keeps the learning rate out of the
buffers: ``momentum_buffer`` is what ``nn.RMSProp``'s ``moment`` is before it is
multiplied by the learning rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class GroupHyper:
    """One param group's hyperparameters, under torch's names."""

    lr: float
    alpha: float
    eps: float
    momentum: float
    centered: bool
    weight_decay: float
    maximize: bool = False
    # A torch lr scheduler was attached (param_groups carry ``initial_lr``).
    initial_lr: float | None = None


@dataclass
class ParamState:
    name: str
    square_avg: np.ndarray
    momentum_buffer: np.ndarray | None  # None: momentum == 0 (torch keeps no buffer)
    grad_avg: np.ndarray | None  # None: not centered
    step: int  # optimizer steps this parameter has taken
    group: int = 0

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.square_avg.shape)


@dataclass
class MigratedState:
    params: list[ParamState]
    groups: list[GroupHyper]
    # What could not be carried exactly, one line each (printed as notes).
    notes: list[str] = field(default_factory=list)

    def hyper(self, param: ParamState) -> GroupHyper:
        return self.groups[param.group]
