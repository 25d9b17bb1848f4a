"""Kept importable here for existing users; the module lives in ``rmsport.numerics.reference``."""

import sys

from .numerics import reference as _real

sys.modules[__name__] = _real
