"""Measure what `rmsport state convert` preserves: a run moved across frameworks mid-training.

For each direction, MindSpore class and centered/plain, a small real model (Linear-BatchNorm-tanh-Linear)
trains 5 steps in the source framework, the optimizer state is migrated with the command, and both
runs continue for 20 steps on the same gradients.  Printed per case, as the largest over the
parameter tensors of  max|a - b| / (distance the tensor moved in the 20 steps):

  migrated   the target framework, started from the migrated state
  predicted  the numpy reference (rmsport.numerics.replay) from the same state and gradients
  fresh      the target framework with a fresh optimizer (what porting without the state gives)

Needs torch 2.13 and MindSpore 2.10 (pip install 'rmsport[state]').  Run: python scripts/measure_state_migration.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_v", "3")

import mindspore as ms  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from click.testing import CliRunner  # noqa: E402
from mindspore import nn  # noqa: E402
from mindspore.experimental.optim import RMSprop as ExpRMSprop  # noqa: E402

from rmsport.cli.app import main  # noqa: E402
from rmsport.numerics import reference as R  # noqa: E402
from rmsport.numerics.replay import Recording, replay  # noqa: E402
from rmsport.state import load_into_mindspore  # noqa: E402
from rmsport.state.io import read_ckpt, read_torch  # noqa: E402
from rmsport.state.migrate import from_mindspore, from_torch  # noqa: E402
from rmsport.state.model import GroupHyper  # noqa: E402

ms.set_context(mode=ms.PYNATIVE_MODE)
ms.set_seed(0)  # the MindSpore networks start from the same weights every run
MAP = {"bn.weight": "bn.gamma", "bn.bias": "bn.beta"}
TORCH_NAMES = ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "fc2.weight", "fc2.bias"]
MS_NAMES = [MAP.get(n, n) for n in TORCH_NAMES]
LR, ALPHA, EPS, MOM = 0.01, 0.99, 1e-8, 0.9
PRE, STEPS = 5, 20
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((16, 4)).astype(np.float32), rng.standard_normal((16, 1)).astype(np.float32)


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3), torch.nn.Linear(3, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.bn(self.fc1(x))))


class MNet(nn.Cell):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Dense(4, 3), nn.BatchNorm1d(3), nn.Dense(3, 1)

    def construct(self, x):
        return self.fc2(ms.ops.tanh(self.bn(self.fc1(x))))


def nn_eps(target):
    # "nn-matched": epsilon = eps**2, what `rmsport convert --eps-mapping matched` writes
    return EPS**2 if target == "nn-matched" else EPS


def ms_opt(net, target, centered):
    if target.startswith("nn"):
        return nn.RMSProp(net.trainable_params(), learning_rate=LR, decay=ALPHA, momentum=MOM, epsilon=nn_eps(target),
                          centered=centered)
    return ExpRMSprop(net.trainable_params(), lr=LR, alpha=ALPHA, eps=EPS, momentum=MOM, centered=centered)


def torch_opt(model, centered):
    return torch.optim.RMSprop(model.parameters(), lr=LR, alpha=ALPHA, eps=EPS, momentum=MOM, centered=centered)


def relative(diff: float, moved: float) -> float:
    """diff / moved; a tensor that stood still on both sides (a bias before BatchNorm) counts as 0 if equal."""
    return diff / moved if moved > 0 else (0.0 if diff == 0 else float("inf"))


def worst(got, want, start):
    # relative to the larger of the two runs' moves (a tensor may stand still on one side)
    return max(relative(np.abs(got[n] - want[n]).max(),
                        max(np.abs(want[n] - start[n]).max(), np.abs(got[n] - start[n]).max())) for n in want)


def cli(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    assert r.exit_code == 0, r.stderr


def torch_grads(model):
    model.zero_grad()
    ((model(torch.from_numpy(X)) - torch.from_numpy(Y)) ** 2).mean().backward()
    return [p.grad.detach().numpy().copy() for p in model.parameters()]


def predicted(src_api, src_kw, dst_api, dst_kw, names, grads, start, state):
    rec = Recording({n: np.stack([g[i] for g in grads]).astype(np.float64) for i, n in enumerate(names)},
                    {n: start[n].astype(np.float64) for n in names})
    rep = replay(src_api, src_kw, dst_api, dst_kw, rec, start={p.name: p for p in state.params})
    a, b = rep.comparison.src, rep.comparison.dst
    out, off = 0.0, 0
    for n in names:
        size = start[n].size
        moved = max(np.abs(a[-1, off:off + size] - a[0, off:off + size]).max(),
                    np.abs(b[-1, off:off + size] - b[0, off:off + size]).max())
        out = max(out, relative(np.abs(a[-1, off:off + size] - b[-1, off:off + size]).max(), moved))
        off += size
    return out


def torch_to_ms(tmp, target, centered):
    torch.manual_seed(0)
    model = TNet()
    opt = torch_opt(model, centered)
    for _ in range(PRE):
        torch_grads(model)
        opt.step()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp / "run.pt")
    (tmp / "map.json").write_text(json.dumps(MAP))
    start = {n: p.detach().numpy().copy() for n, p in model.named_parameters()}
    grads = []
    for _ in range(STEPS):
        grads.append(torch_grads(model))
        opt.step()
    want = {n: p.detach().numpy() for n, p in model.named_parameters()}
    cli("state", "convert", tmp / "run.pt", tmp / "s.ckpt", "--target", target.split("-")[0],
        "--name-map", tmp / "map.json")
    results = {}
    for mode in ("migrated", "fresh"):
        net = MNet()
        params = {p.name: p for p in net.trainable_params()}
        for n, v in start.items():
            params[MAP.get(n, n)].set_data(ms.Tensor(v))
        mopt = ms_opt(net, target, centered)
        if mode == "migrated":
            load_into_mindspore(mopt, tmp / "s.ckpt")
        for g in grads:
            mopt(tuple(ms.Tensor(x) for x in g))
        results[mode] = worst({t: params[m].asnumpy() for t, m in zip(TORCH_NAMES, MS_NAMES)}, want, start)
    sd, _, _ = read_torch(tmp / "run.pt", "optimizer")
    dst_api, dst_kw = ((R.MS_NN, {"learning_rate": LR, "decay": ALPHA, "momentum": MOM, "epsilon": nn_eps(target),
                                  "centered": centered}) if target.startswith("nn")
                       else (R.MS_EXP, {"lr": LR, "alpha": ALPHA, "eps": EPS, "momentum": MOM, "centered": centered}))
    results["predicted"] = predicted(R.TORCH, {"lr": LR, "alpha": ALPHA, "eps": EPS, "momentum": MOM,
                                               "centered": centered}, dst_api, dst_kw, TORCH_NAMES, grads, start,
                                     from_torch(sd, TORCH_NAMES))
    return results


def ms_to_torch(tmp, source, centered):
    net = MNet()
    net.set_train(True)
    opt = ms_opt(net, source, centered)

    def loss(x, y):
        return ((net(x) - y) ** 2).mean()

    # compiled: MindSpore 2.10's PyNative BatchNorm1d forward fails with NumPy 2 here
    grad = ms.jit(ms.value_and_grad(loss, None, opt.parameters))
    for _ in range(PRE):
        opt(grad(ms.Tensor(X), ms.Tensor(Y))[1])
    ms.save_checkpoint(opt, str(tmp / "run.ckpt"))
    start = {p.name: p.asnumpy().copy() for p in net.trainable_params()}
    grads = []
    for _ in range(STEPS):
        g = grad(ms.Tensor(X), ms.Tensor(Y))[1]
        grads.append([x.asnumpy().copy() for x in g])
        opt(g)
    want = {p.name: p.asnumpy().copy() for p in net.trainable_params()}
    call = (f"nn.RMSProp(params, learning_rate={LR}, decay={ALPHA}, momentum={MOM}, epsilon={EPS}, "
            f"centered={centered})" if source == "nn" else
            f"mindspore.experimental.optim.RMSprop(params, lr={LR}, momentum={MOM}, centered={centered})")
    cli("state", "convert", tmp / "run.ckpt", tmp / "run_back.pt", "--to", "torch", "--call", call)
    results = {}
    for mode in ("migrated", "fresh"):
        torch.manual_seed(0)
        model = TNet()
        with torch.no_grad():
            for n, p in model.named_parameters():
                p.copy_(torch.from_numpy(start[MAP.get(n, n)]))
        topt = torch_opt(model, centered)
        if mode == "migrated":
            topt.load_state_dict(torch.load(tmp / "run_back.pt", weights_only=True))
        for g in grads:
            for p, x in zip(model.parameters(), g):
                p.grad = torch.from_numpy(x)
            topt.step()
        results[mode] = worst({MAP.get(n, n): p.detach().numpy() for n, p in model.named_parameters()}, want, start)
    hyper = GroupHyper(lr=LR, alpha=ALPHA, eps=EPS, momentum=MOM, centered=centered, weight_decay=0.0)
    state = from_mindspore(read_ckpt(tmp / "run.ckpt"), source=source, hyper=hyper)
    src_api, src_kw = ((R.MS_NN, {"learning_rate": LR, "decay": ALPHA, "momentum": MOM, "epsilon": EPS,
                                  "centered": centered}) if source == "nn"
                       else (R.MS_EXP, {"lr": LR, "alpha": ALPHA, "eps": EPS, "momentum": MOM, "centered": centered}))
    results["predicted"] = predicted(src_api, src_kw, R.TORCH, {"lr": LR, "alpha": ALPHA, "eps": EPS, "momentum": MOM,
                                                                "centered": centered}, MS_NAMES, grads, start, state)
    return results


def main_() -> None:
    print(f"lr={LR} alpha={ALPHA} eps={EPS} momentum={MOM}; {PRE} steps, migrate, {STEPS} more on the same gradients")
    print("largest over tensors of max|target - source| / distance moved (the larger of the two runs')")
    print(f"{'direction':<34}{'centered':<10}{'migrated':>12}{'predicted':>12}{'fresh':>12}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for target in ("experimental", "nn", "nn-matched"):
            for centered in (False, True):
                r = torch_to_ms(tmp, target, centered)
                label = "torch -> nn, epsilon=eps**2" if target == "nn-matched" else f"torch -> {target}"
                print(f"{label:<34}{str(centered):<10}{r['migrated']:>12.3g}{r['predicted']:>12.3g}"
                      f"{r['fresh']:>12.3g}")
        for source in ("experimental", "nn"):
            for centered in (False, True):
                r = ms_to_torch(tmp, source, centered)
                print(f"{source + ' -> torch':<34}{str(centered):<10}{r['migrated']:>12.3g}{r['predicted']:>12.3g}"
                      f"{r['fresh']:>12.3g}")
        src = tmp / "run.pt"
        torch.save({"model": TNet().state_dict(), "optimizer": torch_opt(TNet(), False).state_dict()}, src)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "rmsport", "state", "convert", str(src), str(tmp / "t.ckpt"), "-q"],
                       check=True, env={**os.environ, "GLOG_v": "3"})
        print(f"rmsport state convert, fresh process (imports torch and MindSpore): {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main_()
