"""Read ``[tool.rmsport]`` from pyproject.toml, the way black and ruff do.

The file used is the nearest ``pyproject.toml`` that has a ``[tool.rmsport]``
table, walking up from the common folder of the paths given (the current
folder for stdin).  Like ruff, a pyproject.toml *without* the table does not
stop the search, so a sub-package's own pyproject does not hide the repository's
settings.  Keys may be spelled with dashes or underscores; they come back under
the click parameter names (:data:`KEYS`).  Anything unknown or mistyped raises
:class:`ConfigError` with a one-line message naming the file and the key.

The command line wins over the file because the dict becomes click's
``default_map``: click only consults it for options the user did not type.  The
paths must be known first, so load it from an *eager* callback on the PATHS
argument (black does the same); eager parameters are processed before every
other option, whose defaults are then looked up in the map::

    @click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True,
                    path_type=Path), is_eager=True, callback=config.click_callback)
    # click_callback does, in effect:
    #     values, pyproject = load_config([p for p in paths if str(p) != "-"])
    #     ctx.default_map = {**(ctx.default_map or {}), **values}

A ``--config FILE`` option can use :func:`read_config_file` instead.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import click  # the CLI's one start-up import anyway

from ..options import DEVICE_CHOICES, EPS_CHOICES, TARGET_CHOICES, TO_CHOICES

OUTPUT_FORMATS = ("text", "json", "github", "sarif")

# click parameter name -> allowed values (a tuple of choices) or a type.
KEYS: dict[str, tuple[str, ...] | type] = {
    "to": TO_CHOICES,
    "target": TARGET_CHOICES,
    "eps_mapping": EPS_CHOICES,
    "mindspore_device": DEVICE_CHOICES,
    "output_format": OUTPUT_FORMATS,
    "exclude": list,
    "extend_exclude": list,
    "force_exclude": bool,
    "verify": bool,
    "quiet": bool,
    "jobs": int,
}


class ConfigError(Exception):
    """A pyproject.toml that cannot be used; ``str()`` is the one-line message."""


def find_pyproject(paths: list[Path]) -> Path | None:
    """The nearest pyproject.toml with a ``[tool.rmsport]`` table, or None."""
    start = _common_folder(paths)
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        try:
            is_file = candidate.is_file()
        except OSError as exc:  # e.g. a folder we may not look into
            raise ConfigError(f"{candidate}: cannot read: {exc.strerror or exc}") from None
        if not is_file or not _mentions_rmsport(candidate):
            continue
        if "rmsport" in _tool_table(candidate, _load_toml(candidate)):
            return candidate
    return None


def _tool_table(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    """``[tool]`` of a parsed pyproject; anything but a table is an error (``tool = 3``)."""
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(f"{path}: [tool] must be a table, not {type(tool).__name__} {tool!r}")
    return tool


def load_config(paths: list[Path]) -> tuple[dict[str, Any], Path | None]:
    """Settings for a run over ``paths`` (empty for stdin), and the file they came from."""
    pyproject = find_pyproject(paths)
    if pyproject is None:
        return {}, None
    return read_config_file(pyproject), pyproject


def read_config_file(path: Path) -> dict[str, Any]:
    """The validated ``[tool.rmsport]`` table of one file (``{}`` when absent)."""
    table = _tool_table(path, _load_toml(path)).get("rmsport", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.rmsport] must be a table")
    return validate(table, source=str(path))


def validate(table: dict[str, Any], *, source: str) -> dict[str, Any]:
    """Normalise key spellings and check every value; see :data:`KEYS`."""
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        where = f"{source}: [tool.rmsport] {raw_key}"
        if key not in KEYS:
            known = ", ".join(sorted(k.replace("_", "-") for k in KEYS))
            raise ConfigError(f"{where}: unknown key (known keys: {known})")
        if key in values:
            raise ConfigError(f"{where}: given twice (with '-' and with '_')")
        values[key] = _check(key, value, where)
    return values


def _check(key: str, value: Any, where: str) -> Any:
    expected = KEYS[key]
    if isinstance(expected, tuple):
        if not isinstance(value, str) or value not in expected:
            choices = ", ".join(repr(choice) for choice in expected)
            raise ConfigError(f"{where}: {value!r} is not one of {choices}")
        return value
    if expected is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: must be true or false, not {value!r}")
        return value
    if expected is int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{where}: must be a whole number >= 1, not {value!r}")
        return value
    # exclude lists: gitignore-style globs; a single string is accepted as one glob
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: must be a list of glob strings, not {value!r}")
    return list(value)


class ConfigUsageError(click.ClickException):
    """A bad ``[tool.rmsport]`` on the command line: ``error: <file>: ... <key>: <reason>``, exit 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        # The CLI's own spelling of a one-line error (click would write "Error: ...").
        click.echo(f"error: {self.format_message()}", err=True)


def click_callback(ctx: Any, param: Any, value: tuple[Path, ...]) -> tuple[Path, ...]:
    """Eager callback for the PATHS argument: install the config as ``default_map``."""
    paths = [Path(p) for p in value if str(p) != "-"]
    try:
        values, _ = load_config(paths)
    except ConfigError as exc:
        # Not BadParameter: that would blame "[PATHS]...", while the problem is
        # a key in a file, which the message names.  One line, exit 2.
        raise ConfigUsageError(str(exc)) from None
    if values:
        ctx.default_map = {**(ctx.default_map or {}), **values}
    return value


def _common_folder(paths: list[Path]) -> Path:
    if not paths:
        return Path(os.getcwd())
    common = Path(os.path.commonpath([os.path.abspath(p) for p in paths]))
    return common if common.is_dir() else common.parent


def _mentions_rmsport(path: Path) -> bool:
    """Could this file hold settings for rmsport (or a ``tool`` key that is not
    a table, which is reported)?  Most pyproject.toml files cannot, and then
    neither tomllib (~3 ms to import) nor a parse is needed.  Unreadable files
    go on to ``_load_toml``, which reports them."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return True
    return b"rmsport" in data or _TOOL_KEY.search(data) is not None


# ``tool = ...`` or ``"tool" = ...`` at the start of a line: a top-level key, not a table.
_TOOL_KEY = re.compile(rb"""^[ \t]*["']?tool["']?[ \t]*=""", re.MULTILINE)


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:  # tomllib reads UTF-8 only, and says so with this
        raise ConfigError(f"{path}: cannot decode as UTF-8 at byte {exc.start} (TOML files are UTF-8)") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
