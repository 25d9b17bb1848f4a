"""The command line: click commands (``app``), running files (``runner``), config, output formats."""

from .app import main

__all__ = ["main"]
