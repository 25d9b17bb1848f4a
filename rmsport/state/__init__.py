"""Optimizer-state migration between ``torch.optim.RMSprop`` and MindSpore's two RMSProp classes.

Layout (data separate from mechanism):

* :mod:`.slots` — the tables: which state slot is which on each side, the
  scalars ``nn.RMSProp`` keeps, the buffer names a model ``state_dict`` holds.
* :mod:`.model` — the framework-neutral state (torch's convention, numpy arrays).
* :mod:`.names` — parameter names: ``--names``, ``--name-map``, inference from a model ``state_dict``.
* :mod:`.migrate` — the math, pure numpy: torch ``state_dict`` <-> neutral <-> MindSpore checkpoint entries
  (``moment = lr * momentum_buffer`` for ``nn``, step mapping, what cannot be carried exactly).
* :mod:`.io` — the only module that imports torch and MindSpore (lazily): reading, atomic writing,
  and :func:`load_into_mindspore`, which loads a migrated checkpoint without MindSpore's suffix-matching trap.
"""

from .errors import StateError

__all__ = ["GroupHyper", "MigratedState", "ParamState", "StateError", "load_into_mindspore"]


def load_into_mindspore(optimizer, path):
    """Load a migrated checkpoint into a MindSpore optimizer; see :func:`rmsport.state.io.load_into_mindspore`."""
    from .io import load_into_mindspore as _load

    return _load(optimizer, path)


def __getattr__(name):
    # The CLI imports this package at start-up: numpy (via .model) only when asked for.
    if name in ("GroupHyper", "MigratedState", "ParamState"):
        from . import model

        return getattr(model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
