"""Where ``compare --plot`` writes its PNG: checked before any computing, written whole.

A comparison takes a moment and prints a page; finding out only afterwards that
the picture cannot be written (a folder that does not exist, a name that is not
a PNG, a path the user may not write) wastes both and used to end in a
traceback.  So :func:`check_plot_path` answers every question it can up front,
and :func:`write_png` writes through a temporary file in the same folder, so a
failure at the last moment (disk full) leaves no half-written picture and never
reports "wrote".
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class PlotPathError(Exception):
    """One line saying why the picture cannot be written there."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_plot_path(text: str) -> Path:
    """The path to write, or :class:`PlotPathError` naming it and the reason."""
    if not text.strip():
        raise PlotPathError("--plot needs a file name ending in .png")
    path = Path(text)
    if path.suffix.lower() != ".png":
        raise PlotPathError(f"--plot {text}: the picture is a PNG; give a file name ending in .png")
    folder = path.parent
    if not folder.exists():
        raise PlotPathError(f"--plot {text}: folder {folder} does not exist")
    if not folder.is_dir():
        raise PlotPathError(f"--plot {text}: {folder} is not a folder")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise PlotPathError(f"--plot {text}: {_reason(exc)}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise PlotPathError(f"--plot {text}: {kind}")
    # Ask the file system itself (root ignores modes; /sys or a read-only mount
    # refuse even root): may this folder take a new file, may the file be written?
    try:
        if info is None:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            os.close(fd)
            os.unlink(path)
        else:
            os.close(os.open(path, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)))
    except OSError as exc:
        raise PlotPathError(f"--plot {text}: cannot write: {_reason(exc)}") from None
    return path


def write_png(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step; :class:`PlotPathError` if it fails
    (nothing is left behind: neither a partial picture nor the temporary file)."""
    from ..files.atomic import replace_bytes

    try:
        replace_bytes(path, data)
    except OSError as exc:
        raise PlotPathError(f"cannot write {path}: {_reason(exc)}") from None
