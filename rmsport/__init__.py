"""rmsport: port RMSProp optimizer code between PyTorch and MindSpore.

Kept import-free on purpose: ``rmsport --help`` must start fast, so libcst and
numpy are imported only by the modules that need them.
"""

__version__ = "0.1.0"
