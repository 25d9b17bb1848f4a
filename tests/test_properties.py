"""Property-based tests of the converter core (``rmsport.engine.convert.convert_source``).

Hypothesis generates modules with ``torch.optim.RMSprop`` calls written in every
import style, with any mix of positional and keyword arguments (in torch's
positional order), literal and expression values, comments and line breaks
inside the call, and unrelated code around it (other optimizers, other
libraries' RMSprop, strings and comments that mention RMSprop).  Properties:

* the output always parses;
* converting twice equals converting once (both directions);
* torch -> mindspore -> torch gives back the same call meaning: the same API,
  the same keyword values (positional arguments mapped to their names), plus
  possibly pinned defaults that equal torch's defaults;
* only the rewritten calls' lines and import lines change; every other line,
  including other libraries' calls, is byte-identical;
* every call is either rewritten to the target API or reported with an
  ``error`` finding and left byte-identical.

Profiles: ``RMSPORT_HYPOTHESIS_PROFILE=ci`` (derandomized, the default when
``CI`` is set), ``dev`` (the default) and ``thorough`` (many more examples).
"""

from __future__ import annotations

import ast
import difflib
import math
import os
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rmsport.tables.optimizers import APIS, BY_NAME, DROPS, MS_EXPERIMENTAL, MS_NN, TORCH
from rmsport.engine.convert import Options, convert_source
from rmsport.findings import ERROR

settings.register_profile(
    "props-dev",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "props-ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "props-thorough",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_NAME = os.environ.get("RMSPORT_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
PROFILE = settings.get_profile(f"props-{_NAME}" if _NAME in ("dev", "ci", "thorough") else "props-dev")

TO_MS = Options(to="mindspore", target="nn", eps_mapping="literal")
TO_MS_EXPERIMENTAL = Options(to="mindspore", target="experimental", eps_mapping="literal")
TO_MS_MATCHED = Options(to="mindspore", target="nn", eps_mapping="matched")
TO_TORCH = Options(to="torch", target="nn", eps_mapping="literal")

# --- generating modules -----------------------------------------------------------

# (import line, how the class is spelled, names it binds)
IMPORT_STYLES = [
    ("import torch", "torch.optim.RMSprop"),
    ("import torch as th", "th.optim.RMSprop"),
    ("import torch.optim as optim", "optim.RMSprop"),
    ("import torch.optim", "torch.optim.RMSprop"),
    ("from torch import optim", "optim.RMSprop"),
    ("from torch import optim as topt", "topt.RMSprop"),
    ("from torch.optim import RMSprop", "RMSprop"),
    ("from torch.optim import RMSprop as R", "R"),
]

TORCH_ORDER = ["lr", "alpha", "eps", "weight_decay", "momentum", "centered"]

NAMES = ["base_lr", "cfg.lr", "args.alpha", "hp['eps']", "wd", "self.momentum", "flag"]

VALUES = {
    "lr": [
        "0.01", "1e-3", "0.5", "1", "3e-4", "base_lr", "cfg.lr",
        "base_lr * 0.1", "1e-3 / 2", "2 * 1e-4", "cfg.optim.lr",
    ],
    "alpha": ["0.99", "0.9", "0.95", "1 - 1e-2", "args.alpha", "alpha_value"],
    "eps": ["1e-8", "1e-6", "1e-10", "1e-07", "hp['eps']", "eps", "10 ** -8"],
    "weight_decay": ["0", "0.0", "1e-4", "5e-4", "wd", "cfg.wd * 2"],
    "momentum": ["0", "0.0", "0.9", "0.5", "mom", "self.momentum"],
    "centered": ["True", "False", "flag", "not flag"],
}

PARAMS = ["model.parameters()", "params", "net.parameters()", "list(model.parameters())", "self.model.parameters()"]

# Unrelated code; every line of it must survive unchanged.  Each entry is a list
# of lines; entries that need ``torch`` bound import it themselves.
SURROUNDINGS = [
    ["import torch", "adam = torch.optim.Adam(model.parameters(), lr=1e-3)"],
    ["import keras", "k_opt = keras.optimizers.RMSprop(learning_rate=0.001, rho=0.9)"],
    ["import tensorflow as tf", "tf_opt = tf.keras.optimizers.RMSprop(0.001)"],
    ["from optax import rmsprop", "ox = rmsprop(1e-3)"],
    ['doc = "use torch.optim.RMSprop(params, lr=0.01) here"'],
    ["# torch.optim.RMSprop(model.parameters(), lr=0.1) was too slow"],
    ["def helper(x):", "    # RMSprop is mentioned here", "    return x * 2  # RMSprop(x)"],
    ["class RMSpropLike:", "    lr = 0.01"],
    ["RMSprop_table = {'rmsprop': None}"],
    ["if True:", "    pass  # \u00e9t\u00e9 RMSprop"],
    ["s = 'caf\u00e9 \u2603'  # non-ASCII text"],
    ["x = [", "    1,", "    2,", "]"],
    ["\x0c# form feed line before code"],
    ["text = '''multi", "line torch.optim.RMSprop(", "string'''"],
]


@dataclass
class CallSpec:
    params: str
    positional: list[tuple[str, str]]  # (concept, value source)
    keywords: list[tuple[str, str]]
    multiline: bool
    comments: bool
    trailing_comma: bool
    target: str  # assignment target
    prefix: str = ""  # code before the call on the same line
    backslash: bool = False  # a backslash continuation inside the call
    callee_override: str | None = None  # e.g. the misspelling torch.optim.RMSProp


# Extra keywords: some have no MindSpore counterpart and may be dropped (they
# change no math), some block the conversion (an error finding, call unchanged).
EXTRAS = [
    ("foreach", "None"),
    ("foreach", "True"),
    ("capturable", "False"),
    ("differentiable", "False"),
    ("maximize", "False"),
    ("maximize", "True"),  # error: no counterpart
    ("eps", "0"),  # error: epsilon must be > 0 in MindSpore
    ("**", "extra_kwargs"),  # error: splat
]


@st.composite
def call_specs(draw) -> CallSpec:
    n_positional = draw(st.integers(0, len(TORCH_ORDER)))
    positional = [(c, draw(st.sampled_from(VALUES[c]))) for c in TORCH_ORDER[:n_positional]]
    rest = TORCH_ORDER[n_positional:]
    chosen = draw(st.lists(st.sampled_from(rest), unique=True, max_size=len(rest))) if rest else []
    keywords = [(c, draw(st.sampled_from(VALUES[c]))) for c in chosen]
    if draw(st.integers(0, 4)) == 0:
        concept, value = draw(st.sampled_from(EXTRAS))
        if concept == "**" or concept not in {c for c, _ in positional + keywords}:
            keywords.append((concept, value))
    params_kw = draw(st.booleans()) and not positional
    params = draw(st.sampled_from(PARAMS))
    spec = CallSpec(
        params=("params=" + params) if params_kw else params,
        positional=positional,
        keywords=keywords,
        multiline=draw(st.booleans()),
        comments=draw(st.booleans()),
        trailing_comma=draw(st.booleans()),
        target=draw(
            st.sampled_from(["opt", "optimizer", "self.opt", "opts['main']", "\u00e9t\u00e9", "\u043e\u043f\u0442"])
        ),
        prefix=draw(st.sampled_from(["", "", "", "y = 1; ", "s = 'caf\u00e9 \u2603'; ", "z = [\"\U0001f600\"]; "])),
        backslash=draw(st.integers(0, 5)) == 0,
        callee_override="misspelled" if draw(st.integers(0, 9)) == 0 else None,
    )
    if params_kw:
        # params as a keyword must come after every positional argument
        spec.keywords.insert(draw(st.integers(0, len(spec.keywords))), ("params", params))
        spec.params = ""
    if any(c == "**" for c, _ in spec.keywords):
        # a splat comes last
        spec.keywords.sort(key=lambda kv: kv[0] == "**")
    return spec


def render_call(spec: CallSpec, callee: str, indent: str = "") -> str:
    if spec.callee_override == "misspelled" and callee.endswith("RMSprop"):
        callee = callee[: -len("RMSprop")] + "RMSProp" if "." in callee else callee
    args = []
    if spec.params:
        args.append(spec.params)
    args.extend(value for _, value in spec.positional)
    args.extend(f"**{value}" if concept == "**" else f"{concept}={value}" for concept, value in spec.keywords)
    head = f"{indent}{spec.prefix}{spec.target} = {callee}("
    if not args:
        return head + ")"
    if not spec.multiline:
        sep = ", \\\n" + indent + "    " if spec.backslash else ", "
        return head + sep.join(args) + ("," if spec.trailing_comma else "") + ")" + (
            "  # the optimizer" if spec.comments else ""
        )
    lines = [head + ("  # RMSprop settings" if spec.comments else "")]
    for i, arg in enumerate(args):
        last = i == len(args) - 1
        comma = "," if (not last or spec.trailing_comma) else ""
        comment = f"  # arg {i}" if spec.comments else ""
        lines.append(f"{indent}    {arg}{comma}{comment}")
        if spec.comments and i == 0:
            lines.append(f"{indent}    # a comment line inside the call")
    lines.append(f"{indent})")
    return "\n".join(lines)


@dataclass
class Module:
    source: str
    n_calls: int
    unrelated: list[str]  # the lines of the surrounding code


@st.composite
def modules(draw) -> Module:
    style, callee = draw(st.sampled_from(IMPORT_STYLES))
    specs = draw(st.lists(call_specs(), min_size=1, max_size=3))
    surroundings = draw(st.lists(st.sampled_from(SURROUNDINGS), max_size=4))
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    blocks: list[list[str]] = []
    for extra in surroundings:
        blocks.append(list(extra))
    for spec in specs:
        wrap = draw(st.sampled_from(["module", "module", "function", "class-method"]))
        if wrap == "module":
            blocks.append([render_call(spec, callee)])
        elif wrap == "function":
            blocks.append(["def make(model, params):", render_call(spec, callee, "    "), "    return opt"])
        else:
            blocks.append(
                [
                    "class Trainer:",
                    "    def __init__(self, model):",
                    render_call(spec, callee, "        "),
                ]
            )
    order = draw(st.permutations(range(len(blocks))))
    lines = [style]
    if draw(st.booleans()):
        lines.insert(0, '"""A module docstring."""')
    for i in order:
        lines.append("")
        lines.extend(blocks[i])
    text = newline.join("\n".join(lines).split("\n"))
    if draw(st.booleans()):
        text += newline
    unrelated = [line for extra in surroundings for line in extra]
    return Module(text, len(specs), unrelated)


# --- reading modules back -----------------------------------------------------------


def import_bindings(tree: ast.Module) -> dict[str, str]:
    """Top-level names bound by imports anywhere in the module -> qualified name."""
    bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    bound[root] = root
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return bound


def dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def resolve(node: ast.expr, bound: dict[str, str]) -> str | None:
    name = dotted(node)
    if name is None:
        return None
    root, _, rest = name.partition(".")
    if root not in bound:
        return None
    return bound[root] + ("." + rest if rest else "")


KNOWN = {name: api.qualname for name, api in BY_NAME.items()}  # every spelling, misspellings too


def rms_calls(tree: ast.Module) -> list[tuple[str, ast.Call]]:
    """(canonical API, call) for every RMSProp constructor call, in source order."""
    bound = import_bindings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            api = KNOWN.get(resolve(node.func, bound) or "")
            if api:
                found.append((api, node))
    found.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    return found


def named_arguments(api: str, call: ast.Call) -> dict[str, ast.expr]:
    """Map the call's arguments to the API's keyword names."""
    order = list(APIS[api].keywords.values())
    named = {order[i]: arg for i, arg in enumerate(call.args)}
    for kw in call.keywords:
        named[kw.arg if kw.arg is not None else "**" + ast.unparse(kw.value)] = kw.value
    return named


def number(node: ast.expr) -> float | None:
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def same_value(a: ast.expr, b: ast.expr) -> bool:
    if ast.dump(a) == ast.dump(b):
        return True
    na, nb = number(a), number(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-12, abs_tol=0.0)
    # a value MindSpore needs as a Python float may have been wrapped in float(...) (issue 8)
    for x, y in ((a, b), (b, a)):
        if isinstance(y, ast.Call) and isinstance(y.func, ast.Name) and y.func.id == "float" and len(y.args) == 1:
            return same_value(x, y.args[0])
    # an int literal inside an expression may have been written as a float
    return ast.dump(_floated(a)) == ast.dump(_floated(b))


class _Floater(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        if isinstance(node.value, int) and not isinstance(node.value, bool):
            return ast.Constant(float(node.value))
        return node


def _floated(node: ast.expr) -> ast.expr:
    return _Floater().visit(ast.parse(ast.unparse(node), mode="eval").body)


def may_be_dropped(name: str, value: ast.expr) -> bool:
    """Arguments with no MindSpore counterpart that change no math may vanish."""
    drop = DROPS.get(name)
    if drop is None:
        return False
    if drop.how == "always":
        return True
    if drop.how == "at_default":
        try:
            return ast.literal_eval(value) == APIS[TORCH].defaults[name]
        except ValueError:
            return False
    return False


def import_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def call_statement_lines(tree: ast.Module, calls: list[ast.Call]) -> set[int]:
    lines: set[int] = set()
    for call in calls:
        lines.update(range(call.lineno, (call.end_lineno or call.lineno) + 1))
    return lines


def check_only_calls_and_imports_changed(before: str, after: str) -> None:
    tree_a, tree_b = ast.parse(before), ast.parse(after)
    allowed_a = import_lines(tree_a) | call_statement_lines(tree_a, [c for _, c in rms_calls(tree_a)])
    allowed_b = import_lines(tree_b) | call_statement_lines(tree_b, [c for _, c in rms_calls(tree_b)])
    lines_a = before.splitlines(keepends=True)
    lines_b = after.splitlines(keepends=True)
    # ast counts only \r, \n and \r\n as line breaks; so does this split
    lines_a, lines_b = _ast_lines(before), _ast_lines(after)
    matcher = difflib.SequenceMatcher(None, lines_a, lines_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        for i in range(i1, i2):
            if (i + 1) not in allowed_a and lines_a[i].strip():
                raise AssertionError(f"line {i + 1} changed but is no call or import: {lines_a[i]!r}")
        for j in range(j1, j2):
            if (j + 1) not in allowed_b and lines_b[j].strip():
                raise AssertionError(f"output line {j + 1} added but is no call or import: {lines_b[j]!r}")


def _ast_lines(text: str) -> list[str]:
    out, start, i = [], 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and text[i + 1 : i + 2] == "\n":
            out.append(text[start : i + 2])
            i += 2
            start = i
            continue
        if ch in "\r\n":
            out.append(text[start : i + 1])
            start = i + 1
        i += 1
    if start < len(text):
        out.append(text[start:])
    return out


def errors_of(conversion) -> list:
    return [f for f in conversion.findings if f.severity == ERROR]


# --- properties ------------------------------------------------------------------


@PROFILE
@given(modules())
def test_to_mindspore_parses_is_idempotent_and_local(module):
    for options in (TO_MS, TO_MS_EXPERIMENTAL, TO_MS_MATCHED):
        once = convert_source(module.source, options, path="x.py")
        compile(once.source, "x.py", "exec", dont_inherit=True)
        twice = convert_source(once.source, options, path="x.py")
        assert twice.source == once.source, "converting twice differs from converting once"
        assert not twice.changed
        check_only_calls_and_imports_changed(module.source, once.source)
        if once.source == module.source:
            assert not once.changed


@PROFILE
@given(modules())
def test_every_call_is_converted_or_reported_and_kept(module):
    target = {"nn": MS_NN, "experimental": MS_EXPERIMENTAL}
    for options in (TO_MS, TO_MS_EXPERIMENTAL):
        result = convert_source(module.source, options, path="x.py")
        before = rms_calls(ast.parse(module.source))
        after = rms_calls(ast.parse(result.source))
        assert len(before) == len(after) == module.n_calls
        error_lines = {f.line for f in errors_of(result)}
        source_lines = _ast_lines(module.source)
        for (api_a, call_a), (api_b, call_b) in zip(before, after):
            assert api_a == TORCH
            if api_b == TORCH:
                # left unchanged: then it must have been reported as an error
                assert any(
                    call_a.lineno <= line <= call_a.end_lineno for line in error_lines
                ), f"call at line {call_a.lineno} neither converted nor reported"
                original = "".join(source_lines[call_a.lineno - 1 : call_a.end_lineno])
                assert original in result.source
            else:
                assert api_b == target[options.target]


@PROFILE
@given(modules())
def test_round_trip_keeps_the_call_meaning(module):
    there = convert_source(module.source, TO_MS, path="x.py")
    back = convert_source(there.source, TO_TORCH, path="x.py")
    compile(back.source, "x.py", "exec", dont_inherit=True)
    again = convert_source(back.source, TO_TORCH, path="x.py")
    assert again.source == back.source
    original = rms_calls(ast.parse(module.source))
    final = rms_calls(ast.parse(back.source))
    assert len(original) == len(final)
    defaults = APIS[TORCH].defaults
    for (api_a, call_a), (api_b, call_b) in zip(original, final):
        assert api_a == api_b == TORCH, ast.unparse(call_b)
        args_a = named_arguments(TORCH, call_a)
        args_b = named_arguments(TORCH, call_b)
        for name, value in args_a.items():
            if name not in args_b and may_be_dropped(name, value):
                continue
            assert name in args_b, f"{name} lost in {ast.unparse(call_b)}"
            assert same_value(value, args_b[name]), (
                f"{name}: {ast.unparse(value)} came back as {ast.unparse(args_b[name])}"
            )
        for name in args_b.keys() - args_a.keys():
            pinned = number(args_b[name])
            default = defaults[name]
            if isinstance(default, bool) or default is None:
                assert isinstance(args_b[name], ast.Constant) and args_b[name].value == default
            else:
                assert pinned is not None and math.isclose(pinned, float(default)), (
                    f"{name}={ast.unparse(args_b[name])} added, torch default is {default}"
                )


@PROFILE
@given(modules())
def test_unrelated_lines_survive_byte_for_byte(module):
    result = convert_source(module.source, TO_MS, path="x.py")
    kept = _ast_lines(result.source)
    kept = {line.rstrip("\r\n") for line in kept}
    for line in module.unrelated:
        if line.startswith(("import ", "from ")):
            continue
        assert line in kept, f"unrelated line lost: {line!r}"
    # no other library's call is touched, and no stray mindspore reference appears in them
    tree = ast.parse(result.source)
    bound = import_bindings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = resolve(node.func, bound) or ""
            if name.startswith(("keras.", "tensorflow.", "optax.")) or name.endswith(".Adam"):
                assert "mindspore" not in name


# --- the other direction: MindSpore sources ----------------------------------------

MS_IMPORT_STYLES = [
    ("from mindspore import nn", "nn.RMSProp", MS_NN),
    ("import mindspore as ms", "ms.nn.RMSProp", MS_NN),
    ("import mindspore", "mindspore.nn.RMSProp", MS_NN),
    ("from mindspore.nn import RMSProp", "RMSProp", MS_NN),
    ("import mindspore.nn as msnn", "msnn.RMSProp", MS_NN),
    ("from mindspore.experimental import optim", "optim.RMSprop", MS_EXPERIMENTAL),
    ("import mindspore as ms", "ms.experimental.optim.RMSprop", MS_EXPERIMENTAL),
]

MS_VALUES = {
    "learning_rate": ["0.1", "0.01", "1e-3", "lr", "cfg.lr", "base_lr * 2"],
    "lr": ["0.1", "0.01", "1e-3", "lr", "cfg.lr"],
    "decay": ["0.9", "0.99", "decay"],
    "alpha": ["0.9", "0.99", "alpha"],
    "momentum": ["0.0", "0.9", "mom"],
    "epsilon": ["1e-10", "1e-8", "1e-6", "eps"],
    "eps": ["1e-10", "1e-8", "eps"],
    "use_locking": ["False", "True"],
    "centered": ["False", "True", "flag"],
    "loss_scale": ["1.0", "1024.0"],
    "weight_decay": ["0.0", "1e-4", "wd"],
    "maximize": ["False"],
}


@st.composite
def ms_modules(draw) -> tuple[str, str, int]:
    style, callee, api = draw(st.sampled_from(MS_IMPORT_STYLES))
    order = [kw for kw in APIS[api].keywords.values() if kw != "params"]
    calls = []
    for _ in range(draw(st.integers(1, 3))):
        n_pos = draw(st.integers(0, len(order)))
        args = [draw(st.sampled_from(["net.trainable_params()", "params", "net.get_parameters()"]))]
        args += [draw(st.sampled_from(MS_VALUES[kw])) for kw in order[:n_pos]]
        kws = draw(st.lists(st.sampled_from(order[n_pos:]), unique=True)) if order[n_pos:] else []
        args += [f"{kw}={draw(st.sampled_from(MS_VALUES[kw]))}" for kw in kws]
        if draw(st.booleans()):
            body = "opt = " + callee + "(\n    " + ",  # c\n    ".join(args) + ",\n)"
        else:
            body = "opt = " + callee + "(" + ", ".join(args) + ")"
        calls.append(body)
    extra = draw(st.lists(st.sampled_from(SURROUNDINGS), max_size=3))
    lines = [style, ""]
    for block in extra:
        lines.extend(block)
    lines.extend(calls)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + newline, api, len(calls)


@PROFILE
@given(ms_modules())
def test_to_torch_parses_is_idempotent_and_local(case):
    source, api, n_calls = case
    once = convert_source(source, TO_TORCH, path="x.py")
    compile(once.source, "x.py", "exec", dont_inherit=True)
    twice = convert_source(once.source, TO_TORCH, path="x.py")
    assert twice.source == once.source
    check_only_calls_and_imports_changed(source, once.source)
    before = rms_calls(ast.parse(source))
    after = rms_calls(ast.parse(once.source))
    assert len(before) == len(after) == n_calls
    error_lines = {f.line for f in errors_of(once)}
    for (_, call_a), (api_b, _) in zip(before, after):
        if api_b != TORCH:
            assert any(call_a.lineno <= line <= call_a.end_lineno for line in error_lines)


@PROFILE
@given(ms_modules())
def test_mindspore_round_trip_keeps_the_call_meaning(case):
    source, api, _ = case
    there = convert_source(source, TO_TORCH, path="x.py")
    back = convert_source(
        there.source, TO_MS if api == MS_NN else TO_MS_EXPERIMENTAL, path="x.py"
    )
    compile(back.source, "x.py", "exec", dont_inherit=True)
    original = rms_calls(ast.parse(source))
    final = rms_calls(ast.parse(back.source))
    assert len(original) == len(final)
    defaults = APIS[api].defaults
    concept_of = APIS[api].concept_of
    for (api_a, call_a), (api_b, call_b) in zip(original, final):
        assert api_a == api == api_b, ast.unparse(call_b)
        args_a = named_arguments(api, call_a)
        args_b = named_arguments(api, call_b)
        for name, value in args_a.items():
            concept = concept_of.get(name, name)
            if name not in args_b:
                # dropped going to torch: only what changes no math, or a default
                drop = DROPS.get(concept)
                assert drop is not None, f"{name} lost in {ast.unparse(call_b)}"
                if drop.how == "loss_scale":
                    # dropped with a warning (torch.amp.GradScaler does this job)
                    if number(value) != 1.0:
                        assert "RMS210" in {f.code for f in there.findings}
                elif drop.how != "always":
                    assert number(value) == float(defaults[concept]) or ast.literal_eval(value) == defaults[concept]
                continue
            assert same_value(value, args_b[name]), (
                f"{name}: {ast.unparse(value)} came back as {ast.unparse(args_b[name])}"
            )
        for name in args_b.keys() - args_a.keys():
            concept = concept_of.get(name, name)
            pinned = args_b[name]
            # pinned on the way to torch (MindSpore's default) or back (torch's value)
            torch_default = APIS[TORCH].defaults.get(concept)
            allowed = {defaults.get(concept), torch_default}
            value = number(pinned)
            if value is None:
                assert ast.literal_eval(pinned) in allowed
            else:
                assert any(d is not None and not isinstance(d, bool) and math.isclose(value, float(d))
                           for d in allowed), f"{name}={ast.unparse(pinned)} added"


def test_generator_covers_the_interesting_shapes():
    """Sanity check of the generator: a few fixed draws are well-formed Python."""
    seen_styles = set()
    for style, callee in IMPORT_STYLES:
        spec = CallSpec("model.parameters()", [("lr", "0.01")], [("centered", "True")], True, True, True, "opt")
        text = style + "\n" + render_call(spec, callee) + "\n"
        tree = ast.parse(text)
        assert [api for api, _ in rms_calls(tree)] == [TORCH], text
        seen_styles.add(style)
    assert len(seen_styles) == len(IMPORT_STYLES)


@pytest.mark.parametrize("style, callee", IMPORT_STYLES)
def test_each_import_style_round_trips(style, callee):
    text = f"{style}\n\nopt = {callee}(model.parameters(), 0.01, 0.9, eps=1e-6, centered=True)\n"
    there = convert_source(text, TO_MS, path="x.py")
    assert there.changed
    assert [api for api, _ in rms_calls(ast.parse(there.source))] == [MS_NN]
    back = convert_source(there.source, TO_TORCH, path="x.py")
    calls = rms_calls(ast.parse(back.source))
    assert [api for api, _ in calls] == [TORCH]
    named = named_arguments(TORCH, calls[0][1])
    assert number(named["lr"]) == 0.01 and number(named["alpha"]) == 0.9
    assert number(named["eps"]) == 1e-6 and ast.literal_eval(named["centered"]) is True


# --- targeted shapes found while fuzzing the core ---------------------------------------


class _Recorder:
    """Stand-in for an optimizer class: records how it was called."""

    calls: list = []

    def __init__(self, *args, **kwargs):
        type(self).calls.append((type(self).__qualname__, args, kwargs))


def _fake_frameworks():
    """Minimal importable ``torch`` and ``mindspore`` packages for exec()."""
    import types

    mods = {}
    for name in ("torch", "torch.optim", "torch.nn", "mindspore", "mindspore.nn", "mindspore.experimental",
                 "mindspore.experimental.optim"):
        mods[name] = types.ModuleType(name)
        mods[name].__path__ = []
    mods["torch"].optim = mods["torch.optim"]
    mods["torch"].nn = mods["torch.nn"]
    mods["mindspore"].nn = mods["mindspore.nn"]
    mods["mindspore"].experimental = mods["mindspore.experimental"]
    mods["mindspore.experimental"].optim = mods["mindspore.experimental.optim"]
    mods["torch.optim"].RMSprop = type("RMSprop", (_Recorder,), {})
    mods["torch.optim"].Adam = type("Adam", (_Recorder,), {})
    mods["mindspore.nn"].RMSProp = type("RMSProp", (_Recorder,), {})
    mods["mindspore.experimental.optim"].RMSprop = type("RMSprop", (_Recorder,), {})
    return mods


def run_module(source: str) -> list:
    """Execute *source* against the fake frameworks; return the optimizer calls."""
    import sys

    class Model:
        def parameters(self):
            return "P"

        def trainable_params(self):
            return "P"

    saved = {name: sys.modules.get(name) for name in _fake_frameworks()}
    sys.modules.update(_fake_frameworks())
    _Recorder.calls = []
    try:
        exec(compile(source, "x.py", "exec", dont_inherit=True), {"__name__": "x", "model": Model(), "p": "P"})
        return list(_Recorder.calls)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def test_run_module_helper_sees_calls():
    assert run_module("import torch\ntorch.optim.RMSprop(model.parameters(), lr=0.1)\n") == [
        ("RMSprop", ("P",), {"lr": 0.1})
    ]
    converted = convert_source("import torch\ntorch.optim.RMSprop(model.parameters(), lr=0.1)\n", TO_MS).source
    assert run_module(converted) == [("RMSProp", (), {"params": "P", "learning_rate": 0.1, "decay": 0.99,
                                                       "epsilon": 1e-08})]


@pytest.mark.parametrize(
    "source",
    [
        # the import of torch moves into a `global` function, or under TYPE_CHECKING
        "def setup():\n    global torch\n    import torch\n\ndef make():\n    return torch.optim.RMSprop(p)\n\n"
        "setup()\nmake()\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import torch\nimport torch\n"
        "opt = torch.optim.RMSprop(p)\n",
        # `del torch` still needs the import
        "import torch\nopt = torch.optim.RMSprop(p)\ndel torch\n",
    ],
    ids=["global-import", "type-checking-import", "del-import"],
)
def test_converted_module_still_runs(source):
    assert run_module(source)
    result = convert_source(source, TO_MS, path="x.py")
    assert result.changed
    calls = run_module(result.source)
    assert [name for name, _, _ in calls] == ["RMSProp"]


def test_converted_module_runs_for_plain_shapes():
    for source in [
        "import torch\nopt = torch.optim.RMSprop(model.parameters(), 0.1, 0.9)\n",
        "from torch.optim import RMSprop as R\nopt = R(model.parameters(), momentum=0.9)\n",
        "def f():\n    import torch\n    return torch.optim.RMSprop(p)\nf()\n",
        "import torch\nclass A:\n    import torch\n    opt = torch.optim.RMSprop(p)\n",
    ]:
        before = run_module(source)
        after = run_module(convert_source(source, TO_MS, path="x.py").source)
        assert len(before) == len(after) == 1
        assert after[0][0] == "RMSProp"


def test_positional_and_keyword_for_the_same_argument_stays_compilable():
    # a runtime TypeError in torch ("multiple values for argument 'lr'"), but valid syntax
    source = "import torch\nopt = torch.optim.RMSprop(p, 0.1, lr=0.2)\n"
    compile(source, "x.py", "exec")
    result = convert_source(source, TO_MS, path="x.py")
    compile(result.source, "x.py", "exec")


def test_import_comments_survive():
    source = "from torch.optim import (\n    Adam,  # adam\n    RMSprop,  # rms\n)\nopt = RMSprop(p)\na = Adam(p)\n"
    result = convert_source(source, TO_MS, path="x.py")
    assert result.changed
    assert "Adam,  # adam" in result.source


def test_nested_calls_idempotent():
    source = "import torch\nopt = torch.optim.RMSprop(torch.optim.RMSprop(p).param_groups, lr=0.1)\n"
    once = convert_source(source, TO_MS, path="x.py")
    twice = convert_source(once.source, TO_MS, path="x.py")
    assert twice.source == once.source


def test_refused_call_claims_no_rewrite_and_others_still_convert():
    """A call libcst refuses (RMS002) is left unchanged without findings that
    claim a rewrite; the other calls of the file are still converted."""
    source = (
        "import torch\nopt = torch.optim.RMSprop(model.parameters(), foreach=None)\n"
        "opt2 = torch.optim.RMSprop(\n    model.parameters(),\n    foreach=(  # why\n        True\n    ),\n)\n"
    )
    result = convert_source(source, TO_MS, path="x.py")
    assert result.changed
    calls = rms_calls(ast.parse(result.source))
    assert [api for api, _ in calls] == [MS_NN, TORCH]
    assert "foreach=(  # why\n        True\n    ),\n)\n" in result.source
    refused = [f for f in result.findings if f.line >= 3]
    assert [f.code for f in refused] == ["RMS002"]
    compile(result.source, "x.py", "exec")


def test_generator_argument_is_converted():
    source = "import torch\nopt = torch.optim.RMSprop(p for p in model.parameters() if p.requires_grad)\n"
    result = convert_source(source, TO_MS, path="x.py")
    assert result.changed
    compile(result.source, "x.py", "exec")


# -- issue 10: literal blow-up and notebook byte preservation ---------------------------


@st.composite
def arithmetic(draw, depth: int = 0) -> str:
    """Arithmetic on number literals, nested, with big exponents on purpose."""
    if depth > 4 or draw(st.booleans()):
        return draw(st.sampled_from(["9", "10", "2", "0.5", "1e-3", "1e308", "7", "1", "0", "-1", "3.5", "2**64"]))
    op = draw(st.sampled_from(["**", "**", "*", "+", "-", "/"]))
    left = draw(arithmetic(depth + 1))
    right = draw(st.sampled_from(["64", "63", "2", "0.5", "-8", "10"])) if op == "**" else draw(arithmetic(depth + 1))
    return f"({left}) {op} ({right})"


@PROFILE
@given(arithmetic())
def test_literal_folding_is_cheap_and_fits_a_float(expression):
    """Whatever arithmetic a file holds, folding it costs milliseconds, and a
    folded value is a finite number a float can hold (or it is not literal)."""
    import time

    from rmsport.engine.literals import NOT_LITERAL, literal_value

    started = time.perf_counter()
    value = literal_value(ast.parse(expression, mode="eval").body)
    assert time.perf_counter() - started < 0.2, expression
    if value is not NOT_LITERAL:
        assert isinstance(value, (int, float)) and not isinstance(value, bool)
        assert math.isfinite(float(value)), expression
    source = f"import torch\nopt = torch.optim.RMSprop(p, lr={expression}, eps={expression})\n"
    started = time.perf_counter()
    for options in (Options(verify=True), Options(eps_mapping="matched", verify=True)):
        result = convert_source(source, options)
        ast.parse(result.source)
    assert time.perf_counter() - started < 10, expression


_JSON_STYLES = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 1, 2, 4]),
        "separators": st.sampled_from([(",", ": "), (", ", ": "), (",", ":")]),
        "ensure_ascii": st.booleans(),
        "escape_slash": st.booleans(),
        "crlf_lines": st.sets(st.integers(0, 40), max_size=5),
    }
)
_CELL_TEXT = st.sampled_from(
    [
        "import torch\nopt = torch.optim.RMSprop(p, lr=0.1)  # café / ε\n",
        "from torch import optim\n\nopt = optim.RMSprop(model.parameters(), lr=1e-3, momentum=0.9)",
        "%matplotlib inline\nimport torch\nx = torch.optim.RMSprop(p)\n",
        "x = 'RMSprop in a string'\n",
        "print('naïve / path')\n",
        "def broken(:\n",
    ]
)


@PROFILE
@given(_JSON_STYLES, st.lists(st.tuples(st.sampled_from(["code", "markdown"]), _CELL_TEXT, st.booleans()), min_size=1, max_size=5))
def test_notebook_bytes_outside_changed_sources_never_change(style, cells):
    """Any JSON spelling of a notebook: after convert, every byte outside the
    ``source`` values of the cells that changed is identical, and the JSON holds
    the same data except those sources."""
    import json

    from rmsport.files.notebook import convert_notebook
    from rmsport.files.notebook_json import locate

    nb = {
        "cells": [
            {"cell_type": kind, "metadata": {"tags": ["a/b"]}, "source": text if as_string else text.splitlines(True),
             **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for kind, text, as_string in cells
        ],
        "metadata": {"title": "Überblick / ε"},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    text = json.dumps(nb, indent=style["indent"], separators=style["separators"], ensure_ascii=style["ensure_ascii"])
    if style["escape_slash"]:
        text = text.replace("/", "\\/")
    lines = text.split("\n")
    text = "".join(
        line + ("\r\n" if i in style["crlf_lines"] else "\n") for i, line in enumerate(lines[:-1])
    ) + lines[-1]

    result = convert_notebook(text, Options(), path="nb.ipynb")
    new = result.source
    old_spans, new_spans = locate(text), locate(new)
    old_data, new_data = json.loads(text), json.loads(new)
    pos_old = pos_new = 0
    for index, (a, b) in enumerate(zip(old_spans, new_spans)):
        assert text[pos_old : a.start] == new[pos_new : b.start]
        same = text[a.start : a.end] == new[b.start : b.end]
        if not same:
            assert old_data["cells"][index]["cell_type"] == "code"
            assert type(old_data["cells"][index]["source"]) is type(new_data["cells"][index]["source"])
        new_data["cells"][index]["source"] = old_data["cells"][index]["source"]
        pos_old, pos_new = a.end, b.end
    assert text[pos_old:] == new[pos_new:]
    assert new_data == old_data
    new.encode("utf-8")  # always writable
    if style["ensure_ascii"]:
        assert new.isascii()  # new characters are escaped in the file's style
