"""The guard before writing: parsing only the edited regions must never pass a file that would not parse."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rmsport.engine.analysis import LineIndex
from rmsport.engine.imports import Edit
from rmsport.engine.safety import syntax_error_after

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "convert"
SOURCES = sorted({p.read_text(encoding="utf-8") for p in FIXTURES.glob("*/input.py")}) + [
    "import torch\n\n@decorator(\n    x)\ndef f():\n    if x:\n        y = 1\n    return y\n\nclass C:\n"
    "    '''doc\n\nstring'''\n    a = 1; b = 2\n",
    "x = 1; y = (2,\n 3)\nz = '''\n'''\n",
    "if a:\n    pass\nelse:\n    b = 1\n",
    # nested blocks, one-line compound statements, decorators, shared lines, tabs, match
    "class Model:\n    @property\n    def opt(self):\n        if self.a: return RMSprop(p)\n"
    "        for x in y:\n            o = RMSprop(\n                p,  # c\n            lr=1)\n"
    "        else:\n            pass\n        try:\n            import torch.optim as optim\n"
    "        except ImportError:\n            optim = None; z = 1\n        return '''\nx\n'''\n",
    "def f():\n\tif x:\n\t\tg(a,\n  b)\n\treturn [\n1]\n\n\nwhile True:\n    match x:\n"
    "        case 1:\n            y = RMSprop(p)\n        case _:\n            pass\n",
]
# Padded, so that most edits touch a small part of the file and the region path is what runs.
SOURCES += [text + "value = 0\n" * 60 for text in SOURCES]
SNIPPETS = [
    *("", "x", "(", ")", "\n", "\n    ", "\n  ", "\nx = 1\n", "\n\t\t", "    ", "'''", '"', "pass"),
    *("if x:", "f(a,\n  b)", "import m\n", "    import m\n", ": ", "\\", "#"),
]


def applied(source: str, edits: list[Edit]) -> str:
    out, position = [], 0
    for edit in sorted(edits, key=lambda e: e.start):
        out += [source[position : edit.start], edit.text]
        position = edit.end
    return "".join(out) + source[position:]


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


@st.composite
def edited(draw) -> tuple[str, list[Edit]]:
    source = draw(st.sampled_from(SOURCES))
    cuts = draw(st.lists(st.integers(0, len(source)), min_size=2, max_size=8))
    if draw(st.booleans()):  # at line starts, where statements begin and imports are inserted
        cuts = [source.rfind("\n", 0, cut) + 1 for cut in cuts]
    cuts = sorted(cuts)
    edits = []
    for start, end in zip(cuts[::2], cuts[1::2]):
        edits.append(Edit(start, end, draw(st.sampled_from(SNIPPETS + [source[start:end]]))))
    return source, edits


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=400, deadline=None)
@given(case=edited())
def test_region_check_never_passes_a_file_that_does_not_parse(case) -> None:
    source, edits = case
    error = syntax_error_after(source, edits, ast.parse(source), LineIndex(source))
    if error is None:
        assert parses(applied(source, edits))


def test_a_block_left_empty_is_caught() -> None:
    source = "import os\n\n\ndef f():\n    if os:\n        import torch.optim as optim\n    return 1\n" + "x = 1\n" * 50
    start = source.index("        import torch")
    end = source.index("    return")
    edits = [Edit(start, end, "")]
    assert syntax_error_after(source, edits, ast.parse(source), LineIndex(source)) is not None


def test_unchanged_and_harmless_edits_pass() -> None:
    source = "import torch\n\nopt = torch.optim.RMSprop(p, lr=0.1)\n" + "y = 2\n" * 50
    start = source.index("torch.optim.RMSprop")
    end = source.index("\n", start)
    edits = [Edit(start, end, "nn.RMSProp(p,\n    learning_rate=0.1)")]
    assert syntax_error_after(source, edits, ast.parse(source), LineIndex(source)) is None
    assert syntax_error_after(source, [], ast.parse(source), LineIndex(source)) is None


def test_an_import_put_at_the_start_of_the_line_after_a_block_belongs_to_that_block() -> None:
    # The insertion point is the start of the next statement's line, but the
    # inserted text is indented for the block before it: a check that parsed
    # only the following statement refused a correct rewrite.
    source = "if FLAG:\n    import torch\nelse:\n    import torch\nif FLAG:\n    from mindspore import nn\n"
    source += "y = 1\n" * 40
    at = source.index("if FLAG:\n    from")
    edits = [Edit(at, at, "    import mindspore\n")]
    assert parses(applied(source, edits))
    assert syntax_error_after(source, edits, ast.parse(source), LineIndex(source)) is None
