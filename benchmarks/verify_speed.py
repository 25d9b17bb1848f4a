"""How long does rmsport.numerics.verify.verify() take per call?

    python benchmarks/verify_speed.py [--calls 200]

Times verify() for a few typical rewrites (mean and median over ``--calls``
calls each, after one warm-up call that builds the standard problem) and says
whether the median meets the 20 ms goal.  Exit status 1 if it does not.
"""

from __future__ import annotations

import argparse
import statistics
import time

GOAL_MS = 20.0

TORCH = "torch.optim.RMSprop"
MS_NN = "mindspore.nn.RMSProp"
MS_EXP = "mindspore.experimental.optim.RMSprop"

CASES = [
    ("torch defaults -> experimental", TORCH, {}, MS_EXP, {}),
    ("torch defaults -> nn renamed", TORCH, {}, MS_NN, {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-08}),
    (
        "torch centered+momentum+wd -> experimental",
        TORCH, {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-4},
        MS_EXP, {"lr": 1e-3, "momentum": 0.9, "centered": True, "weight_decay": 1e-4},
    ),
    (
        "nn momentum -> torch",
        MS_NN, {"learning_rate": 0.1, "momentum": 0.9},
        TORCH, {"lr": 0.1, "alpha": 0.9, "eps": 1e-10, "momentum": 0.9},
    ),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time rmsport.numerics.verify.verify()")
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from rmsport.numerics.verify import verify

    import_ms = (time.perf_counter() - t0) * 1e3
    print(f"import rmsport.numerics.verify: {import_ms:.1f} ms")

    worst_median = 0.0
    for name, src, src_kw, dst, dst_kw in CASES:
        verdict = verify(src, src_kw, dst, dst_kw)["verdict"]  # warm-up
        times = []
        for _ in range(args.calls):
            t = time.perf_counter()
            verify(src, src_kw, dst, dst_kw)
            times.append((time.perf_counter() - t) * 1e3)
        mean, median = statistics.fmean(times), statistics.median(times)
        worst_median = max(worst_median, median)
        print(f"{name:45s} {verdict:12s} mean {mean:6.2f} ms  median {median:6.2f} ms  max {max(times):6.2f} ms")

    ok = worst_median <= GOAL_MS
    print(f"goal {GOAL_MS:g} ms per call: {'met' if ok else 'NOT met'} (worst median {worst_median:.2f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
