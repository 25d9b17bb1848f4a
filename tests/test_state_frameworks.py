"""Proof with the real frameworks: a training run moves across frameworks mid-way and continues unchanged.

For each direction and each MindSpore class, a small real model trains a few steps in the
source framework, ``rmsport state convert`` migrates the optimizer state, the equivalent
network and optimizer in the other framework load it, and both runs continue for 20 steps
on the same gradients (recorded from the source run).  Then the parameters are compared:

* ``mindspore.experimental.optim.RMSprop`` <-> torch: within float32 noise
  (``FLOAT32_NOISE`` of the distance each tensor moved);
* ``mindspore.nn.RMSProp`` <-> torch: within what :func:`rmsport.numerics.replay.replay`
  (the numpy reference, ``simulate``'s core) predicts from the same state and gradients for
  the rule difference that remains (epsilon inside the root), element by element.

All cases share one process: MindSpore's import is the slow part.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import require_framework, run_cli

from rmsport.cli.app import main
from rmsport.numerics import reference as R
from rmsport.numerics.replay import Recording, replay

pytestmark = [pytest.mark.frameworks, pytest.mark.slow]

PRE_STEPS, STEPS = 5, 20
# float32 rounding over 20 steps of a few operations each: ~20 * 4 * 6e-8 of the distance moved,
# with a wide margin (measured: 2e-7 to 3e-7).
FLOAT32_NOISE = 1e-5
NAME_MAP = {"bn.weight": "bn.gamma", "bn.bias": "bn.beta"}
TORCH_NAMES = ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
MS_NAMES = [NAME_MAP.get(n, n) for n in TORCH_NAMES]
HYPER = {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "momentum": 0.9}

rng = np.random.default_rng(0)
X = rng.standard_normal((16, 4)).astype(np.float32)
Y = rng.standard_normal((16, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def torch():
    return require_framework("torch")


@pytest.fixture(scope="module")
def ms():
    ms = require_framework("mindspore")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    return ms


def cli(*args: str):
    """The real command, in this process (the frameworks are already imported here)."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stderr


# -- the two networks -----------------------------------------------------------------------


def torch_net(torch):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.bn, self.fc2 = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 1)

        def forward(self, x):
            return self.fc2(torch.tanh(self.bn(self.fc1(x))))

    torch.manual_seed(0)
    return Net()


def ms_net(ms):
    from mindspore import nn

    class Net(nn.Cell):
        def __init__(self):
            super().__init__()
            self.fc1, self.bn, self.fc2 = nn.Dense(4, 3), nn.BatchNorm1d(3), nn.Dense(3, 1)

        def construct(self, x):
            return self.fc2(ms.ops.tanh(self.bn(self.fc1(x))))

    net = Net()
    net.set_train(True)
    return net


def ms_optimizer(ms, net, target, centered):
    if target == "nn":
        return ms.nn.RMSProp(net.trainable_params(), learning_rate=HYPER["lr"], decay=HYPER["alpha"],
                             momentum=HYPER["momentum"], epsilon=HYPER["eps"], centered=centered)
    from mindspore.experimental.optim import RMSprop

    return RMSprop(net.trainable_params(), centered=centered, **HYPER)


def torch_step_grads(torch, model):
    model.zero_grad()
    ((model(torch.from_numpy(X)) - torch.from_numpy(Y)) ** 2).mean().backward()
    return [p.grad.detach().numpy().copy() for p in model.parameters()]


def ms_grad_fn(ms, net, opt):
    """Gradients of the loss for the optimizer's parameters, compiled (graph mode).

    MindSpore 2.10's PyNative BatchNorm1d forward fails here with NumPy 2
    ("py_parse.cc: Numpy init failed"); the compiled path does not touch NumPy.
    """

    def loss(x, y):
        return ((net(x) - y) ** 2).mean()

    grad = ms.jit(ms.value_and_grad(loss, None, opt.parameters))
    return lambda: grad(ms.Tensor(X), ms.Tensor(Y))[1]


def recording(grads: list[list[np.ndarray]], names: list[str], start: dict[str, np.ndarray]) -> Recording:
    return Recording(grads={n: np.stack([g[i] for g in grads]).astype(np.float64) for i, n in enumerate(names)},
                     params={n: start[n].astype(np.float64) for n in names})


# -- the checks ------------------------------------------------------------------------------


def assert_float32_noise(got: dict, want: dict, start: dict) -> None:
    for name in want:
        moved = np.abs(want[name] - start[name]).max()
        gap = np.abs(got[name] - want[name]).max()
        assert gap <= FLOAT32_NOISE * moved + 1e-7, f"{name}: gap {gap:.3g}, moved {moved:.3g}"


def assert_within_prediction(got: dict, want: dict, start: dict, predicted: dict) -> None:
    """|framework gap| <= |reference gap| + float32 noise, element by element."""
    for name in want:
        moved = np.abs(want[name] - start[name]).max()
        gap = np.abs(got[name] - want[name])
        allowed = predicted[name] + FLOAT32_NOISE * moved + 1e-7
        assert np.all(gap <= allowed), f"{name}: gap {gap.max():.3g} > predicted {predicted[name].max():.3g}"


def predicted_gap(src_api, src_kwargs, dst_api, dst_kwargs, rec: Recording, start_state) -> dict:
    rep = replay(src_api, src_kwargs, dst_api, dst_kwargs, rec, start={p.name: p for p in start_state.params})
    out, offset = {}, 0
    for name, g in rec.grads.items():
        size = int(np.prod(g.shape[1:]))
        diff = rep.comparison.src[-1, offset:offset + size] - rep.comparison.dst[-1, offset:offset + size]
        out[name] = np.abs(diff).reshape(g.shape[1:])
        offset += size
    return out


# -- torch -> MindSpore ---------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "centered"])
def torch_run(request, torch, tmp_path_factory):
    """A torch run: PRE_STEPS steps, saved (model + optimizer), then STEPS more with recorded gradients."""
    centered = request.param
    tmp = tmp_path_factory.mktemp("torch_run")
    model = torch_net(torch)
    opt = torch.optim.RMSprop(model.parameters(), centered=centered, **HYPER)
    for _ in range(PRE_STEPS):
        torch_step_grads(torch, model)
        opt.step()
    torch.save({"epoch": 1, "model": model.state_dict(), "optimizer": opt.state_dict()}, tmp / "run.pt")
    (tmp / "map.json").write_text(json.dumps(NAME_MAP))
    start = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    grads = []
    for _ in range(STEPS):
        grads.append(torch_step_grads(torch, model))
        opt.step()
    final = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    return {"dir": tmp, "centered": centered, "start": start, "grads": grads, "final": final}


@pytest.mark.parametrize("target", ["nn", "experimental"])
def test_torch_run_continues_in_mindspore(ms, torch_run, target):
    from rmsport.state import load_into_mindspore
    from rmsport.state.migrate import from_torch
    from rmsport.state.io import read_torch

    tmp, centered = torch_run["dir"], torch_run["centered"]
    dst = tmp / f"{target}.ckpt"
    code, err = cli("state", "convert", str(tmp / "run.pt"), str(dst), "--to", "mindspore", "--target", target,
                    "--name-map", str(tmp / "map.json"))
    assert code == 0, err
    assert f"wrote {dst}: 6 parameters (optimizer under key 'optimizer')" in err

    net = ms_net(ms)
    params = {p.name: p for p in net.trainable_params()}
    for name, value in torch_run["start"].items():
        params[NAME_MAP.get(name, name)].set_data(ms.Tensor(value))
    opt = ms_optimizer(ms, net, target, centered)
    before = {n: p.asnumpy().copy() for n, p in params.items()}
    load_into_mindspore(opt, dst)
    for name, value in before.items():  # the weights are not touched by a state-only checkpoint
        np.testing.assert_array_equal(params[name].asnumpy(), value)
    if target == "nn":
        assert opt.global_step.asnumpy().tolist() == [PRE_STEPS]
    for grads in torch_run["grads"]:
        opt(tuple(ms.Tensor(g) for g in grads))
    got = {t: params[m].asnumpy() for t, m in zip(TORCH_NAMES, MS_NAMES)}

    if target == "experimental":
        assert_float32_noise(got, torch_run["final"], torch_run["start"])
        return
    assert opt.global_step.asnumpy().tolist() == [PRE_STEPS + STEPS]
    sd, _, _ = read_torch(tmp / "run.pt", "optimizer")
    rec = recording(torch_run["grads"], TORCH_NAMES, torch_run["start"])
    predicted = predicted_gap(R.TORCH, {**HYPER, "centered": centered},
                              R.MS_NN, {"learning_rate": 0.01, "decay": 0.99, "momentum": 0.9, "epsilon": 1e-8,
                                        "centered": centered},
                              rec, from_torch(sd, TORCH_NAMES))
    assert_within_prediction(got, torch_run["final"], torch_run["start"], predicted)
    # The prediction is not vacuous: fc1.bias feeds a BatchNorm, so its gradient is ~0 and
    # epsilon's place decides its steps; MindSpore shows the predicted gap there.
    gap = np.abs(got["fc1.bias"] - torch_run["final"]["fc1.bias"])
    assert predicted["fc1.bias"].max() > 0.1
    np.testing.assert_allclose(gap, predicted["fc1.bias"], rtol=0.05)


def test_replay_from_the_migrated_state_on_the_command_line(torch_run, tmp_path):
    rec = recording(torch_run["grads"], TORCH_NAMES, torch_run["start"])
    np.savez(tmp_path / "grads.npz", **{f"grad/{n}": g for n, g in rec.grads.items()},
             **{f"param/{n}": p for n, p in rec.params.items()})
    call = f"torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.99, eps=1e-8, momentum=0.9, " \
           f"centered={torch_run['centered']})"
    out = {}
    for target in ("nn", "experimental"):
        result = CliRunner().invoke(main, ["compare", call, "--target", target, "--grads", str(tmp_path / "grads.npz"),
                                           "--state", str(torch_run["dir"] / "run.pt")])
        assert result.exit_code == 0, result.stderr
        out[target] = result.stdout
    assert "starting from the state in" in out["nn"] and "verdict: divergent" in out["nn"]
    assert "verdict: equivalent" in out["experimental"]


# -- MindSpore -> torch ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["nn", "experimental"])
def test_mindspore_run_continues_in_torch(ms, torch, tmp_path, source):
    from rmsport.state.io import read_ckpt
    from rmsport.state.migrate import from_mindspore
    from rmsport.state.model import GroupHyper

    net = ms_net(ms)
    opt = ms_optimizer(ms, net, source, centered=False)
    step_grads = ms_grad_fn(ms, net, opt)
    for _ in range(PRE_STEPS):
        opt(step_grads())
    ms.save_checkpoint(opt, str(tmp_path / "run.ckpt"))  # weights and optimizer state, as users save it
    start = {p.name: p.asnumpy().copy() for p in net.trainable_params()}
    grads = []
    for _ in range(STEPS):
        g = step_grads()
        grads.append([x.asnumpy().copy() for x in g])
        opt(g)
    final = {p.name: p.asnumpy().copy() for p in net.trainable_params()}

    (tmp_path / "names.txt").write_text("\n".join(MS_NAMES) + "\n")
    if source == "nn":
        args = ["--call", "nn.RMSProp(params, learning_rate=0.01, decay=0.99, momentum=0.9, epsilon=1e-8)"]
    else:
        args = ["--call", "mindspore.experimental.optim.RMSprop(params, lr=0.01, momentum=0.9)",
                "--names", str(tmp_path / "names.txt")]
    code, err = cli("state", "convert", str(tmp_path / "run.ckpt"), str(tmp_path / "run.pt"), "--to", "torch", *args)
    assert code == 0, err
    assert "fc1.weight, fc1.bias, bn.gamma, bn.beta, fc2.weight, fc2.bias" in err

    model = torch_net(torch)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.from_numpy(start[NAME_MAP.get(name, name)]))
    topt = torch.optim.RMSprop(model.parameters(), lr=0.5)  # load_state_dict brings the hyperparameters
    topt.load_state_dict(torch.load(tmp_path / "run.pt", weights_only=True))
    assert topt.param_groups[0]["lr"] == pytest.approx(0.01) and topt.param_groups[0]["momentum"] == 0.9
    for g in grads:
        for p, gi in zip(model.parameters(), g):
            p.grad = torch.from_numpy(gi)
        topt.step()
    got = {NAME_MAP.get(n, n): p.detach().numpy() for n, p in model.named_parameters()}

    if source == "experimental":
        # experimental keeps no step: torch's restarts at 0 (no effect on RMSprop's update)
        assert topt.state[next(model.parameters())]["step"].item() == STEPS
        assert_float32_noise(got, final, start)
        return
    assert topt.state[next(model.parameters())]["step"].item() == PRE_STEPS + STEPS
    hyper = GroupHyper(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.9, centered=False, weight_decay=0.0)
    state = from_mindspore(read_ckpt(tmp_path / "run.ckpt"), source="nn", hyper=hyper)
    rec = recording(grads, MS_NAMES, start)
    predicted = predicted_gap(R.MS_NN, {"learning_rate": 0.01, "decay": 0.99, "momentum": 0.9, "epsilon": 1e-8},
                              R.TORCH, HYPER, rec, state)
    assert_within_prediction(got, final, start, predicted)


# -- errors with real files: one line, the right exit code, DST untouched ---------------------------


@pytest.fixture(scope="module")
def saved_run(torch, ms, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("saved")
    model = torch_net(torch)
    opt = torch.optim.RMSprop(model.parameters(), **HYPER)
    torch_step_grads(torch, model)
    opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp / "run.pt")
    torch.save(opt.state_dict(), tmp / "bare.pt")
    other = torch.nn.Sequential(torch.nn.Linear(5, 3))
    torch.save({"model": other.state_dict(), "optimizer": opt.state_dict()}, tmp / "wrong_model.pt")
    net = ms_net(ms)
    ms.save_checkpoint(ms_optimizer(ms, net, "nn", False), str(tmp / "run.ckpt"))
    import argparse

    torch.save({"args": argparse.Namespace(lr=0.01), "optimizer": opt.state_dict()}, tmp / "pickled.pt")
    (tmp / "garbage.pt").write_bytes(b"\x80\x02 not a torch file")
    (tmp / "garbage.ckpt").write_bytes(b"not a checkpoint")
    return tmp


def _names(tmp: Path, names: list[str]) -> str:
    path = tmp / f"names{len(names)}.txt"
    path.write_text("\n".join(names) + "\n")
    return str(path)


@pytest.mark.parametrize(
    ("case", "code", "message"),
    [
        ("garbage_pt", 123, "cannot read SRC"),
        ("garbage_ckpt", 123, "cannot read SRC"),
        ("pickled", 123, "it pickles a argparse.Namespace object, and rmsport loads only tensors and plain data"),
        ("wrong_key", 2, "--key opt: SRC {tmp}/run.pt has no such key (keys: 'model', 'optimizer')"),
        ("bare_no_names", 2, "holds no model state_dict beside the optimizer to take names from: give --names"),
        ("missing_name", 1, "SRC's optimizer holds 6 parameters but 5 names were given: parameter 5 (shape (1,)) "
                            "has no name"),
        ("extra_name", 1, "7 names were given but SRC's optimizer holds 6 parameters: 'head.bias' has no parameter"),
        ("mis_shaped", 1, "the model state_dict in SRC has 2 parameters but the optimizer holds 6"),
        ("ms_missing_name", 1, "parameter 'head.bias' from --names has no mean_square.head.bias in SRC"),
        ("ms_extra", 1, "SRC holds state for 'fc2.bias', which --names does not list"),
        ("unwritable", 123, "cannot write DST"),
    ],
)
def test_errors_write_nothing(saved_run, case, code, message):
    tmp = saved_run
    dst = tmp / ("out.pt" if case.startswith(("ms_", "garbage_ckpt")) else "out.ckpt")
    dst.write_bytes(b"old")
    args = {
        "garbage_pt": [tmp / "garbage.pt", dst],
        "garbage_ckpt": [tmp / "garbage.ckpt", dst, "--to", "torch"],
        "pickled": [tmp / "pickled.pt", dst],
        "wrong_key": [tmp / "run.pt", dst, "--key", "opt"],
        "bare_no_names": [tmp / "bare.pt", dst],
        "missing_name": [tmp / "bare.pt", dst, "--names", _names(tmp, MS_NAMES[:5])],
        "extra_name": [tmp / "bare.pt", dst, "--names", _names(tmp, [*MS_NAMES, "head.bias"])],
        "mis_shaped": [tmp / "wrong_model.pt", dst],
        "ms_missing_name": [tmp / "run.ckpt", dst, "--names", _names(tmp, [*MS_NAMES[:5], "head.bias"])],
        "ms_extra": [tmp / "run.ckpt", dst, "--names", _names(tmp, MS_NAMES[:5])],
        "unwritable": [tmp / "run.pt", tmp / "no" / "such" / "dir" / "out.ckpt"],
    }[case]
    got_code, err = cli("state", "convert", *map(str, args))
    assert got_code == code, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp) in err
    assert dst.read_bytes() == b"old"
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".")) == []  # no temporary left behind


def test_the_real_script_and_the_load_trap(saved_run, ms, tmp_path):
    """The installed script end to end, and why the checkpoint must be loaded by exact names."""
    from rmsport.state import load_into_mindspore

    dst = tmp_path / "state.ckpt"
    r = run_cli("state", "convert", str(saved_run / "run.pt"), str(dst), text=True)
    assert r.returncode == 0, r.stderr
    assert "note: bn.weight, bn.bias belong to a BatchNorm" in r.stderr
    (tmp_path / "map.json").write_text(json.dumps(NAME_MAP))
    r = run_cli("state", "convert", str(saved_run / "run.pt"), str(dst), "--name-map", str(tmp_path / "map.json"),
                text=True)
    assert r.returncode == 0, r.stderr
    assert "BatchNorm" not in r.stderr
    assert "build the optimizer as: nn.RMSProp(params=params, learning_rate=0.01, decay=0.99, epsilon=1e-08" in r.stderr
    net = ms_net(ms)
    opt = ms_optimizer(ms, net, "nn", centered=False)
    weight = net.fc1.weight.asnumpy().copy()
    ms.load_param_into_net(opt, ms.load_checkpoint(str(dst)))  # MindSpore's default: strict_load=False
    trapped = net.fc1.weight.asnumpy()
    assert not np.array_equal(trapped, weight)  # mean_square.fc1.weight was copied into the weight
    np.testing.assert_array_equal(trapped, ms.load_checkpoint(str(dst))["mean_square.fc1.weight"].asnumpy())

    net = ms_net(ms)
    opt = ms_optimizer(ms, net, "nn", centered=False)
    weight = net.fc1.weight.asnumpy().copy()
    load_into_mindspore(opt, dst)
    np.testing.assert_array_equal(net.fc1.weight.asnumpy(), weight)
    centered = ms_optimizer(ms, ms_net(ms), "nn", centered=True)
    with pytest.raises(ValueError, match="the optimizer has 'mean_grad.fc1.weight' but the checkpoint does not"):
        load_into_mindspore(centered, dst)
