"""What a conversion is asked to do (the command line's choices)."""

from __future__ import annotations

from dataclasses import dataclass

TO_CHOICES = ("mindspore", "torch")
TARGET_CHOICES = ("nn", "experimental")
EPS_CHOICES = ("literal", "matched")


@dataclass
class Options:
    to: str = "mindspore"
    target: str = "nn"
    eps_mapping: str = "literal"
    verify: bool = False
    # black's/ruff's line-length for the file (its nearest pyproject.toml); None:
    # judged from the file's own lines (rmsport.engine.layout).
    line_length: int | None = None
