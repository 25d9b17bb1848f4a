"""The line length a project configures for its formatter, for one source file.

A rewritten call that no longer fits its line is broken one argument per line
(:mod:`rmsport.engine.layout`); "fits" is the project's own limit when it has
one: ``line-length`` under ``[tool.ruff]`` or ``[tool.black]`` of the nearest
``pyproject.toml`` above the file (ruff's first when both are set; they are
usually equal).
A pyproject.toml that cannot be read or has neither key says nothing: the file's
own lines decide.  Reading it is ``[tool.rmsport]``'s business elsewhere; a
broken file is reported there, never here.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from pathlib import Path

__all__ = ["configured_line_length", "with_line_length"]


@functools.lru_cache(maxsize=256)
def _for_folder(folder: str) -> int | None:
    current = Path(folder)
    for directory in (current, *current.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return _read(candidate)
    return None


def _read(pyproject: Path) -> int | None:
    # Imported here: only a rewrite that needs laying out reads a pyproject.toml (~3 ms to import).
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        with open(pyproject, "rb") as handle:
            tool = tomllib.load(handle).get("tool", {})
    except (OSError, ValueError):  # tomllib.TOMLDecodeError is a ValueError; so is bad UTF-8
        return None
    if not isinstance(tool, dict):
        return None
    for section in ("ruff", "black"):
        table = tool.get(section)
        value = table.get("line-length", table.get("line_length")) if isinstance(table, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def configured_line_length(path: str | os.PathLike[str]) -> int | None:
    """``line-length`` of the nearest pyproject.toml above ``path``, if it sets one."""
    return _for_folder(os.path.dirname(os.path.abspath(path)))


def with_line_length(options, path: str | os.PathLike[str]):
    """``options`` (an :class:`rmsport.options.Options`) with the file's
    configured line length filled in, unless it is already set."""
    if getattr(options, "line_length", None) is not None:
        return options
    length = configured_line_length(path)
    return options if length is None else dataclasses.replace(options, line_length=length)
