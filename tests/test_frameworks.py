"""The converted fixtures run in the real frameworks (torch 2.13, MindSpore 2.10).

Three kinds of evidence, all read from ``fixtures/convert/``:

* every RMSProp call in a fixture's output (``expected.py``, ``back.py``) whose
  arguments are literals is built for real, on a small ``mindspore.nn.Dense(2, 3)``
  or ``torch.nn.Linear(2, 3)`` (param groups get some of those params each), and
  the optimizer holds the values written in the call;
* a converted call keeps the source call's hyperparameters: ``alpha``/``decay``,
  ``eps``/``epsilon`` (squared with ``--eps-mapping matched``), ``momentum``, ``lr``;
* what a naive rename would do instead: the real framework raises, or silently
  uses different values.  This is why calls are coerced, pinned or left alone.

The calls are found with ``ast`` and a small import resolver written here, not
with rmsport's own analysis, so a bug there cannot hide itself.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomllib
from conftest import FIXTURES, require_framework

pytestmark = pytest.mark.frameworks

CASES_DIR = FIXTURES / "convert"

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXPERIMENTAL = "mindspore.experimental.optim.RMSprop"

# Positional order of each constructor (semantics.md, "The three APIs").
ORDER = {
    TORCH: ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered",
            "capturable", "foreach", "maximize", "differentiable"),
    MS_NN: ("params", "learning_rate", "decay", "momentum", "epsilon", "use_locking",
            "centered", "loss_scale", "weight_decay"),
    MS_EXPERIMENTAL: ("params", "lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize"),
}
# keyword -> concept, to compare calls across frameworks.
CONCEPT = {
    TORCH: {"lr": "lr", "alpha": "alpha", "eps": "eps", "momentum": "momentum"},
    MS_EXPERIMENTAL: {"lr": "lr", "alpha": "alpha", "eps": "eps", "momentum": "momentum"},
    MS_NN: {"learning_rate": "lr", "decay": "alpha", "epsilon": "eps", "momentum": "momentum"},
}
GROUP_PARAM_KEYS = ("params", "order_params")


# -- finding the calls ---------------------------------------------------------


def _imports(tree: ast.Module) -> dict[str, str]:
    """Bound name -> qualified name, for every import in the file (any scope)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    names[root] = root
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


# Other module paths that reach the same classes.
ALIASES = {
    "torch.optim.rmsprop.RMSprop": TORCH,
    "mindspore.nn.optim.RMSProp": MS_NN,
    "mindspore.experimental.optim.rmsprop.RMSprop": MS_EXPERIMENTAL,
}


def _qualname(func: ast.expr, names: dict[str, str]) -> str | None:
    dotted = _dotted(func)
    if dotted is None:
        return None
    root, _, rest = dotted.partition(".")
    if root not in names:
        return None
    qualname = names[root] + ("." + rest if rest else "")
    return ALIASES.get(qualname, qualname)


class NotLiteral(Exception):
    pass


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise NotLiteral(ast.unparse(node)) from None


@dataclass(frozen=True)
class Groups:
    """A literal param-group list; each group's params are substituted."""

    groups: tuple[tuple[tuple[str, object], ...], ...]  # ((key, value or PARAMS), ...)


PARAMS = object()  # placeholder for "the model's parameters"


def _params_value(node: ast.expr) -> object:
    if isinstance(node, (ast.List, ast.Tuple)) and node.elts and all(isinstance(e, ast.Dict) for e in node.elts):
        groups = []
        for group in node.elts:
            assert isinstance(group, ast.Dict)
            items = []
            for key, value in zip(group.keys, group.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    raise NotLiteral("computed group key")
                items.append((key.value, PARAMS if key.value in GROUP_PARAM_KEYS else _literal(value)))
            groups.append(tuple(items))
        return Groups(tuple(groups))
    return PARAMS  # whatever expression: substituted with the model's parameters


@dataclass(frozen=True)
class LiteralCall:
    api: str
    line: int
    text: str
    args: tuple[object, ...]  # positional values (params as PARAMS / Groups)
    kwargs: tuple[tuple[str, object], ...]

    @property
    def named(self) -> dict[str, object]:
        """Every argument by keyword, positional ones mapped by the API's order."""
        out = dict(zip(ORDER[self.api], self.args))
        out.update(self.kwargs)
        return out


def literal_calls(source: str) -> list[LiteralCall]:
    """The RMSProp calls of ``source`` whose arguments (params aside) are all literals."""
    tree = ast.parse(source)
    names = _imports(tree)
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        api = _qualname(node.func, names)
        if api not in ORDER:
            continue
        try:
            args = []
            for i, arg in enumerate(node.args):
                if isinstance(arg, ast.Starred):
                    raise NotLiteral("*args")
                args.append(_params_value(arg) if i == 0 else _literal(arg))
            kwargs = []
            for kw in node.keywords:
                if kw.arg is None:
                    raise NotLiteral("**kwargs")
                kwargs.append((kw.arg, _params_value(kw.value) if kw.arg == "params" else _literal(kw.value)))
        except NotLiteral:
            continue
        calls.append(LiteralCall(api, node.lineno, ast.get_source_segment(source, node) or "", tuple(args), tuple(kwargs)))
    return sorted(calls, key=lambda c: c.line)


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def _case_dirs() -> list[Path]:
    return sorted(p for p in CASES_DIR.iterdir() if (p / "case.toml").is_file())


OUTPUT_CALLS = [
    pytest.param(call, id=f"{folder.name}/{filename}:{call.line}")
    for folder in _case_dirs()
    for filename in ("expected.py", "back.py")
    if (folder / filename).is_file()
    for call in literal_calls(_read(folder / filename))
]


def _pairs(src_file: str, dst_file: str) -> list:
    """(case, source call, converted call) for calls that changed framework."""
    out = []
    for folder in _case_dirs():
        if not (folder / dst_file).is_file():
            continue
        src_calls = literal_calls(_read(folder / src_file))
        dst_calls = literal_calls(_read(folder / dst_file))
        if len(src_calls) != len(dst_calls):
            continue
        for src, dst in zip(src_calls, dst_calls):
            if (src.api == TORCH) != (dst.api == TORCH):
                out.append(pytest.param(folder.name, src, dst, id=f"{folder.name}/{dst_file}:{dst.line}"))
    return out


CONVERTED_PAIRS = _pairs("input.py", "expected.py") + _pairs("expected.py", "back.py")


# -- the frameworks, once per module -----------------------------------------------


@pytest.fixture(scope="module")
def ms():
    mindspore = require_framework("mindspore")
    mindspore.set_context(device_target="CPU", mode=mindspore.PYNATIVE_MODE)
    return mindspore


@pytest.fixture(scope="module")
def torch():
    return require_framework("torch")


def _model_params(api: str, ms, torch) -> list:
    if api == TORCH:
        return list(torch.nn.Linear(2, 3).parameters())
    return ms.nn.Dense(2, 3).trainable_params()


def _substitute(value: object, params: list) -> object:
    if value is PARAMS:
        return params
    if isinstance(value, Groups):
        with_params = [g for g in value.groups if any(k == "params" for k, _ in g)]
        out = []
        for group in value.groups:
            d = {}
            for key, v in group:
                if key == "order_params":
                    d[key] = params
                elif key == "params":
                    i = with_params.index(group)
                    d[key] = params[i :: len(with_params)]
                else:
                    d[key] = v
            out.append(d)
        return out
    return value


def build(call: LiteralCall, ms, torch):
    cls = {
        TORCH: lambda: torch.optim.RMSprop,
        MS_NN: lambda: ms.nn.RMSProp,
        MS_EXPERIMENTAL: lambda: ms.experimental.optim.RMSprop,
    }[call.api]()
    params = _model_params(call.api, ms, torch)
    args = [_substitute(a, params) for a in call.args]
    kwargs = {k: _substitute(v, params) for k, v in call.kwargs}
    return cls(*args, **kwargs)


def hyperparameters(opt, api: str) -> dict[str, object]:
    """What the built optimizer really uses, by concept."""
    if api == MS_NN:
        lr = opt.learning_rate
        out = {"alpha": opt.decay, "eps": opt.epsilon, "momentum": opt.momentum}
        if not opt.dynamic_lr and not opt.is_group_lr:
            out["lr"] = float(lr.asnumpy())
        return out
    return {concept: opt.defaults[kw] for kw, concept in CONCEPT[api].items()}


# -- 1. every literal call in an output builds -------------------------------------


def test_outputs_have_literal_calls():
    apis = {p.values[0].api for p in OUTPUT_CALLS}
    assert apis == {TORCH, MS_NN, MS_EXPERIMENTAL}
    assert len(OUTPUT_CALLS) >= 40


@pytest.mark.parametrize("call", OUTPUT_CALLS)
def test_output_call_builds(call: LiteralCall, ms, torch):
    opt = build(call, ms, torch)
    named = call.named
    if call.api == MS_NN:
        for kw in ("decay", "epsilon", "momentum"):
            if kw in named:
                assert getattr(opt, kw) == named[kw], kw
                assert isinstance(getattr(opt, kw), float)
    else:
        for kw, value in named.items():
            if kw != "params" and kw in opt.defaults:
                assert opt.defaults[kw] == value, kw


# -- 2. the converted call keeps the source call's hyperparameters -----------------


def _eps_power(case: str) -> float:
    data = tomllib.loads((CASES_DIR / case / "case.toml").read_text(encoding="utf-8"))
    return 2.0 if data["options"]["eps_mapping"] == "matched" else 1.0


@pytest.mark.parametrize(("case", "src", "dst"), CONVERTED_PAIRS)
def test_converted_call_keeps_hyperparameters(case: str, src: LiteralCall, dst: LiteralCall, ms, torch):
    before = hyperparameters(build(src, ms, torch), src.api)
    after = hyperparameters(build(dst, ms, torch), dst.api)
    power = _eps_power(case)
    if power != 1.0:
        # matched: nn's epsilon is torch's eps squared (torch -> nn), or its root.
        if dst.api == MS_NN:
            before["eps"] = before["eps"] ** power
        else:
            after["eps"] = after["eps"] ** power
    assert before.keys() & after.keys() >= {"alpha", "eps", "momentum"}
    for concept in before.keys() & after.keys():
        assert math.isclose(before[concept], after[concept], rel_tol=1e-6), (concept, before, after)


def test_there_are_converted_pairs():
    assert len(CONVERTED_PAIRS) >= 30


# -- 3. what a naive rename would do ---------------------------------------------
# Each row: the fixture that handles the situation, the code it reports, and the
# call a plain rename would produce.  P: a Dense(2, 3)'s params; T: a Linear(2, 3)'s.

RAISES = [
    pytest.param("maximize_true_error", "RMS206", "nn.RMSProp(P, learning_rate=1e-3, maximize=True)", TypeError,
                 id="nn-has-no-maximize"),
    pytest.param("eps_zero_error", "RMS205", "nn.RMSProp(P, learning_rate=1e-3, epsilon=0.0)", ValueError,
                 id="nn-epsilon-must-be-positive"),
    pytest.param("eps_zero_error", "RMS205", "nn.RMSProp(P, learning_rate=1e-3, epsilon=0)", TypeError,
                 id="nn-epsilon-int"),
    pytest.param("multiline_comments", "RMS203", "nn.RMSProp(P, momentum=0)", TypeError, id="nn-momentum-int"),
    pytest.param("int_literals", "RMS203", "nn.RMSProp(P, learning_rate=1e-3, decay=1)", TypeError,
                 id="nn-decay-int"),
    pytest.param("positional_all", "RMS101", "nn.RMSProp(P, 0.01, 0.99, 1e-08, 0, 0.9, True)", TypeError,
                 id="nn-positional-order-differs"),
    pytest.param("param_groups_bad_key", "RMS207",
                 "nn.RMSProp([{'params': P[:1]}, {'params': P[1:], 'momentum': 0.9}], learning_rate=1e-3)", KeyError,
                 id="nn-group-key-momentum"),
    pytest.param("foreach_capturable_differentiable", "RMS202", "nn.RMSProp(P, learning_rate=1e-3, foreach=True)",
                 TypeError, id="nn-has-no-foreach"),
    pytest.param("misspelled_torch", "RMS102", "torch.optim.RMSProp", AttributeError, id="torch-RMSProp-misspelled"),
    pytest.param("misspelled_mindspore_fixed", "RMS102", "nn.RMSprop", AttributeError, id="nn-RMSprop-misspelled"),
    pytest.param("ms_lr_list", "RMS208", "torch.optim.RMSprop(T, lr=[0.1, 0.05])", TypeError, id="torch-lr-list"),
    pytest.param("ms_lr_schedule", "RMS208", "torch.optim.RMSprop(T, lr=nn.ExponentialDecayLR(0.1, 0.9, 4))",
                 TypeError, id="torch-lr-schedule"),
    pytest.param("ms_order_params_groups", "RMS207",
                 "torch.optim.RMSprop([{'params': T[:1], 'weight_decay': 1e-5}, {'params': T[1:]},"
                 " {'order_params': T}], lr=0.01)", KeyError, id="torch-group-order-params"),
    pytest.param("ms_loss_scale", "RMS210", "torch.optim.RMSprop(T, lr=0.01, loss_scale=1024.0)", TypeError,
                 id="torch-has-no-loss-scale"),
    pytest.param("ms_use_locking", "RMS202", "torch.optim.RMSprop(T, lr=0.001, use_locking=True)", TypeError,
                 id="torch-has-no-use-locking"),
]

# (fixture, code, naive call, what to read from it, what the naive call gives, what the source meant)
WRONG = [
    pytest.param("import_torch", "RMS201", "nn.RMSProp(P, learning_rate=1e-3)", "opt.decay", 0.9, 0.99,
                 id="nn-default-decay"),
    pytest.param("import_torch", "RMS201", "nn.RMSProp(P, learning_rate=1e-3)", "opt.epsilon", 1e-10, 1e-8,
                 id="nn-default-epsilon"),
    pytest.param("ms_nn_to_torch", "RMS201", "torch.optim.RMSprop(T, lr=0.1)", "opt.defaults['alpha']", 0.99, 0.9,
                 id="torch-default-alpha"),
    pytest.param("ms_nn_to_torch", "RMS201", "torch.optim.RMSprop(T, lr=0.1)", "opt.defaults['eps']", 1e-8, 1e-10,
                 id="torch-default-eps"),
    # MindSpore's 4th positional is momentum, torch's is eps: momentum=0.0 lands in eps.
    pytest.param("ms_positional_to_torch", "RMS101", "torch.optim.RMSprop(T, 0.01, 0.9, 0.0, 1e-10)",
                 "opt.defaults['eps']", 0.0, 1e-10, id="torch-positional-eps"),
    pytest.param("ms_positional_to_torch", "RMS101", "torch.optim.RMSprop(T, 0.01, 0.9, 0.0, 1e-10)",
                 "opt.defaults['weight_decay']", 1e-10, 0.0, id="torch-positional-weight-decay"),
    pytest.param("maximize_true_experimental", "RMS101", "ms.experimental.optim.RMSprop(P, lr=1e-3)",
                 "opt.defaults['maximize']", False, True, id="experimental-maximize-must-be-kept"),
]


def _namespace(ms, torch) -> dict[str, object]:
    return {
        "ms": ms,
        "nn": ms.nn,
        "torch": torch,
        "P": ms.nn.Dense(2, 3).trainable_params(),
        "T": list(torch.nn.Linear(2, 3).parameters()),
    }


def _codes(case: str) -> set[str]:
    return set(tomllib.loads((CASES_DIR / case / "case.toml").read_text(encoding="utf-8"))["expected_codes"])


@pytest.mark.parametrize(("case", "code", "naive", "error"), RAISES)
def test_naive_rename_raises(case: str, code: str, naive: str, error: type[Exception], ms, torch):
    assert code in _codes(case)
    with pytest.raises(error):
        eval(naive, _namespace(ms, torch))


@pytest.mark.parametrize(("case", "code", "naive", "read", "naive_value", "meant"), WRONG)
def test_naive_rename_is_wrong(case: str, code: str, naive: str, read: str, naive_value, meant, ms, torch):
    assert code in _codes(case)
    namespace = _namespace(ms, torch)
    namespace["opt"] = eval(naive, namespace)
    got = eval(read, namespace)
    assert got == naive_value
    assert got != meant


def test_experimental_load_state_dict_refuses_a_torch_state(ms, torch):
    # RMS504 on the experimental target says this (rmsport/engine/uses.py): the Cell's
    # load_state_dict wants MindSpore's names, and a torch optimizer's state raises.
    from mindspore.experimental import optim as ms_optim

    model = torch.nn.Linear(3, 2)
    torch_optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9)
    model(torch.ones(1, 3)).sum().backward()
    torch_optimizer.step()
    state = torch_optimizer.state_dict()
    optimizer = ms_optim.RMSprop(ms.nn.Dense(3, 2).trainable_params(), lr=0.01, momentum=0.9)
    names = list(optimizer.state_dict())
    assert any(name.startswith("mean_square.") for name in names) and any(name.startswith("moment.") for name in names)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        optimizer.load_state_dict(state)
