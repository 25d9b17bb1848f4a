"""What a conversion is asked to do (the command line's choices)."""

from __future__ import annotations

from dataclasses import dataclass

TO_CHOICES = ("mindspore", "torch")
TARGET_CHOICES = ("nn", "experimental")
EPS_CHOICES = ("literal", "matched")
# Where the MindSpore side trains: only nn.RMSProp on "cpu" computes differently
# (MindSpore 2.10's CPU kernel; see rmsport.numerics.reference).
DEVICE_CHOICES = ("ascend", "gpu", "cpu")


@dataclass
class Options:
    to: str = "mindspore"
    target: str = "nn"
    eps_mapping: str = "literal"
    verify: bool = False
    mindspore_device: str = "ascend"
