"""The ``compare --plot`` picture, checked through matplotlib's own objects (issue 14)."""

from __future__ import annotations

import numpy as np
import pytest

import matplotlib.pyplot as plt  # the 'plot' extra, part of '.[test]'

from rmsport.numerics.compare import plot_caption, plot_figure, render_plot

TORCH = ("torch.optim.RMSprop", {"lr": 0.01, "momentum": 0.9})
EXPERIMENTAL = ("mindspore.experimental.optim.RMSprop", {"lr": 0.01, "momentum": 0.9})
NN = ("mindspore.nn.RMSProp", {"learning_rate": 0.01, "decay": 0.99, "epsilon": 1e-08, "momentum": 0.9})


@pytest.fixture
def figure():
    made = []

    def make(src, dst, **kwargs):
        fig, result = plot_figure(*src, *dst, **kwargs)
        made.append(fig)
        fig.canvas.draw()  # lay out, so extents are final
        return fig, result

    yield make
    for fig in made:
        plt.close(fig)


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_title_says_the_curves_are_simulations(figure) -> None:
    fig, _ = figure(TORCH, NN)
    title = fig.get_suptitle()
    assert title.splitlines()[0].startswith("divergent: max relative gap ")
    assert "Simulations of the documented update rules (rmsport's numpy reference)" in title
    assert "not runs of torch or MindSpore" in title


def test_caption_names_the_device_when_mindspore_ran() -> None:
    caption = plot_caption("torch.optim.RMSprop", "mindspore.nn.RMSProp", device="CPU")
    assert caption == (
        "torch.optim.RMSprop simulated from its documented rule (rmsport's numpy reference); "
        "mindspore.nn.RMSProp run by MindSpore on CPU"
    )
    back = plot_caption("mindspore.nn.RMSProp", "torch.optim.RMSprop", device="GPU")
    assert back.startswith("mindspore.nn.RMSProp run by MindSpore on GPU; torch.optim.RMSprop simulated")


@pytest.mark.parametrize(("src", "dst"), [(TORCH, EXPERIMENTAL), (TORCH, NN)], ids=["equivalent", "divergent"])
def test_legends_never_cover_the_plotting_areas(figure, src, dst) -> None:
    fig, result = figure(src, dst)
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    assert legends, "the picture has a legend"
    page = fig.bbox
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            assert not _overlaps(box, ax.get_window_extent(renderer)), (result["verdict"], ax.get_ylabel())
        # and it is on the page, not cut off
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
    labels = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert labels[0].startswith("source: torch.optim.RMSprop(lr=0.01, momentum=0.9)")
    assert labels[1].startswith(f"rewrite: {dst[0]}(")


def test_zero_gap_steps_keep_the_log_line_whole(figure) -> None:
    fig, result = figure(TORCH, EXPERIMENTAL)
    assert result["verdict"] == "equivalent"
    gap_ax = fig.axes[1]
    line = next(l for l in gap_ax.get_lines() if l.get_label().startswith("relative gap"))
    y = np.asarray(line.get_ydata(), dtype=float)
    assert y.size == result["steps"] + 1
    assert np.all(np.isfinite(y)) and np.all(y > 0)  # nothing the log scale drops
    bottom, top = gap_ax.get_ylim()
    zero = y == bottom
    assert zero[0]  # step 0 is the shared start: gap 0, drawn on the bottom edge
    # both kinds of step in this case (since issue 9 the simulation is float32 and experimental takes
    # 1 - alpha from float32(alpha), so only the shared start is exactly 0)
    assert zero.sum() >= 1 and (~zero).sum() > 1
    assert y.max() <= result["max_rel_diff"] * (1 + 1e-12)
    assert line.get_label() == "relative gap (0 drawn on the bottom edge)"


def test_first_divergent_step_marker_is_labelled(figure) -> None:
    fig, result = figure(TORCH, NN)
    first = result["first_divergent_step"]
    assert first == 1
    gap_ax = fig.axes[1]
    markers = [l for l in gap_ax.get_lines() if list(l.get_xdata()) == [first, first]]
    assert [m.get_label() for m in markers] == ["first divergent step: 1 (gap > 0.01)"]
    legend_texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert "first divergent step: 1 (gap > 0.01)" in legend_texts
    assert "first divergent step 1" in [t.get_text() for t in fig.axes[0].texts]


def test_no_marker_when_nothing_diverges(figure) -> None:
    fig, result = figure(TORCH, EXPERIMENTAL)
    assert result["first_divergent_step"] is None
    texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
    assert not any("divergent step" in t for t in texts)


def test_render_plot_gives_png_bytes() -> None:
    data, result = render_plot(*TORCH, *NN, steps=10)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["steps"] == 10
