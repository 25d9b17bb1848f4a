"""One exception for everything that stops a state conversion; it carries its exit code.

Exit codes follow the README's table: 2 usage (options, --names/--name-map files,
--key, a missing extra), 123 a file that cannot be read or is not what it must be
(SRC not a torch file / checkpoint / RMSprop state, DST not writable), 1 the state
cannot be carried faithfully (a missing, extra or mis-shaped parameter).
"""

from __future__ import annotations

USAGE = 2
UNREADABLE = 123
MISMATCH = 1


class StateError(Exception):
    """A one-line reason; ``exit_code`` is one of USAGE, UNREADABLE, MISMATCH."""

    def __init__(self, message: str, exit_code: int = MISMATCH) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
