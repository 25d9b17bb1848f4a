"""What does ``--verify`` cost per call?  Measures what the CLI pays.

    python benchmarks/verify_speed.py [--calls 100] [--goal-ms 7]

Two measurements, each the median over ``--calls`` repetitions after a
warm-up (which builds the standard problem and imports NumPy):

1. ``rmsport.numerics.advice.verification()`` for typical rewrites: the
   simulation of source, its one-ulp twin, the rewrite and (where
   ``--eps-mapping`` matters) the other mapping, plus the wording of RMS401;
2. ``convert_source(..., verify=True)`` minus ``verify=False`` on a module of
   20 calls with the default options (``--to mindspore --target nn``), divided
   by 20: everything ``--verify`` adds per call, re-planning included.

Wall and CPU time are both printed: on a shared machine the wall time also
counts waiting for a core (the CLI pays the CPU time on an idle one).  Exit
status 1 if the default target's median CPU time (2.) misses the goal.
"""

from __future__ import annotations

import argparse
import statistics
import time

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXP = "mindspore.experimental.optim.RMSprop"

CASES = [
    ("torch defaults -> nn (default target)", TORCH, {}, MS_NN,
     {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-08},
     {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-16}),
    ("torch defaults -> experimental", TORCH, {}, MS_EXP, {}, None),
    (
        "torch centered+momentum+wd -> experimental",
        TORCH, {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-4},
        MS_EXP, {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-4}, None,
    ),
    (
        "nn momentum -> torch",
        MS_NN, {"learning_rate": 0.1, "momentum": 0.9},
        TORCH, {"lr": 0.1, "alpha": 0.9, "eps": 1e-10, "momentum": 0.9},
        {"lr": 0.1, "alpha": 0.9, "eps": 1e-5, "momentum": 0.9},
    ),
]

MODULE_CALLS = 20


def _median_ms(fn, calls: int) -> tuple[float, float]:
    """(median wall time, median CPU time of this process) in ms.

    On a shared machine the wall time includes waiting for a core; the CPU
    time is what the call itself costs.
    """
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(calls):
        t, c = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c) * 1e3)
        wall.append((time.perf_counter() - t) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time what --verify costs per call")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--goal-ms", type=float, default=7.0)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from rmsport.numerics.advice import verification

    print(f"import rmsport.numerics.advice: {(time.perf_counter() - t0) * 1e3:.1f} ms (NumPy is imported on first use)")

    for name, src, src_kw, dst, dst_kw, alt in CASES:
        verdict = verification(src, src_kw, dst, dst_kw, alternative_kwargs=alt).result["verdict"]
        median, cpu = _median_ms(lambda: verification(src, src_kw, dst, dst_kw, alternative_kwargs=alt), args.calls)
        rows = 4 if alt is not None else 3
        print(f"verification() {name:45s} {verdict:12s} {rows} rows  median {median:6.2f} ms wall, {cpu:6.2f} ms CPU")

    from rmsport.engine.convert import Options, convert_source

    lines = ["import torch"] + [
        f"opt{i} = torch.optim.RMSprop(model.parameters(), lr={0.001 * (i + 1):g}, alpha=0.9)"
        for i in range(MODULE_CALLS)
    ]
    source = "\n".join(lines) + "\n"
    reps = max(5, args.calls // 10)
    plain, plain_cpu = _median_ms(lambda: convert_source(source, Options()), reps)
    verified, verified_cpu = _median_ms(lambda: convert_source(source, Options(verify=True)), reps)
    per_call = (verified - plain) / MODULE_CALLS
    per_call_cpu = (verified_cpu - plain_cpu) / MODULE_CALLS
    print(
        f"convert_source, {MODULE_CALLS} calls, default target: {plain:.1f} ms without --verify, {verified:.1f} ms with; "
        f"--verify adds {per_call:.2f} ms wall, {per_call_cpu:.2f} ms CPU per call (medians)"
    )
    ok = per_call_cpu <= args.goal_ms
    print(f"goal {args.goal_ms:g} ms CPU per call on the default target: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
