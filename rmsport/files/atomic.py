"""Replace a file's bytes in one step: a reader sees the old file or the new one, never half.

The bytes go to a temporary file next to the target (same folder, so the same
file system), which ``os.replace`` then puts in its place.  Whatever goes wrong
on the way, an OSError or Ctrl-C/SIGTERM unwinding through it, the temporary
file is removed before the exception goes on.  ``compare --plot`` (its PNG) and
the result cache (its entries and indexes) write this way; source files have
their own writer, which also keeps owner and mode and checks the bytes it
replaces (``sourcefile.write_atomic``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path


def replace_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Put ``data`` at ``path``; OSError when it cannot (nothing is left behind then).

    ``durable``: the bytes reach the disk before the rename makes them visible
    (``fsync``); a cache that may lose an entry on a power cut skips it.
    """
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                if written <= 0:  # pragma: no cover - os.write raises instead
                    raise OSError(errno.EIO, "short write")
                view = view[written:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
