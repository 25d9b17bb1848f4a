"""Parameter names: torch keys its optimizer state by position, MindSpore by name.

``--names FILE``: one MindSpore parameter name per line, in the torch optimizer's
parameter order (blank lines and ``#`` comments ignored).  ``--name-map FILE``: a JSON
object renaming torch parameter names to MindSpore ones, used when the names are
inferred from a model ``state_dict`` stored beside the optimizer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from .errors import MISMATCH, USAGE, StateError
from .slots import TORCH_BUFFER_SUFFIXES


def read_names_file(path: Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"--names {path}: cannot read: {_reason(exc)}", USAGE) from None
    names: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        if name in seen:
            raise StateError(f"--names {path}:{lineno}: {name!r} repeats line {seen[name]}", USAGE)
        seen[name] = lineno
        names.append(name)
    if not names:
        raise StateError(f"--names {path}: no names in the file", USAGE)
    return names


def read_name_map(path: Path) -> dict[str, str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise StateError(f"--name-map {path}: cannot read: {_reason(exc)}", USAGE) from None
    except json.JSONDecodeError as exc:
        raise StateError(f"--name-map {path}: not JSON: {exc.msg} (line {exc.lineno})", USAGE) from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise StateError(f"--name-map {path}: must be a JSON object of torch name -> MindSpore name strings", USAGE)
    return data


def infer_names(
    model_shapes: Mapping[str, tuple[int, ...]],
    state_shapes: Sequence[tuple[int, ...] | None],
    name_map: Mapping[str, str],
) -> tuple[list[str], list[tuple[int, ...]]]:
    """MindSpore names (and model shapes) for the optimizer positions, from a model ``state_dict`` beside it.

    The model's parameters come in ``model.parameters()`` order, which is the order
    ``torch.optim.RMSprop(model.parameters())`` numbers them; buffers (BatchNorm's
    running statistics) are skipped.  Every position's state shape must match its
    parameter's, else the guess is refused: a frozen layer or a custom parameter order
    needs ``--names``.
    """
    unknown = [k for k in name_map if k not in model_shapes]
    if unknown:
        raise StateError(f"--name-map: {unknown[0]!r} is not a parameter of the model state_dict in SRC", USAGE)
    params = [(n, s) for n, s in model_shapes.items() if n.rsplit(".", 1)[-1] not in TORCH_BUFFER_SUFFIXES]
    if len(params) != len(state_shapes):
        raise StateError(
            f"the model state_dict in SRC has {len(params)} parameters but the optimizer holds "
            f"{len(state_shapes)}: give the MindSpore names in optimizer order with --names FILE",
            MISMATCH,
        )
    for position, ((name, shape), state_shape) in enumerate(zip(params, state_shapes)):
        if state_shape is not None and tuple(state_shape) != tuple(shape):
            raise StateError(
                f"optimizer parameter {position} has state of shape {tuple(state_shape)} but model parameter "
                f"{name!r} has shape {tuple(shape)}: give the names in optimizer order with --names FILE",
                MISMATCH,
            )
    return [name_map.get(name, name) for name, _ in params], [tuple(shape) for _, shape in params]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def batchnorm_hints(model_shapes: Mapping[str, tuple[int, ...]], name_map: Mapping[str, str]) -> list[str]:
    """Notes for BatchNorm parameters kept under torch's names (MindSpore calls them gamma/beta)."""
    hints = []
    for name in model_shapes:
        module, _, leaf = name.rpartition(".")
        if leaf != "running_mean":
            continue
        prefix = f"{module}." if module else ""
        unmapped = [f"{prefix}{p}" for p in ("weight", "bias")
                    if f"{prefix}{p}" in model_shapes and f"{prefix}{p}" not in name_map]
        if unmapped:
            hints.append(f"{', '.join(unmapped)} belong to a BatchNorm (running_mean beside them): MindSpore names "
                         f"them {prefix}gamma/{prefix}beta; rename with --name-map "
                         f"'{{\"{prefix}weight\": \"{prefix}gamma\", \"{prefix}bias\": \"{prefix}beta\"}}'")
    return hints
