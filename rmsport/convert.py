"""Kept importable here for existing users; the module lives in ``rmsport.engine.convert``."""

import sys

from .engine import convert as _real

sys.modules[__name__] = _real
