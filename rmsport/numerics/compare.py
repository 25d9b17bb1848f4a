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

__all__ = [
    "distance_to_optimum",
    "plot_caption",
    "plot_figure",
    "render_comparison",
    "render_plot",
    "require_matplotlib",
    "write_plot",
]

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

    from rich.text import Text

    cmp = compare(src_api, src_kwargs, dst_api, dst_kwargs, steps=steps, device=device)
    # Text, not markup: a call's own text ("[w, b]", "# [/]") must print as written.
    console.print(Text.assemble(("source ", SRC_STYLE), "  ", _label(src_api, src_kwargs)), highlight=False)
    console.print(Text.assemble(("rewrite", DST_STYLE), "  ", _label(dst_api, dst_kwargs)), highlight=False)
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


PLOT_INSTALL_HINT = "pip install 'rmsport[plot]'"


def require_matplotlib() -> None:
    """Raise ``RuntimeError`` (with the install command) unless matplotlib imports."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise RuntimeError(f"--plot needs matplotlib: {PLOT_INSTALL_HINT}") from exc


def plot_caption(src_api: str, dst_api: str, *, device: str | None = None) -> str:
    """What the curves are: simulations of each framework's documented update
    rule by rmsport's numpy reference, or, for the MindSpore side when
    ``device`` is given, MindSpore itself run on that device."""
    if device is None:
        return (
            "Simulations of the documented update rules (rmsport's numpy reference), "
            "not runs of torch or MindSpore"
        )
    parts = []
    for api in (src_api, dst_api):
        if api.startswith("mindspore"):
            parts.append(f"{api} run by MindSpore on {device}")
        else:
            parts.append(f"{api} simulated from its documented rule (rmsport's numpy reference)")
    return "; ".join(parts)


def _wrap(text: str, width: int = 95) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width, subsequent_indent="    ", break_long_words=True))


def plot_figure(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
    device: str | None = None,
):
    """The comparison as a matplotlib ``Figure`` (the caller closes it) and the result dict.

    Top: distance to the optimum of both calls.  Bottom: the relative gap per
    step on a log scale.  Legends sit outside the plotting areas, so they never
    cover a curve; a gap of exactly 0 (float64 agreement) is drawn on the
    bottom edge instead of leaving a hole in the log-scale line.
    Raises ``RuntimeError`` without matplotlib, ``ValueError`` if either call
    cannot be simulated.
    """
    require_matplotlib()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cmp: Comparison | None = compare(
        src_api, src_kwargs, dst_api, dst_kwargs, steps=steps, device=device or DEFAULT_DEVICE
    )
    if cmp is None:
        raise ValueError("cannot plot: the reference rejects one of the two calls")
    result = cmp.result
    steps_axis = np.arange(cmp.src.shape[0])
    fig, (ax1, ax2) = plt.subplots(
        2, 1, figsize=(9, 8.5), sharex=True, layout="constrained", gridspec_kw={"height_ratios": [3, 2]}
    )
    fig.suptitle(
        f"{result['verdict']}: max relative gap {result['max_rel_diff']:.4g}, "
        f"max |Δx| {result['max_abs_diff']:.4g} (standard problem, {result['steps']} steps)\n"
        + plot_caption(src_api, dst_api, device=device),
        fontsize=10,
    )
    ax1.plot(steps_axis, distance_to_optimum(cmp.src), color="tab:blue", lw=2,
             label=_wrap("source: " + _label(src_api, src_kwargs)))
    ax1.plot(steps_axis, distance_to_optimum(cmp.dst), color="tab:red", lw=1.5, ls="--",
             label=_wrap("rewrite: " + _label(dst_api, dst_kwargs)))
    ax1.set_ylabel("distance to optimum\n(1 = start)")
    ax1.grid(alpha=0.3)

    # Log scale: 0 has no place on it, so exact agreement is drawn on the
    # bottom edge (and said so in the legend) and a non-finite gap on the top.
    top = 10.0
    positive = cmp.gap[(cmp.gap > 0) & np.isfinite(cmp.gap)]
    smallest = float(positive.min()) if positive.size else EQUIVALENT_REL
    floor = max(1e-18, min(smallest, EQUIVALENT_REL) / 10)
    drawn = np.where(np.isfinite(cmp.gap), np.clip(cmp.gap, floor, top), top)
    gap_label = "relative gap"
    if np.any(cmp.gap == 0):
        gap_label += " (0 drawn on the bottom edge)"
    ax2.semilogy(steps_axis, drawn, color="black", lw=1.2, label=gap_label)
    ax2.axhline(APPROXIMATE_REL, color="tab:orange", ls=":", label=f"approximate ≤ {APPROXIMATE_REL:g}")
    ax2.axhline(EQUIVALENT_REL, color="tab:green", ls=":", label=f"equivalent ≤ {EQUIVALENT_REL:g}")
    first = result["first_divergent_step"]
    if first is not None:
        marker = f"first divergent step: {first} (gap > {APPROXIMATE_REL:g})"
        ax2.axvline(first, color="tab:red", alpha=0.6, lw=1, label=marker)
        ax1.axvline(first, color="tab:red", alpha=0.6, lw=1)
        ax1.annotate(
            f"first divergent step {first}", xy=(first, 1.0), xycoords=ax1.get_xaxis_transform(),
            xytext=(3, -3), textcoords="offset points", ha="left", va="top", fontsize=8, color="tab:red",
        )
    ax2.set_ylim(floor, top)
    ax2.set_xlabel("step")
    ax2.set_ylabel("gap / distance travelled")
    ax2.grid(alpha=0.3, which="major")
    # One legend below both panels: outside the plotting areas, it cannot hide
    # a curve, whatever the curves do (in the equivalent case they fill the view).
    handles = [*ax1.get_lines()[:2], *ax2.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower left", fontsize=8, frameon=False)
    return fig, result


def render_plot(
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
    device: str | None = None,
) -> tuple[bytes, dict[str, Any]]:
    """The PNG's bytes and the result dict (see :func:`plot_figure`)."""
    import io

    fig, result = plot_figure(src_api, src_kwargs, dst_api, dst_kwargs, steps=steps, device=device)
    try:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return buffer.getvalue(), result


def write_plot(
    path: str | Path,
    src_api: str,
    src_kwargs: dict[str, Any],
    dst_api: str,
    dst_kwargs: dict[str, Any],
    *,
    steps: int | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Write the PNG to ``path`` (see :func:`plot_figure`); returns the result dict.

    Raises ``RuntimeError`` if matplotlib is not installed, ``ValueError`` if
    either call cannot be simulated, ``OSError`` if the file cannot be written.
    """
    data, result = render_plot(src_api, src_kwargs, dst_api, dst_kwargs, steps=steps, device=device)
    Path(path).write_bytes(data)
    return result
