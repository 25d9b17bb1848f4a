"""The byte-level test that keeps a whole-tree run cheap.

Kept in a module of its own, free of the converter's imports, so the parent
process of a run can reject files without loading the analysis at all.
"""

from __future__ import annotations

import re

# Every spelling a reference can end in (apis.CLASS_NAMES; a test keeps them equal).
CLASS_NAMES = ("RMSProp", "RMSprop")

_BYTES = re.compile("|".join(CLASS_NAMES).encode())
_TEXT = re.compile("|".join(CLASS_NAMES))


def might_contain_calls(data: bytes | str) -> bool:
    """Can this file hold an RMSProp reference at all?

    One regular-expression search (C speed) rejects nearly every file of a tree.
    """
    if isinstance(data, str):
        return _TEXT.search(data) is not None
    return _BYTES.search(data) is not None
