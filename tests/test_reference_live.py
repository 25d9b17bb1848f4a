"""The NumPy reference against LIVE torch and MindSpore on random configurations.

Every run draws fresh configurations (10 per API) from a seed that is printed
in every failure message; rerun one with ``RMSPORT_LIVE_SEED=<seed> pytest
tests/test_reference_live.py``.  float32 on CPU, 10 parameters, 20 steps,
agreement to 1e-5 relative.

One restriction, on purpose: for *non-centered* ``mindspore.nn.RMSProp``,
``epsilon`` is drawn at most 1e-7.  MindSpore 2.10's CPU kernel puts epsilon
outside the root in its AVX blocks of 8 (and re-tunes which elements those are
during the first steps), against its own specification that the reference
follows; with ``epsilon <= 1e-7`` against ``sqrt(s) >= 0.1`` the two
placements agree far below the tolerance.  test_reference.py checks the
recorded bug itself.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from conftest import require_framework

from rmsport.numerics import reference as R

pytestmark = pytest.mark.frameworks

TORCH, MS_NN, MS_EXP = R.APIS
SEED = int(os.environ.get("RMSPORT_LIVE_SEED", random.SystemRandom().randrange(2**31)))
N = 10
STEPS = 20
PER_API = 10


def _loguniform(rng: random.Random, lo: float, hi: float) -> float:
    return float(10 ** rng.uniform(np.log10(lo), np.log10(hi)))


def _draw(api: str, rng: random.Random) -> dict:
    momentum = 0.0 if rng.random() < 1 / 3 else round(rng.uniform(0.0, 0.95), 3)
    weight_decay = 0.0 if rng.random() < 0.5 else _loguniform(rng, 1e-4, 1e-1)
    centered = rng.random() < 0.5
    if api == MS_NN:
        # decay >= 0.8 keeps s >= 0.8**20 ~ 0.01 over 20 steps (s starts at 1).
        lr = _loguniform(rng, 1e-4, 1e-1)
        kw = {
            "learning_rate": [lr * 0.95**t for t in range(STEPS)] if rng.random() < 0.25 else lr,
            "decay": round(rng.uniform(0.8, 0.999), 4),
            "momentum": momentum,
            "epsilon": _loguniform(rng, 1e-10, 1e-2 if centered else 1e-7),
            "centered": centered,
            "loss_scale": 1.0 if rng.random() < 0.5 else rng.choice([2.0, 128.0, 1024.0]),
            "weight_decay": weight_decay,
        }
    else:
        kw = {
            "lr": _loguniform(rng, 1e-4, 1e-1),
            "alpha": round(rng.uniform(0.8, 0.999), 4),
            "eps": _loguniform(rng, 1e-10, 1e-3),
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": rng.random() < 0.3,
        }
    return kw


def _problem(rng: random.Random):
    nrng = np.random.default_rng(rng.randrange(2**31))
    params0 = nrng.normal(size=N).astype(np.float32)
    scale = 10 ** nrng.uniform(-3, 2, size=N)
    grads = (scale * (0.5 + nrng.normal(size=(STEPS, N)))).astype(np.float32)
    return params0, grads


def _cases():
    rng = random.Random(SEED)
    cases = []
    for api, short in ((TORCH, "torch"), (MS_NN, "nn"), (MS_EXP, "experimental")):
        for i in range(PER_API):
            kwargs = _draw(api, rng)
            params0, grads = _problem(rng)
            cases.append(pytest.param(api, kwargs, params0, grads, id=f"{short}-{i}"))
    return cases


def assert_matches_framework(sim, recorded, context: str) -> None:
    moved = float(np.abs(recorded - recorded[0]).max())
    ulp = float(np.spacing(np.float32(np.abs(recorded).max())))
    np.testing.assert_allclose(sim, recorded, rtol=1e-5, atol=1e-5 * moved + 4 * ulp, err_msg=context)


@pytest.fixture(scope="module")
def mindspore():
    ms = require_framework("mindspore")
    ms.set_context(mode=ms.PYNATIVE_MODE, device_target="CPU")
    return ms


@pytest.fixture(scope="module")
def torch():
    torch = require_framework("torch")
    torch.set_num_threads(1)
    return torch


def _run_torch(torch, kwargs, params0, grads):
    w = torch.nn.Parameter(torch.tensor(params0))
    opt = torch.optim.RMSprop([w], **kwargs)
    traj = [params0]
    for g in grads:
        w.grad = torch.tensor(g)
        opt.step()
        traj.append(w.detach().numpy().copy())
    return np.asarray(traj)


def _run_mindspore(ms, api, kwargs, params0, grads):
    from mindspore import Parameter, Tensor, nn
    from mindspore.experimental.optim import RMSprop

    cls = nn.RMSProp if api == MS_NN else RMSprop
    # name 'w': no 'beta'/'gamma', so nn.RMSProp's weight-decay filter keeps the decay.
    w = Parameter(Tensor(params0.copy()), name="w")
    opt = cls([w], **kwargs)
    traj = [params0]
    for g in grads:
        opt((Tensor(g.copy()),))
        traj.append(w.asnumpy().copy())
    return np.asarray(traj)


@pytest.mark.parametrize("api, kwargs, params0, grads", _cases())
def test_reference_matches_live_framework(api, kwargs, params0, grads, request):
    if api == TORCH:
        live = _run_torch(request.getfixturevalue("torch"), kwargs, params0, grads)
    else:
        live = _run_mindspore(request.getfixturevalue("mindspore"), api, kwargs, params0, grads)
    assert np.all(np.isfinite(live))
    sim = R.simulate(api, kwargs, params0, grads, dtype=np.float32)
    context = f"{api}({kwargs}); reproduce with RMSPORT_LIVE_SEED={SEED}"
    assert_matches_framework(sim, live, context)
