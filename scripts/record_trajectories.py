"""Record RMSProp trajectories from the real frameworks into fixtures/trajectories/.

Usage (from the repository root, with torch 2.13 and MindSpore 2.10 installed)::

    python scripts/record_trajectories.py            # both frameworks
    python scripts/record_trajectories.py --only torch
    python scripts/record_trajectories.py --only kernel   # the CPU block-rule recordings

Each configuration of each API becomes ``fixtures/trajectories/<api>__<config>.json``
holding the API, its keyword arguments, ``params0``, the fixed gradients (one
row per step), the recorded trajectory (row 0 = ``params0``) and the framework
version.  Everything is float32 on CPU: 10-element parameters, 25 steps.

Ten elements on purpose: MindSpore 2.10's x86 CPU ApplyRMSProp kernel handles
the first 8 elements in an AVX block (epsilon outside the root) and the last 2
in its scalar tail (epsilon inside), so the recordings show both paths.

MindSpore runs in PyNative mode on CPU with one Parameter named ``"w"``: neither
``'beta'`` nor ``'gamma'`` is in the name, so ``nn.RMSProp``'s weight decay
name filter applies weight decay to it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixtures" / "trajectories"

N = 10
STEPS = 25
SEED = 20260525

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXP = "mindspore.experimental.optim.RMSprop"
SHORT = {TORCH: "torch", MS_NN: "ms_nn", MS_EXP: "ms_experimental"}


def problem(grad_scale: float | None) -> tuple[np.ndarray, np.ndarray]:
    """params0 and fixed gradients; ``None`` means mixed scales 1e-2..1e1."""
    rng = np.random.default_rng(SEED)
    params0 = rng.normal(size=N).astype(np.float32)
    noise = 0.5 + rng.normal(size=(STEPS, N))
    scale = np.logspace(-2, 1, N) if grad_scale is None else np.full(N, grad_scale)
    return params0, (noise * scale).astype(np.float32)


# (config name, gradient scale, kwargs); kwargs are literal constructor keywords.
TORCH_LIKE = [
    ("defaults", None, {}),
    ("plain", None, {"lr": 0.01, "alpha": 0.9, "eps": 1e-6}),
    ("momentum", None, {"lr": 0.005, "alpha": 0.95, "momentum": 0.9}),
    ("centered", None, {"lr": 0.01, "alpha": 0.9, "centered": True}),
    (
        "centered_momentum_wd",
        None,
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-5, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
    ),
    ("maximize", None, {"lr": 0.01, "alpha": 0.9, "maximize": True, "weight_decay": 0.01}),
    ("tiny_grads", 1e-6, {"lr": 0.01, "alpha": 0.9}),
    ("large_grads", 1e3, {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
]
NN = [
    ("defaults", None, {}),
    ("plain", None, {"learning_rate": 0.01, "decay": 0.9, "epsilon": 1e-6}),
    ("momentum", None, {"learning_rate": 0.005, "decay": 0.95, "momentum": 0.9}),
    ("centered", None, {"learning_rate": 0.01, "decay": 0.9, "centered": True}),
    (
        "centered_momentum_wd",
        None,
        {"learning_rate": 0.01, "decay": 0.9, "epsilon": 1e-5, "momentum": 0.5, "centered": True,
         "weight_decay": 0.1},
    ),
    ("loss_scale", None, {"learning_rate": 0.01, "decay": 0.9, "loss_scale": 128.0}),
    ("loss_scale_wd", None, {"learning_rate": 0.01, "decay": 0.9, "loss_scale": 8.0, "weight_decay": 0.1}),
    ("lr_list", None, {"learning_rate": [0.02 * 0.9**t for t in range(STEPS)], "decay": 0.9,
                       "momentum": 0.5}),
    ("tiny_grads", 1e-6, {"learning_rate": 0.01, "decay": 0.9}),
    ("large_grads", 1e3, {"learning_rate": 0.01, "decay": 0.9, "momentum": 0.9}),
    ("large_epsilon", None, {"learning_rate": 0.01, "decay": 0.5, "epsilon": 0.05}),
    ("torch_defaults_renamed", None, {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-8}),
]


# MindSpore's CPU kernel for non-centered nn.RMSProp (the block rule): epsilon
# large enough and gradients small enough to see where it sits, tensors of 8k
# elements plus tails, 100 steps, one kernel thread (so one chunk per launch).
# (name, shape, dtype, kwargs)
KERNEL_STEPS = 100
KERNEL = [
    ("cpu_blocks_16", (16,), "float32", {"learning_rate": 0.01, "decay": 0.5, "momentum": 0.5, "epsilon": 1e-2}),
    ("cpu_blocks_3x5", (3, 5), "float32", {"learning_rate": 0.01, "decay": 0.9, "epsilon": 1e-3}),
    ("cpu_blocks_21", (21,), "float32", {"learning_rate": 0.005, "decay": 0.0, "momentum": 0.9, "epsilon": 1e-4}),
    ("cpu_blocks_64", (64,), "float32", {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-2}),
    ("cpu_blocks_f16_15", (15,), "float16", {"learning_rate": 0.01, "decay": 0.5, "epsilon": 1e-2}),
]


def record_kernel() -> list[dict]:
    """The block-rule recordings, through tests/mindspore_kernel_runner.py (one thread)."""
    import pickle
    import subprocess
    import tempfile

    import mindspore as ms

    rng = np.random.default_rng(SEED + 1)
    cases = []
    for name, shape, dtype, kwargs in KERNEL:
        params0 = rng.normal(size=shape).astype(dtype)
        grads = (1e-2 * rng.normal(size=(KERNEL_STEPS, *shape))).astype(dtype)
        cases.append((name, kwargs, params0, grads))
    with tempfile.TemporaryDirectory() as tmp:
        with open(f"{tmp}/cases.pickle", "wb") as f:
            pickle.dump([(MS_NN, kw, p0, g) for _, kw, p0, g in cases], f)
        subprocess.run(
            [sys.executable, str(ROOT / "tests" / "mindspore_kernel_runner.py"), f"{tmp}/cases.pickle",
             f"{tmp}/out.npz", "--threads", "1"],
            check=True,
        )
        out = np.load(f"{tmp}/out.npz")
        trajs = [out[f"traj_{i}"] for i in range(len(cases))]
    records = []
    for (name, kwargs, params0, grads), traj in zip(cases, trajs):
        rec = _record(MS_NN, name, kwargs, params0, grads, traj, "mindspore", ms.__version__)
        rec.update(
            dtype=str(params0.dtype),
            shape=list(params0.shape),
            kernel_threads=1,
            simulate_device="cpu",
            note="non-centered ApplyRMSProp on CPU: epsilon outside the root in 8-wide SIMD blocks, "
                 "inside for the len % 8 tail; replayed with simulate(..., device='cpu')",
            params0=_short(params0),
            grads=_short(grads),
            trajectory=_short(traj),
        )
        records.append(rec)
    return records


def _short(a: np.ndarray):
    """Nested lists of floats with 9 significant digits (exact for float32/float16)."""
    return np.vectorize(lambda x: float(f"{x:.9g}"), otypes=[object])(a.astype(np.float64)).tolist()


def record_torch(api_kwargs: list[tuple[str, float | None, dict]]) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    records = []
    for name, scale, kwargs in api_kwargs:
        params0, grads = problem(scale)
        w = torch.nn.Parameter(torch.tensor(params0))
        opt = torch.optim.RMSprop([w], **kwargs)
        traj = [params0.copy()]
        for g in grads:
            w.grad = torch.tensor(g)
            opt.step()
            traj.append(w.detach().numpy().copy())
        records.append(_record(TORCH, name, kwargs, params0, grads, traj, "torch", torch.__version__))
    return records


def record_mindspore(nn_kwargs: list, exp_kwargs: list) -> list[dict]:
    import mindspore as ms
    from mindspore import Parameter, Tensor, nn
    from mindspore.experimental.optim import RMSprop as ExpRMSprop

    ms.set_context(mode=ms.PYNATIVE_MODE, device_target="CPU")
    records = []
    for api, cls, table in ((MS_NN, nn.RMSProp, nn_kwargs), (MS_EXP, ExpRMSprop, exp_kwargs)):
        for name, scale, kwargs in table:
            params0, grads = problem(scale)
            w = Parameter(Tensor(params0.copy()), name="w")
            opt = cls([w], **kwargs)
            traj = [params0.copy()]
            for g in grads:
                opt((Tensor(g.copy()),))
                traj.append(w.asnumpy().copy())
            records.append(_record(api, name, kwargs, params0, grads, traj, "mindspore", ms.__version__))
    return records


def _record(api, name, kwargs, params0, grads, traj, framework, version) -> dict:
    traj = np.asarray(traj, dtype=np.asarray(params0).dtype)
    if not np.all(np.isfinite(traj)):
        raise RuntimeError(f"{api} {name}: non-finite trajectory")
    rec = {
        "api": api,
        "config": name,
        "kwargs": kwargs,
        "dtype": "float32",
        "device": "CPU",
        "framework": framework,
        "framework_version": version,
        "param_name": "w",
        "params0": params0.tolist(),
        "grads": grads.tolist(),
        "trajectory": traj.tolist(),
    }
    if api == MS_NN and kwargs.get("weight_decay"):
        rec["note"] = ("param named 'w' (no 'beta'/'gamma'), so nn.RMSProp's weight-decay "
                       "name filter applies the decay")
    return rec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("torch", "mindspore", "kernel"))
    args = parser.parse_args(argv)
    exp_kwargs = TORCH_LIKE
    records: list[dict] = []
    if args.only in (None, "torch"):
        records += record_torch(TORCH_LIKE)
    if args.only in (None, "mindspore"):
        records += record_mindspore(NN, exp_kwargs)
    if args.only in (None, "kernel"):
        records += record_kernel()
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for rec in records:
        path = OUT / f"{SHORT[rec['api']]}__{rec['config']}.json"
        text = json.dumps(rec, indent=1) + "\n"
        path.write_text(text)
        total += len(text)
        print(f"wrote {path.relative_to(ROOT)}")
    print(f"{len(records)} recordings, {total / 1024:.0f} KiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
