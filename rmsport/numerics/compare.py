"""``rmsport compare``: show two optimizer calls side by side on the standard problem.

The numbers come from :func:`rmsport.numerics.verify.compare` (standard problem and
thresholds are described in :mod:`rmsport.numerics.verify`).  What is plotted is the
*distance to the optimum*, ``sqrt(mean_i ((x_ti - c_i) / (x_0i - c_i))**2)``:
1 at the start, falling towards the noise floor as the optimizer converges,
the same for every gradient scale.

:func:`render_comparison` draws with rich only (a character chart, a table of
the gap at sampled steps, the verdict); :func:`write_plot` writes a PNG and
needs the optional matplotlib extra (``pip install 'rmsport[plot]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rmsport.numerics.advice import sig3
from rmsport.numerics.verify import (
    APPROXIMATE_REL,
    DEFAULT_DEVICE,
    EQUIVALENT_REL,
    NOISE_FACTOR,
    Comparison,
    compare,
    standard_problem,
)

__all__ = ["distance_to_optimum", "render_comparison", "write_plot"]

SRC_STYLE = "cyan"
DST_STYLE = "magenta"
VERDICT_STYLE = {
    "equivalent": "bold green",
    "approximate": "bold yellow",
    "divergent": "bold red",
    "sensitive": "bold magenta",
    "unverifiable": "bold white",
}


def distance_to_optimum(traj: np.ndarray) -> np.ndarray:
    """Normalised distance to the optimum per step (1 at the start)."""
    prob = standard_problem()
    scaled = (traj - prob.center) / (prob.x0 - prob.center)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(np.mean(scaled * scaled, axis=1))


def _label(api: str, kwargs: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    return f"{api}({args})"


def _sample_steps(steps: int) -> list[int]:
    marks = {0, 1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 1000, steps}
    return sorted(s for s in marks if s <= steps)


def _chart(src: np.ndarray, dst: np.ndarray, *, width: int = 60, height: int = 12):
    """A rich Text line chart of two series sharing one y axis."""
    from rich.text import Text

    n = src.shape[0]
    cols = np.unique(np.linspace(0, n - 1, min(width, n)).round().astype(int))
    finite = np.concatenate([src[np.isfinite(src)], dst[np.isfinite(dst)]])
    lo = float(finite.min()) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    if hi - lo < 1e-12:
        hi, lo = hi + 0.5, lo - 0.5

    def row(v: float) -> int | None:
        if not np.isfinite(v):
            return None
        return int(round((hi - v) / (hi - lo) * (height - 1)))

    grid = [[(" ", "") for _ in cols] for _ in range(height)]
    for j, t in enumerate(cols):
        rs, rd = row(src[t]), row(dst[t])
        if rs is not None:
            grid[rs][j] = ("●", SRC_STYLE)
        if rd is not None:
            grid[rd][j] = ("◆", "bold white") if rd == rs else ("✕", DST_STYLE)

    text = Text()
    for i, line in enumerate(grid):
        y = hi - (hi - lo) * i / (height - 1)
        label = f"{y:9.3g} ┤" if i in (0, height // 2, height - 1) else " " * 10 + "│"
        text.append(label, style="dim")
        for ch, style in line:
            text.append(ch, style=style)
        text.append("\n")
    axis = " " * 10 + "└" + "─" * len(cols)
    text.append(axis + "\n", style="dim")
    last = f"step {n - 1}"
    text.append(" " * 11 + "step 0" + " " * max(1, len(cols) - 6 - len(last)) + last + "\n", style="dim")
    text.append(" " * 11)
    text.append("● source", style=SRC_STYLE)
    text.append("   ")
    text.append("✕ rewrite", style=DST_STYLE)
    text.append("   ")
    text.append("◆ both", style="bold white")
    return text


def _equivalent_bound(noise_floor: float) -> float:
    return max(NOISE_FACTOR * noise_floor, EQUIVALENT_REL)


def _verdict_text(result: dict[str, Any]):
    from rich.text import Text

    verdict = result["verdict"]
    text = Text("verdict: ")
    text.append(verdict, style=VERDICT_STYLE[verdict])
    if verdict != "unverifiable":
        floor = result["noise_floor"]
        text.append(
            f"\n  max relative gap {sig3(result['max_rel_diff'])}"
            f" (equivalent <= {sig3(_equivalent_bound(floor))}, approximate <= {APPROXIMATE_REL:g})"
            f"\n  source's own float32 noise (one ulp at the start) {sig3(floor)}"
            + ("  > the divergence threshold: sensitive" if verdict == "sensitive" else "")
            + f"\n  max |Δx| {sig3(result['max_abs_diff'])}"
            f"\n  device {result['device']}"
        )
        if result["first_divergent_step"] is not None:
            text.append(f"\n  first divergent step {result['first_divergent_step']}")
        text.append(f"\n  steps {result['steps']}")
    else:
        text.append("   (a call could not be simulated: non-literal or rejected arguments)")
    return text


def render_comparison(
    console,
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
    device: str = DEFAULT_DEVICE,
) -> dict[str, Any]:
    """Print a chart, a gap table and the verdict to the rich ``console``.

    ``steps`` defaults to the standard problem's length (shorter if a list
    learning rate is shorter).  Returns the :func:`rmsport.numerics.verify.verify`-style
    result dict that was printed.
    """
    from rich.table import Table

    cmp = compare(src_api, src_kwargs, dst_api, dst_kwargs, steps=steps, device=device)
    console.print(f"[{SRC_STYLE}]source [/]  {_label(src_api, src_kwargs)}", highlight=False)
    console.print(f"[{DST_STYLE}]rewrite[/]  {_label(dst_api, dst_kwargs)}", highlight=False)
    if cmp is None:
        from rmsport.numerics.verify import unverifiable

        result = unverifiable(device=device)
        console.print(_verdict_text(result))
        return result

    d_src, d_dst = distance_to_optimum(cmp.src), distance_to_optimum(cmp.dst)
    console.print()
    console.print("distance to optimum (1 = start), standard problem", style="bold")
    console.print(_chart(d_src, d_dst))

    table = Table(title="gap per step", title_justify="left", show_edge=False)
    table.add_column("step", justify="right")
    table.add_column("source dist", justify="right", style=SRC_STYLE)
    table.add_column("rewrite dist", justify="right", style=DST_STYLE)
    table.add_column("max |Δx|", justify="right")
    table.add_column("rel gap", justify="right")
    table.add_column("", justify="left")
    bound = _equivalent_bound(cmp.result["noise_floor"])
    for t in _sample_steps(cmp.result["steps"]):
        g = cmp.gap[t]
        flag = (
            "[green]=[/]" if g <= bound
            else "[yellow]~[/]" if g <= APPROXIMATE_REL
            else "[red]✗[/]"
        )
        table.add_row(
            str(t), sig3(d_src[t]), sig3(d_dst[t]), sig3(cmp.abs_gap[t]), sig3(g), flag
        )
    console.print(table)
    console.print()
    console.print(_verdict_text(cmp.result))
    return cmp.result


def write_plot(
    path: str | Path,
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
) -> dict[str, Any]:
    """Write a PNG: distance to optimum of both calls, and the relative gap per step.

    Raises ``RuntimeError`` if matplotlib is not installed and ``ValueError``
    if either call cannot be simulated.  Returns the result dict.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise RuntimeError("--plot needs matplotlib: pip install 'rmsport[plot]'") from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmp: Comparison | None = compare(src_api, src_kwargs, dst_api, dst_kwargs, steps=steps)
    if cmp is None:
        raise ValueError("cannot plot: the reference rejects one of the two calls")
    steps_axis = np.arange(cmp.src.shape[0])
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(9, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    try:
        ax1.plot(steps_axis, distance_to_optimum(cmp.src), color="tab:blue", lw=2,
                 label=_label(src_api, src_kwargs))
        ax1.plot(steps_axis, distance_to_optimum(cmp.dst), color="tab:red", lw=1.5, ls="--",
                 label=_label(dst_api, dst_kwargs))
        ax1.set_ylabel("distance to optimum\n(1 = start)")
        ax1.grid(alpha=0.3)
        ax1.legend(fontsize=8, loc="upper right")
        result = cmp.result
        ax1.set_title(
            f"{result['verdict']}: max relative gap {result['max_rel_diff']:.4g}, "
            f"max |Δx| {result['max_abs_diff']:.4g} (standard problem, {result['steps']} steps)",
            fontsize=10,
        )
        gap = np.where(cmp.gap > 0, cmp.gap, np.nan)
        ax2.semilogy(steps_axis, gap, color="black", lw=1.2, label="relative gap")
        ax2.axhline(APPROXIMATE_REL, color="tab:orange", ls=":", label=f"approximate ≤ {APPROXIMATE_REL:g}")
        ax2.axhline(EQUIVALENT_REL, color="tab:green", ls=":", label=f"equivalent ≤ {EQUIVALENT_REL:g}")
        if result["first_divergent_step"] is not None:
            ax2.axvline(result["first_divergent_step"], color="tab:red", alpha=0.5, lw=1)
        smallest = np.nanmin(gap) if np.any(np.isfinite(gap)) else EQUIVALENT_REL
        ax2.set_ylim(max(1e-18, min(smallest, EQUIVALENT_REL) / 10), 10)
        ax2.set_xlabel("step")
        ax2.set_ylabel("gap / distance travelled")
        ax2.grid(alpha=0.3, which="major")
        ax2.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
    return result
