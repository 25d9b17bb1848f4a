"""The tables: where each piece of RMSProp state lives in each framework (measured, semantics.md).

torch ``RMSprop.state_dict()["state"][i]`` holds ``step``, ``square_avg`` and, only when used,
``momentum_buffer`` (momentum > 0) and ``grad_avg`` (centered).  MindSpore keeps one Parameter per
slot and per network parameter, named ``<prefix>.<param name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

NN = "nn"
EXPERIMENTAL = "experimental"
TARGETS = (NN, EXPERIMENTAL)

API_OF_TARGET = {
    NN: "mindspore.nn.RMSProp",
    EXPERIMENTAL: "mindspore.experimental.optim.RMSprop",
}


@dataclass(frozen=True)
class Slot:
    torch_key: str  # key in torch's per-parameter state
    ms_prefix: str  # MindSpore Parameter name is f"{ms_prefix}.{param}"
    # nn.RMSProp multiplies the learning rate into this slot: moment = lr * momentum_buffer.
    lr_folded_in_nn: bool = False


SQUARE = Slot("square_avg", "mean_square")
MOMENT = Slot("momentum_buffer", "moment", lr_folded_in_nn=True)
GRAD_AVG = Slot("grad_avg", "mean_grad")
SLOTS = (SQUARE, MOMENT, GRAD_AVG)
MS_PREFIXES = tuple(slot.ms_prefix for slot in SLOTS)

# Which slots each MindSpore class holds: nn.RMSProp has mean_grad only when centered;
# mindspore.experimental.optim.RMSprop always creates all three.
HOLDS_GRAD_AVG = {NN: "centered", EXPERIMENTAL: "always"}

# Scalars nn.RMSProp keeps besides the slots (experimental keeps neither).
NN_GLOBAL_STEP = "global_step"  # int32, shape (1,)
NN_LEARNING_RATE = "learning_rate"  # float32, shape () (a 1-D array for a per-step list)
NN_SCALARS = (NN_GLOBAL_STEP, NN_LEARNING_RATE)

# torch param_groups keys of RMSprop (torch 2.13), in torch's order; ``params`` last.
TORCH_GROUP_KEYS = ("lr", "momentum", "alpha", "eps", "centered", "weight_decay",
                    "capturable", "foreach", "maximize", "differentiable")
# Keys that change no math and that torch fills in when missing.
TORCH_GROUP_NO_MATH = {"capturable": False, "foreach": None, "differentiable": False}

# Entries of a torch model ``state_dict`` that are buffers, not parameters: an optimizer
# never holds state for them, so name inference skips them.
TORCH_BUFFER_SUFFIXES = ("running_mean", "running_var", "num_batches_tracked")
