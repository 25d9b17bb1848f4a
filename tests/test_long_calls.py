"""A rewritten call that no longer fits its line is broken one argument per line (issue 14)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from conftest import run_cli as rmsport
from hypothesis import given, settings
from hypothesis import strategies as st

from rmsport.engine.convert import Options, convert_source
from rmsport.engine.layout import DEFAULT_LINE_LENGTH, apparent_line_length, detect_style, split_call
from rmsport.files.line_length import configured_line_length

LONG = "import torch\n\nopt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)\n"
BROKEN = """from mindspore import nn

opt = nn.RMSProp(
    params=model.trainable_params(),
    learning_rate=0.01,
    momentum=0.9,
    weight_decay=1e-4,
    decay=0.99,
    epsilon=1e-08,
)
"""
ONE_LINE = (
    "opt = nn.RMSProp(params=model.trainable_params(), learning_rate=0.01, momentum=0.9, weight_decay=1e-4, "
    "decay=0.99, epsilon=1e-08)"
)


def convert(source: str, **options) -> str:
    return convert_source(source, Options(**options), path="m.py").source


def test_call_past_the_limit_is_broken_black_style() -> None:
    assert convert(LONG) == BROKEN


def test_call_that_fits_stays_on_its_line() -> None:
    out = convert("import torch\n\nopt = torch.optim.RMSprop(p)\n")
    assert "opt = nn.RMSProp(params=p, learning_rate=0.01, decay=0.99, epsilon=1e-08)\n" in out


def test_longest_existing_line_sets_the_limit() -> None:
    wide = "x = " + repr("y" * 130) + "\n"  # the file already has a 136-character line
    out = convert(LONG + wide)
    assert ONE_LINE + "\n" in out


def test_configured_line_length_wins() -> None:
    assert len(ONE_LINE) == 129
    assert ONE_LINE + "\n" in convert(LONG, line_length=130)
    assert convert(LONG, line_length=120) == BROKEN
    short = "import torch\n\nopt = torch.optim.RMSprop(p)\n"  # 76 characters once rewritten
    assert "    params=p,\n" in convert(short, line_length=72)


def test_the_rewrite_must_make_the_line_longer() -> None:
    """A line that was already past the limit and does not grow is the author's choice."""
    source = "import mindspore\n\nopt = mindspore.nn.RMSProp(params=p, learning_rate=0.1, decay=0.9, epsilon=1e-10)\n"
    assert "\nopt = torch.optim.RMSprop(params=p, lr=0.1, alpha=0.9, eps=1e-10)\n" in convert(
        source, to="torch", line_length=40
    )


def test_comment_after_the_call_stays_after_it() -> None:
    out = convert(LONG.replace("1e-4)\n", "1e-4)  # tuned\n"))
    assert out.endswith("    epsilon=1e-08,\n)  # tuned\n")


def test_indentation_follows_the_file() -> None:
    source = (
        "import torch\n\ndef build(model):\n  if True:\n"
        "    opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)\n  return opt\n"
    )
    out = convert(source)
    assert "    opt = nn.RMSProp(\n      params=model.trainable_params(),\n" in out
    assert "      epsilon=1e-08,\n    )\n  return opt\n" in out
    tabs = source.replace("  if True:\n    ", "\t").replace("  return", "\treturn")
    assert "\topt = nn.RMSProp(\n\t\tparams=model.trainable_params(),\n" in convert(tabs)


def test_visual_indent_style_is_kept() -> None:
    source = "import torch\n\nx = dict(a=1,\n         b=2)\n" + LONG.split("\n\n", 1)[1]
    out = convert(source)
    assert (
        "opt = nn.RMSProp(params=model.trainable_params(),\n"
        "                 learning_rate=0.01,\n"
        "                 momentum=0.9,\n"
    ) in out
    assert out.endswith("                 epsilon=1e-08)\n")


def test_files_without_trailing_commas_get_none() -> None:
    source = "import torch\n\nx = dict(\n    a=1,\n    b=2\n)\n" + LONG.split("\n\n", 1)[1]
    assert convert(source).endswith("    epsilon=1e-08\n)\n")
    assert detect_style(source).trailing_comma is False
    assert detect_style(BROKEN).trailing_comma is True


def test_crlf_file_keeps_crlf() -> None:
    out = convert(LONG.replace("\n", "\r\n"))
    assert out == BROKEN.replace("\n", "\r\n")


def test_broken_call_is_a_fixed_point_and_goes_back() -> None:
    assert convert(BROKEN) == BROKEN
    back = convert(BROKEN, to="torch")
    assert "torch.optim.RMSprop(\n    params=model.parameters(),\n    lr=0.01,\n" in back
    assert convert(back, to="torch") == back


def test_apparent_line_length() -> None:
    assert apparent_line_length("x = 1\n") == DEFAULT_LINE_LENGTH
    assert apparent_line_length("x" * 130 + "\n") == 130
    assert apparent_line_length("x" * 130 + "\n", configured=100) == 100


def test_pyproject_line_length_reaches_the_cli(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 130\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    (tmp_path / "a.py").write_text(LONG)
    (tmp_path / "sub" / "b.py").write_text(LONG)
    assert configured_line_length(tmp_path / "a.py") == 130
    assert configured_line_length(tmp_path / "sub" / "b.py") == 100
    result = rmsport("convert", "a.py", "sub/b.py", cwd=tmp_path, text=True)
    assert result.returncode == 0, result.stderr
    assert ONE_LINE in (tmp_path / "a.py").read_text()  # 129 characters fit 130
    assert (tmp_path / "sub" / "b.py").read_text() == BROKEN  # the nearest pyproject says 100
    stdin = rmsport("convert", "-", "--stdin-filename", "a.py", stdin=LONG, cwd=tmp_path, text=True)
    assert ONE_LINE in stdin.stdout


def test_unreadable_pyproject_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.black\nline-length = \xff\n")
    assert configured_line_length(tmp_path / "a.py") is None
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 'wide'\n")
    (tmp_path / "x").mkdir()  # a folder not asked about before (answers are cached per folder)
    assert configured_line_length(tmp_path / "x" / "a.py") is None


ARG_VALUES = st.sampled_from(
    ["0.01", "1e-3", "0.9", "0", "True", "False", "lr", "cfg.lr * 2", "cfg['a, b']", "pick(lambda s, t: s)",
     "{'x': (1, 2)}[k]", "f'{a},{b}'", "(x, y)[0]", '"""q,(r"""']
)
KEYWORDS = ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"]


@settings(max_examples=60, deadline=None)
@given(
    indent=st.sampled_from(["", "    ", "        ", "\t"]),
    keywords=st.lists(st.sampled_from(KEYWORDS), unique=True, max_size=6),
    values=st.lists(ARG_VALUES, min_size=6, max_size=6),
    receiver=st.sampled_from(["opt", "self.optimizer", "optimizers['main']"]),
)
def test_breaking_changes_layout_only_and_lines_fit(indent, keywords, values, receiver) -> None:
    """Whatever the call: the broken layout parses to the same tree as the
    one-line rewrite, and every line fits unless the file's limit was already past."""
    args = ", ".join(f"{k}={v}" for k, v in zip(keywords, values))
    call = f"torch.optim.RMSprop(model.parameters(){', ' if args else ''}{args})"
    body = f"{indent}{receiver} = {call}\n"
    source = "import torch\n\n" + (f"if True:\n{body}" if indent else body)
    out = convert(source)
    one_line = convert(source, line_length=sys.maxsize)
    assert ast.dump(ast.parse(out)) == ast.dump(ast.parse(one_line))
    limit = apparent_line_length(source)
    assert max(len(line.expandtabs(1)) for line in out.splitlines()) <= limit
    if max(len(line) for line in one_line.splitlines()) <= limit:
        assert out == one_line  # calls that fit are left alone


def test_call_inside_an_fstring_stays_on_its_line() -> None:
    source = (
        "import torch\n"
        'print(f"{torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)}")\n'
    )
    result = convert_source(source, Options(), path="m.py")
    assert "RMS002" not in {f.code for f in result.findings}
    assert 'print(f"{nn.RMSProp(params=model.trainable_params(), learning_rate=0.01, momentum=0.9, ' in result.source


def test_compound_statement_on_one_line() -> None:
    source = "import torch\n\nif fast: opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)\n"
    out = convert(source)
    assert out.startswith("from mindspore import nn\n\nif fast: opt = nn.RMSProp(\n    params=model.trainable_params(),\n")
    ast.parse(out)


def test_call_inside_a_triple_quoted_fstring_stays_whole() -> None:
    source = (
        'import torch\n\nreport = f"""\nsettings:\n'
        "{torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4, centered=True)}\n"
        '"""\n'
    )
    result = convert_source(source, Options(), path="m.py")
    assert "RMS002" not in {f.code for f in result.findings}
    assert "\n{nn.RMSProp(params=model.trainable_params(), learning_rate=0.01, " in result.source


def test_lone_cr_line_endings() -> None:
    source = "import torch\r\rdef f(model):\r    opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)\r"
    out = convert(source)
    assert "\r    opt = nn.RMSProp(\r        params=model.trainable_params(),\r" in out
    assert out.endswith("        epsilon=1e-08,\r    )\r")


def test_split_call_minds_strings_brackets_and_lambdas() -> None:
    assert split_call('f(a, "x, y", [1, (2, 3)], k={"a": 1},)') == ("f(", ["a", '"x, y"', "[1, (2, 3)]", 'k={"a": 1}'])
    assert split_call("f('it\\'s, (ok', b)") == ("f(", ["'it\\'s, (ok'", "b"])
    assert split_call('f("""a,)b""", c)') == ("f(", ['"""a,)b"""', "c"])
    assert split_call("f(k=lambda a, b=(1, 2): a, d=3)") == ("f(", ["k=lambda a, b=(1, 2): a", "d=3"])
    assert split_call("f(a)(b, c)") is None  # the argument list does not end the text
    assert split_call("f(a).x") is None
    assert split_call("(f)(a, b)") is None


def test_nested_calls_break_outermost_first() -> None:
    source = "import torch\n\nopt = torch.optim.RMSprop(torch.optim.RMSprop(torch.optim.RMSprop(p, lr=0.1), lr=0.01), lr=0.2)\n"
    assert convert(source) == (
        "from mindspore import nn\n\n"
        "opt = nn.RMSProp(\n"
        "    params=nn.RMSProp(\n"
        "        params=nn.RMSProp(params=p, learning_rate=0.1, decay=0.99, epsilon=1e-08),\n"
        "        learning_rate=0.01,\n"
        "        decay=0.99,\n"
        "        epsilon=1e-08,\n"
        "    ),\n"
        "    learning_rate=0.2,\n"
        "    decay=0.99,\n"
        "    epsilon=1e-08,\n"
        ")\n"
    )
