"""Run RMSProp cases on MindSpore's real CPU kernels in a fresh process.

Used by tests/test_reference_live.py (and scripts/record_trajectories.py)::

    python tests/mindspore_kernel_runner.py CASES.pickle OUT.npz [--threads N]

A fresh process because MindSpore's CPU kernel thread count can only be chosen
before its first op runs, and the number of threads decides how the
non-centered ApplyRMSProp kernel chunks a tensor (see rmsport.numerics.reference).
Each case is ``(api, kwargs, params0, grads)``; the output holds
``traj_<i>`` for case ``i`` (row 0 = params0), in the parameters' dtype.
"""

from __future__ import annotations

import pickle
import sys

import numpy as np


def run_case(api: str, kwargs: dict, params0: np.ndarray, grads: np.ndarray) -> np.ndarray:
    from mindspore import Parameter, Tensor, nn
    from mindspore.experimental.optim import RMSprop

    cls = nn.RMSProp if api == "mindspore.nn.RMSProp" else RMSprop
    # name 'w': no 'beta'/'gamma', so nn.RMSProp's weight-decay filter keeps the decay.
    w = Parameter(Tensor(params0.copy()), name="w")
    opt = cls([w], **kwargs)
    traj = [params0.copy()]
    for g in grads:
        opt((Tensor(g.copy()),))
        traj.append(w.asnumpy().copy())
    return np.asarray(traj, dtype=params0.dtype)


def main(argv: list[str]) -> int:
    cases_path, out_path = argv[0], argv[1]
    threads = int(argv[argv.index("--threads") + 1]) if "--threads" in argv else 1
    import mindspore as ms

    if threads > 0:
        ms.device_context.cpu.op_tuning.threads_num(threads)
    ms.set_context(mode=ms.PYNATIVE_MODE)
    ms.set_device("CPU")
    with open(cases_path, "rb") as f:
        cases = pickle.load(f)
    out = {f"traj_{i}": run_case(*case) for i, case in enumerate(cases)}
    np.savez(out_path, **out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
