"""Kept importable here for existing users; the module lives in ``rmsport.numerics.verify``."""

import sys

from .numerics import verify as _real

sys.modules[__name__] = _real
