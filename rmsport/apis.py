"""Kept importable here for existing users; the module lives in ``rmsport.tables.optimizers``."""

import sys

from .tables import optimizers as _real

sys.modules[__name__] = _real
