"""Import placement (imports.py), table-driven like pyupgrade's *_noop / *_fixes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rmsport.engine.convert import convert_source
from rmsport.options import Options

FIXES = [
    # (source, converted) for --to mindspore
    (  # issue 15's probe: nn is bound only after the call, so it is not reused (and is not free)
        "import torch\nopt = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\nfrom mindspore import nn\n",
        "import mindspore\nopt = mindspore.nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n"
        "from mindspore import nn\n",
    ),
    (  # ... and nn imported under ``if USE_MS:`` is not bound on every path
        "import torch\nif USE_MS:\n    from mindspore import nn\nopt = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n",
        "import mindspore\nif USE_MS:\n    from mindspore import nn\n"
        "opt = mindspore.nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n",
    ),
    (
        "import torch\nx = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\nimport mindspore as ms\n",
        "from mindspore import nn\nx = nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\nimport mindspore as ms\n",
    ),
    (
        "import mindspore as ms\nimport torch\nx = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n",
        "import mindspore as ms\nx = ms.nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n",
    ),
    (
        "if a:\n    import torch\nelse:\n    import torch\nx = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n",
        "if a:\n    from mindspore import nn\nelse:\n    from mindspore import nn\nx = nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n",
    ),
    (
        "import torch\ny = torch.zeros(1)\nx = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n",
        "import torch\nfrom mindspore import nn\ny = torch.zeros(1)\nx = nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n",
    ),
    (
        "from torch.optim import (  # why\n    RMSprop,  # note\n)\nx = RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n",
        "# why\n# note\nfrom mindspore import nn\nx = nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n",
    ),
]


@pytest.mark.parametrize("source, expected", FIXES)
def test_fixes(source, expected):
    assert convert_source(source, Options()).source == expected


KEEPS_IMPORT = [
    '__all__ = ["torch"]\n',
    'def f() -> "torch.Tensor": ...\n',
    'y = eval("torch.zeros(1)")\n',
]


@pytest.mark.parametrize("use", KEEPS_IMPORT)
def test_import_kept_when_a_string_uses_it(use):
    source = "import torch\n" + use + "x = torch.optim.RMSprop(p)\n"
    assert convert_source(source, Options()).source.startswith("import torch\nfrom mindspore import nn\n")


def test_prose_string_does_not_keep_an_import():
    source = 'import torch\nhelp = "uses torch for RMSprop"\nx = torch.optim.RMSprop(p)\n'
    assert convert_source(source, Options()).source.startswith("from mindspore import nn\n")


def test_opaque_text_keeps_an_import():
    source = "import torch\nx = torch.optim.RMSprop(p)\n"
    out = convert_source(source, Options(), opaque="%time y = torch.optim.RMSprop(q)").source
    assert out.startswith("import torch\nfrom mindspore import nn\n")


def test_latin1_file_keeps_its_cookie_and_still_decodes(tmp_path):
    path = tmp_path / "train.py"
    path.write_bytes(
        b"#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\nimport torch; import os\n# caf\xe9\n"
        b"opt = torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=1e-10)\n"
    )
    subprocess.run([sys.executable, "-m", "rmsport", "convert", str(path)], check=True, capture_output=True)
    data = path.read_bytes()
    assert data.startswith(b"#!/usr/bin/env python3\n# -*- coding: latin-1 -*-\nfrom mindspore import nn; import os\n")
    compile(data, str(path), "exec")  # decodes and parses


def _notebook(*cells: str) -> str:
    import json

    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@pytest.mark.parametrize(
    "other_cell",
    [
        "%time opt2 = torch.optim.RMSprop(q)\n",  # a magic: masked from the core
        "x = torch.zeros(1) +\n",  # a cell that does not parse
    ],
)
def test_notebook_keeps_an_import_used_where_the_core_cannot_see(other_cell):
    import json

    from rmsport.files.notebook import convert_notebook

    text = _notebook("import torch\n", "opt = torch.optim.RMSprop(p)\n", other_cell)
    result = convert_notebook(text, Options(), path="nb.ipynb")
    first = "".join(json.loads(result.source)["cells"][0]["source"])
    assert first == "import torch\nfrom mindspore import nn\n"


def test_a_new_import_goes_after_a_star_import_that_could_bind_its_name(tmp_path, monkeypatch):
    # A real shape: ``import torch`` then ``from deep_rl import *``, whose package does
    # ``import torch.nn as nn``. ``from mindspore import nn`` written before the star
    # import was bound again to torch's nn, and nn.RMSProp raised AttributeError.
    from stub_frameworks import run_module

    source = (
        "import torch\nfrom helpers_pkg import *\n\nx = torch.zeros(1)\n"
        "opt = torch.optim.RMSprop(model.parameters(), lr=0.01)\n"
    )
    out = convert_source(source, Options()).source
    assert out.splitlines()[:3] == ["import torch", "from helpers_pkg import *", "from mindspore import nn"]
    (tmp_path / "helpers_pkg.py").write_text("import torch.nn as nn\nimport torch\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "helpers_pkg", raising=False)
    run = run_module(out, {"model"})
    assert [b.qualname for b in run.built] == ["mindspore.nn.RMSProp"]
    # An import that was only there for the optimizer is replaced after the star import.
    alone = convert_source("import torch\nfrom helpers_pkg import *\nopt = torch.optim.RMSprop(p)\n", Options()).source
    assert alone.splitlines()[:2] == ["from helpers_pkg import *", "from mindspore import nn"]
