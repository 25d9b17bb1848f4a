"""What a conversion is asked to do.

The choices are listed here once; the command line (``cli/app.py``) and the
``[tool.rmsport]`` validation (``cli/config.py``) both read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

To = Literal["mindspore", "torch"]
Target = Literal["nn", "experimental"]
EpsMapping = Literal["literal", "matched"]
# Where the MindSpore side trains: only nn.RMSProp on "cpu" computes differently
# (MindSpore 2.10's CPU kernel; see rmsport.numerics.reference).
Device = Literal["ascend", "gpu", "cpu"]

TO_CHOICES: tuple[str, ...] = get_args(To)
TARGET_CHOICES: tuple[str, ...] = get_args(Target)
EPS_CHOICES: tuple[str, ...] = get_args(EpsMapping)
DEVICE_CHOICES: tuple[str, ...] = get_args(Device)


@dataclass
class Options:
    to: To = "mindspore"
    target: Target = "nn"
    eps_mapping: EpsMapping = "literal"
    verify: bool = False
    mindspore_device: Device = "ascend"
    # black's/ruff's line-length for the file (its nearest pyproject.toml); None:
    # judged from the file's own lines (rmsport.engine.layout).
    line_length: int | None = None
