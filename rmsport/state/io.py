"""Reading and writing optimizer state with the real frameworks, imported only here and only when called.

Writes are atomic: the file is written in a fresh temporary folder beside DST and renamed
over it, so DST is either the old file or the complete new one.  The temporary name ends in
``.ckpt`` because ``mindspore.save_checkpoint`` appends ``.ckpt`` to a name that lacks it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .errors import UNREADABLE, USAGE, StateError
from .slots import MS_PREFIXES, NN_SCALARS

EXTRA_HINT = "pip install 'rmsport[state]'"


def require_frameworks() -> None:
    """Fail before any file is read when the extra is missing (a spec lookup: nothing is imported)."""
    import importlib.util

    for name in ("torch", "mindspore"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise StateError(f"rmsport state needs torch and MindSpore ({name} is missing): {EXTRA_HINT}", USAGE)


def import_torch():
    try:
        import torch
    except ImportError as exc:
        raise StateError(f"rmsport state needs torch and MindSpore ({exc.name or 'torch'} is missing): "
                         f"{EXTRA_HINT}", USAGE) from None
    return torch


def import_mindspore():
    # MindSpore logs warnings to stderr on import and load; keep its INFO/WARNING quiet.
    os.environ.setdefault("GLOG_v", "3")
    try:
        import mindspore
    except ImportError as exc:
        raise StateError(f"rmsport state needs torch and MindSpore ({exc.name or 'mindspore'} is missing): "
                         f"{EXTRA_HINT}", USAGE) from None
    return mindspore


# ---------------------------------------------------------------------------
# torch


def read_torch(path: Path, key: str | None) -> tuple[dict, dict[str, tuple[int, ...]] | None, str | None]:
    """``(optimizer state_dict as numpy, model parameter shapes or None, key used)``."""
    torch = import_torch()
    try:
        # weights_only: tensors and plain data only; a checkpoint never gets to run pickled code here.
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean "cannot read"
        found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(exc))
        if found:
            raise StateError(f"cannot read SRC {path}: it pickles a {found.group(1)} object, and rmsport loads only tensors "
                             "and plain data (torch.load(weights_only=True)); save the state_dicts without it",
                             UNREADABLE) from None
        raise StateError(f"cannot read SRC {path}: {_first_line(exc)}", UNREADABLE) from None
    container = obj if isinstance(obj, Mapping) else None
    if key is not None:
        if container is None or key not in container:
            keys = ", ".join(map(repr, list(container)[:10])) if container is not None else "not a dict"
            raise StateError(f"--key {key}: SRC {path} has no such key (keys: {keys})", USAGE)
        optim, used = container[key], key
    elif container is not None and "state" in container and "param_groups" in container:
        optim, used = container, None
    else:
        found = [k for k, v in (container or {}).items() if _is_optimizer_sd(v)]
        if len(found) != 1:
            what = "several optimizer state_dicts (" + ", ".join(map(repr, found)) + ")" if found else \
                "no optimizer state_dict"
            raise StateError(f"SRC {path} holds {what}: name it with --key", USAGE if found else UNREADABLE)
        optim, used = container[found[0]], found[0]
    model = None
    if container is not None and used is not None:
        models = [v for k, v in container.items() if k != used and _is_model_sd(v)]
        if len(models) == 1:
            model = {name: tuple(t.shape) for name, t in models[0].items() if _is_tensor(t)}
    return _to_numpy(optim), model, used


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "detach") and hasattr(x, "shape")


def _is_optimizer_sd(v: Any) -> bool:
    return isinstance(v, Mapping) and "state" in v and "param_groups" in v


def _is_model_sd(v: Any) -> bool:
    return (isinstance(v, Mapping) and bool(v) and all(isinstance(k, str) for k in v)
            and all(_is_tensor(t) for t in v.values()))


def _to_numpy(obj: Any) -> Any:
    if _is_tensor(obj):
        t = obj.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            t = t.float()
        return t.numpy().copy()
    if isinstance(obj, Mapping):
        return {k: _to_numpy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_to_numpy(v) for v in obj]
    return obj


def write_torch(path: Path, sd: dict) -> None:
    torch = import_torch()
    state = {}
    for pos, entry in sd["state"].items():
        state[pos] = {
            k: (torch.tensor(float(v), dtype=torch.float32) if k == "step"
                else torch.from_numpy(np.ascontiguousarray(v)))
            for k, v in entry.items()
        }
    obj = {"state": state, "param_groups": sd["param_groups"]}
    _atomic(path, lambda tmp: torch.save(obj, str(tmp)))


# ---------------------------------------------------------------------------
# MindSpore


def read_ckpt(path: Path) -> dict[str, np.ndarray]:
    ms = import_mindspore()
    if not Path(path).is_file():
        raise StateError(f"cannot read SRC {path}: no such file", UNREADABLE)
    try:
        params = ms.load_checkpoint(str(path))
    except Exception as exc:  # MindSpore raises ValueError/RuntimeError/... for a bad file
        raise StateError(f"cannot read SRC {path}: {_first_line(exc)}", UNREADABLE) from None
    return {name: p.asnumpy() for name, p in params.items()}


def write_ckpt(path: Path, entries: list[tuple[str, np.ndarray]]) -> None:
    ms = import_mindspore()
    data = [{"name": name, "data": ms.Tensor(np.ascontiguousarray(arr))} for name, arr in entries]
    _atomic(path, lambda tmp: ms.save_checkpoint(data, str(tmp)))


def load_into_mindspore(optimizer, path) -> list[str]:
    """Load a migrated checkpoint into ``optimizer`` by exact names; returns the names loaded.

    ``mindspore.load_param_into_net``'s default ``strict_load=False`` fills a parameter that
    the checkpoint lacks from the first entry whose name *ends* with it, so a state-only
    checkpoint would copy ``mean_square.fc1.weight`` into the weight ``fc1.weight``.  Here
    ``strict_load=True`` matches names exactly, and every state slot of the optimizer must
    be in the checkpoint (``ValueError`` naming the first one that is not).
    """
    ms = import_mindspore()
    ckpt = ms.load_checkpoint(str(path))
    slots = [name for name, _ in optimizer.parameters_and_names()
             if name in NN_SCALARS or name.split(".", 1)[0] in MS_PREFIXES]
    missing = [name for name in slots if name not in ckpt]
    if missing:
        raise ValueError(f"{path}: the optimizer has {missing[0]!r} but the checkpoint does not")
    not_in_net, not_in_ckpt = ms.load_param_into_net(optimizer, ckpt, strict_load=True)
    if not_in_ckpt:
        raise ValueError(f"{path}: {not_in_ckpt[0]!r} in the checkpoint is not a parameter of the optimizer")
    return [name for name in ckpt]


# ---------------------------------------------------------------------------


def _atomic(path: Path, write) -> None:
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        tmpdir = tempfile.mkdtemp(prefix=f".{path.name}.", dir=parent)
    except OSError as exc:
        raise StateError(f"cannot write DST {path}: {exc.strerror or exc}", UNREADABLE) from None
    try:
        tmp = Path(tmpdir) / ("state" + (path.suffix or ".tmp"))
        write(tmp)
        with open(tmp, "rb") as f:  # on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StateError(f"cannot write DST {path}: {exc.strerror or exc}", UNREADABLE) from None
    except Exception as exc:  # a framework's writer failing: nothing is left behind either
        raise StateError(f"cannot write DST {path}: {_first_line(exc)}", UNREADABLE) from None
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip() or type(exc).__name__
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("-"):
            return line
    return type(exc).__name__
