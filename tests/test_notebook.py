"""Notebooks: code cells converted, IPython syntax and Jupyter's layout kept."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rmsport.engine.convert
from rmsport.engine.convert import Conversion, Options, convert_source
from rmsport.files.notebook import NotebookError, convert_notebook, diff_notebook, notebook_cell_sources

TORCH_IMPORTS = "import torch\nfrom torch import optim\n"
CALL = "opt = optim.RMSprop(model.parameters(), lr=0.01)"


def code(source: str, *, outputs: list | None = None, as_string: bool = False, cell_id: str = "c0ffee") -> dict:
    """A code cell shaped like Jupyter writes it (keys sorted, source as lines)."""
    return {
        "cell_type": "code",
        "execution_count": 1 if outputs else None,
        "id": cell_id,
        "metadata": {},
        "outputs": outputs or [],
        "source": source if as_string else source.splitlines(keepends=True),
    }


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "id": "md0001", "metadata": {}, "source": source.splitlines(keepends=True)}


def notebook(*cells: dict) -> dict:
    return {
        "cells": list(cells),
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def jupyter_text(nb: dict) -> str:
    """What Jupyter's nbformat.write produces."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


OUTPUT = {
    "name": "stdout",
    "output_type": "stream",
    "text": ["loss 0.25 — ε=1e-08\n"],
}


def convert(text: str, **options) -> Conversion:
    return convert_notebook(text, Options(**options), path="nb.ipynb")


def sources(text: str) -> list[str]:
    return notebook_cell_sources(text)


def joined(cells: list[str]) -> str:
    """Cells as one module, each ending in exactly one newline."""
    return "".join(cell if cell.endswith("\n") else cell + "\n" for cell in cells)


# -- nothing to change: the very same bytes -----------------------------------


@pytest.mark.parametrize(
    "nb",
    [
        pytest.param(notebook(markdown("# RMSprop tutorial\n"), code("import numpy as np\nx = 1")), id="no-calls"),
        pytest.param(
            notebook(code("%matplotlib inline\n!pip install torch\nclass RMSprop:\n    pass\nopt = RMSprop()")),
            id="local-class-not-torch",
        ),
        pytest.param(
            notebook(code("%%bash\necho torch.optim.RMSprop"), code(TORCH_IMPORTS)), id="bash-cell-magic-left-alone"
        ),
        pytest.param(
            notebook(code("%%writefile train.py\nimport torch\ntorch.optim.RMSprop(m.parameters())\n")),
            id="writefile-left-alone",
        ),
        pytest.param(
            notebook(code("import torch\ndef broken(:\n    torch.optim.RMSprop(p)"), markdown("text")),
            id="unparsable-cell",
        ),
        pytest.param(
            notebook(
                code("from mindspore import nn\nopt = nn.RMSProp(params=net.trainable_params())", outputs=[OUTPUT])
            ),
            id="already-mindspore",
        ),
    ],
)
def test_unchanged_notebook_is_byte_identical(nb: dict) -> None:
    text = jupyter_text(nb)
    result = convert(text)
    assert result.changed is False
    assert result.source is text or result.source == text


def test_unparsable_cell_is_reported_and_others_converted() -> None:
    text = jupyter_text(
        notebook(
            code(TORCH_IMPORTS + "model = torch.nn.Linear(2, 2)"),
            markdown("## train"),
            code("for step in range(3):\n    opt = optim.RMSprop(\n"),
            code(CALL),
        )
    )
    result = convert(text)
    errors = [f for f in result.findings if f.code == "RMS001"]
    assert len(errors) == 1
    assert (errors[0].cell, errors[0].severity, errors[0].path) == (2, "error", "nb.ipynb")
    assert errors[0].message.startswith("cell does not parse: ")
    new = sources(result.source)
    assert new[2] == sources(text)[2]
    assert "RMSProp(" in new[3] and "optim.RMSprop" not in new[3]


# -- conversion ---------------------------------------------------------------


def test_cells_convert_like_one_module() -> None:
    cells = [TORCH_IMPORTS, "model = torch.nn.Linear(4, 2)", CALL + "\nprint(opt)"]
    nb = notebook(markdown("# Train\n"), code(cells[0]), code(cells[1], outputs=[OUTPUT]), code(cells[2]))
    text = jupyter_text(nb)
    result = convert(text)
    assert result.changed

    # The same cells as one .py module give the same text, cell for cell:
    # imports are per notebook (the import in cell 1 is rewritten for cell 3).
    module = convert_source(joined(cells), Options()).source
    assert joined(sources(result.source)[1:]) == module
    assert "optim.RMSprop" not in result.source and "from torch import optim" not in result.source

    # Layout: exactly what Jupyter would write for the new cells.
    expected = json.loads(text)
    for index, source in enumerate(sources(result.source)):
        expected["cells"][index]["source"] = source.splitlines(keepends=True)
    assert result.source == jupyter_text(expected)
    assert expected["cells"][2]["outputs"] == [OUTPUT]


def test_findings_are_cell_relative() -> None:
    text = jupyter_text(
        notebook(markdown("intro"), code(TORCH_IMPORTS), code("%%time\n\n" + CALL), code("x = 1\n" + CALL))
    )
    result = convert(text)
    rewritten = [(f.cell, f.line, f.column) for f in result.findings if f.code == "RMS101"]
    assert rewritten == [(2, 3, 7), (3, 2, 7)]
    assert all(f.path == "nb.ipynb" for f in result.findings)
    assert {f.cell for f in result.findings} == {2, 3}


@pytest.mark.parametrize(
    ("cell", "kept"),
    [
        pytest.param("%matplotlib inline\n" + CALL, ["%matplotlib inline\n"], id="line-magic"),
        pytest.param("!pip install torch==2.3\n" + CALL, ["!pip install torch==2.3\n"], id="shell-escape"),
        pytest.param("files = !ls data\n" + CALL, ["files = !ls data\n"], id="shell-assignment"),
        pytest.param("t = %timeit -o f()\n" + CALL, ["t = %timeit -o f()\n"], id="magic-assignment"),
        pytest.param(CALL + "\noptim.RMSprop?", ["\noptim.RMSprop?"], id="help-suffix"),
        pytest.param("??optim.RMSprop\n" + CALL, ["??optim.RMSprop\n"], id="help-prefix"),
        pytest.param(
            "for lr in (0.1, 0.01):\n    %time f(lr)\n    opt = optim.RMSprop(model.parameters(), lr=lr)\n",
            ["    %time f(lr)\n"],
            id="indented-magic",
        ),
        pytest.param(
            "!pip install \\\n    torch numpy\n" + CALL, ["!pip install \\\n    torch numpy\n"], id="continued-shell"
        ),
        pytest.param("%%time\n%load_ext autoreload\n" + CALL, ["%%time\n%load_ext autoreload\n"], id="time-with-magic"),
        pytest.param("%%capture out\n" + CALL, ["%%capture out\n"], id="capture"),
        pytest.param("%%timeit -n 1\n" + CALL, ["%%timeit -n 1\n"], id="timeit"),
    ],
)
def test_ipython_lines_kept_exactly(cell: str, kept: list[str]) -> None:
    text = jupyter_text(notebook(code(TORCH_IMPORTS + "model = torch.nn.Linear(2, 2)"), code(cell)))
    result = convert(text)
    assert result.changed
    new = sources(result.source)[1]
    for piece in kept:
        assert piece in new
    assert "RMSProp(" in new
    assert "optim.RMSprop(" not in new
    assert "__rmsport" not in result.source
    assert not [f for f in result.findings if f.code in ("RMS001", "RMS002")]


def test_percent_continuation_line_is_python_not_a_magic() -> None:
    cell = "x = (a\n     % b)\n" + CALL
    result = convert(jupyter_text(notebook(code(TORCH_IMPORTS), code(cell))))
    new = sources(result.source)[1]
    assert new.startswith("x = (a\n     % b)\n")
    assert "RMSProp(" in new


def test_to_torch_direction() -> None:
    cells = ["from mindspore import nn", "opt = nn.RMSProp(params=net.trainable_params(), learning_rate=0.01)"]
    result = convert(jupyter_text(notebook(code(cells[0]), code(cells[1]))), to="torch")
    module = convert_source(joined(cells), Options(to="torch")).source
    assert result.changed
    assert joined(sources(result.source)) == module


def test_future_import_in_later_cell_falls_back_to_cell_by_cell() -> None:
    # Joined, the cells would not parse (a __future__ import must come first).
    text = jupyter_text(
        notebook(
            code("x = 1"), code("from __future__ import annotations\nimport torch\ntorch.optim.RMSprop(m.parameters())")
        )
    )
    result = convert(text)
    assert result.changed
    assert "RMSProp(" in sources(result.source)[1]
    assert not [f for f in result.findings if f.code == "RMS001"]


def test_placeholder_lost_by_the_core_leaves_cell_unchanged(monkeypatch) -> None:
    real = rmsport.engine.convert.convert_source

    def lossy(source, options, *, path="<stdin>", **kwargs):
        result = real(source, options, path=path, **kwargs)
        lines = [line for line in result.source.splitlines(keepends=True) if "__rmsport_ipython" not in line]
        return Conversion("".join(lines), result.findings, True)

    monkeypatch.setattr(rmsport.engine.convert, "convert_source", lossy)
    text = jupyter_text(notebook(code(TORCH_IMPORTS), code("%matplotlib inline\n" + CALL)))
    result = convert(text)
    assert sources(result.source)[1] == "%matplotlib inline\n" + CALL
    assert [(f.code, f.cell) for f in result.findings] == [("RMS002", 1)]
    assert "__rmsport" not in result.source


# -- layout -------------------------------------------------------------------


def test_layout_of_the_input_is_kept() -> None:
    # Not Jupyter's: indent 2, unsorted keys, a string source, no final newline, CRLF.
    nb = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {"title": "Überblick"},
        "cells": [
            {
                "source": TORCH_IMPORTS + CALL,
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    text = json.dumps(nb, indent=2, ensure_ascii=False).replace("\n", "\r\n")
    result = convert(text)
    assert result.changed
    expected = json.loads(text)
    expected["cells"][0]["source"] = sources(result.source)[0]
    assert isinstance(json.loads(result.source)["cells"][0]["source"], str)
    assert result.source == json.dumps(expected, indent=2, ensure_ascii=False).replace("\n", "\r\n")
    assert "Überblick" in result.source


def test_compact_json_layout() -> None:
    nb = notebook(code(TORCH_IMPORTS + CALL))
    text = json.dumps(nb, separators=(",", ":"))
    result = convert(text)
    expected = json.loads(text)
    expected["cells"][0]["source"] = sources(result.source)[0].splitlines(keepends=True)
    assert result.source == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)


# -- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        pytest.param('{\n "cells": [\n', "invalid notebook JSON", 3, id="truncated"),
        pytest.param("[1, 2]", "no top-level 'cells' list", 1, id="not-an-object"),
        pytest.param('{"cells": [], "nbformat": 3}', "unsupported notebook format 3", 1, id="nbformat-3"),
        pytest.param('{"cells": [{"source": []}], "nbformat": 4}', "cell 0 has no cell_type", 1, id="no-cell-type"),
        pytest.param(
            '{"cells": [{"cell_type": "code", "source": 5}], "nbformat": 4}', "source is not text", 1, id="bad-source"
        ),
    ],
)
def test_not_a_notebook(text: str, message: str, line: int) -> None:
    with pytest.raises(NotebookError) as info:
        convert(text)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, rmsport.engine.convert.ParseError)  # the runner reports it as RMS001
    assert message in info.value.message
    assert info.value.line == line


# -- diffs --------------------------------------------------------------------


def test_diff_names_the_cell() -> None:
    text = jupyter_text(notebook(markdown("m"), code(TORCH_IMPORTS), code("%%time\n" + CALL)))
    result = convert(text)
    diff = diff_notebook(text, result.source, "nb.ipynb")
    headers = [line for line in diff.splitlines() if line.startswith(("---", "+++"))]
    assert headers == [
        "--- a/nb.ipynb:cell_1",
        "+++ b/nb.ipynb:cell_1",
        "--- a/nb.ipynb:cell_2",
        "+++ b/nb.ipynb:cell_2",
    ]
    assert "-" + CALL + "\n" in diff
    assert " %%time\n" in diff
    assert diff_notebook(text, text, "nb.ipynb") == ""


def test_notebook_cell_sources() -> None:
    text = jupyter_text(notebook(markdown("# a\nb"), code("x = 1\ny = 2", as_string=True)))
    assert notebook_cell_sources(text) == ["# a\nb", "x = 1\ny = 2"]


# -- property: IPython lines always come back, placeholders never leak ---------

IPYTHON_LINES = [
    "%matplotlib inline",
    "!pip install -q torch",
    "files = !ls",
    "%load_ext autoreload",
    "optim.RMSprop?",
    "??torch.optim",
    "%env CUDA_VISIBLE_DEVICES=0",
]
PYTHON_LINES = [
    CALL,
    "opt = torch.optim.RMSprop(model.parameters())",
    "x = 1",
    "print('%d steps' % 3)",
    "s = '''__rmsport_ipython_ lookalike'''",
]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(IPYTHON_LINES + PYTHON_LINES), min_size=1, max_size=8),
    st.sampled_from(["", "%%time\n", "%%capture\n", "%%bash\n"]),
)
def test_ipython_lines_survive_any_mix(lines: list[str], magic: str) -> None:
    cell = magic + "\n".join(lines)
    text = jupyter_text(notebook(code(TORCH_IMPORTS + "model = torch.nn.Linear(2, 2)"), code(cell)))
    result = convert(text)
    new = sources(result.source)[1]
    kept = [line for line in new.splitlines() if line in IPYTHON_LINES]
    assert kept == [line for line in cell.splitlines() if line in IPYTHON_LINES]
    assert new.startswith(magic)
    assert "__rmsport_ipython_" not in result.source.replace("__rmsport_ipython_ lookalike", "")
    assert not [f for f in result.findings if f.code in ("RMS001", "RMS002")]
    if magic == "%%bash\n":
        assert new == cell
    elif any(line in PYTHON_LINES[:2] for line in lines):
        assert "RMSProp(" in new
