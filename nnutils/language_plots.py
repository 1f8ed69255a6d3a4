"""Drawings of the counting languages: the state machine of a^n b^kn (c^ln) with its counters."""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.patches import Circle, FancyArrowPatch

from .languages import _blocks, state_machine

PREDICTABLE_COLOR, OPEN_COLOR = "tab:green", "0.45"


def _arc_label(arc) -> str:
    needs = f" [{arc.needs}]" if arc.needs else ""
    return f"{arc.symbol}{needs}\n{arc.action}"


def plot_state_machine(language: str = "anb2n", ax: plt.Axes | None = None, radius: float = 0.42) -> plt.Axes:
    """The language's counter machine: a circle per state, arcs labelled 'symbol [condition] / counter action';
    green solid arcs are predictable next symbols, grey dashed ones open choices."""
    blocks = _blocks(language)
    ax = ax or plt.subplots(figsize=(3.4 * len(blocks) + 1, 3.8))[1]
    where = {symbol: (3.0 * i, 0.0) for i, (symbol, _) in enumerate(blocks)}
    for symbol, (x, y) in where.items():
        ax.add_patch(Circle((x, y), radius, facecolor="white", edgecolor="black", lw=1.5, zorder=3))
        ax.text(x, y, f"reading\n{symbol}'s", ha="center", va="center", fontsize=9, zorder=4)
    x0, y0 = where["a"]
    ax.add_patch(FancyArrowPatch((x0 - 1.6, y0), (x0 - radius, y0), arrowstyle="-|>", mutation_scale=14, lw=1.2))
    ax.text(x0 - 1.6, y0 + 0.12, "start\nn := 0", fontsize=8, ha="left", va="bottom")
    for arc in state_machine(language):
        style = dict(
            color=PREDICTABLE_COLOR if arc.predictable else OPEN_COLOR,
            lw=2 if arc.predictable else 1.3,
            linestyle="-" if arc.predictable else "--",
            arrowstyle="-|>",
            mutation_scale=14,
        )
        (xs, ys), (xt, yt) = where[arc.source], where[arc.target]
        if arc.source == arc.target:  # a loop over the top of the circle
            start, end = (xs - 0.25, ys + radius * 0.85), (xs + 0.25, ys + radius * 0.85)
            ax.add_patch(FancyArrowPatch(start, end, connectionstyle="arc3,rad=-2.2", **style))
            label_at, va = (xs, ys + radius + 0.62), "bottom"
        elif xt > xs:  # forwards to the next block, bowed upwards a little
            ax.add_patch(
                FancyArrowPatch(
                    (xs + radius, ys + 0.1), (xt - radius, yt + 0.1), connectionstyle="arc3,rad=-0.15", **style
                )
            )
            label_at, va = ((xs + xt) / 2, ys + 0.32), "bottom"
        else:  # back to the a's: a long arc underneath
            ax.add_patch(
                FancyArrowPatch((xs, ys - radius), (xt, yt - radius), connectionstyle="arc3,rad=-0.35", **style)
            )
            label_at, va = ((xs + xt) / 2, ys - radius - 0.4 * abs(xs - xt) / 2 - 0.08), "top"
        ax.text(
            *label_at,
            _arc_label(arc),
            ha="center",
            va=va,
            fontsize=8,
            color=style["color"],
            bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.9),
            zorder=5,
        )
    ax.plot([], [], color=PREDICTABLE_COLOR, lw=2, label="next symbol predictable")
    ax.plot([], [], color=OPEN_COLOR, lw=1.3, linestyle="--", label="open: a or the next block")
    width = 3.0 * (len(blocks) - 1)
    ax.set(xlim=(-2.0, width + 1.0), ylim=(-1.05 - 0.3 * width / 2, 1.9), aspect="equal")
    ax.axis("off")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=2, frameon=False)
    words = " ".join(f"{s}^{{{k}n}}" if k > 1 else f"{s}^n" for s, k in blocks)
    ax.set_title(f"counter machine for ${words}$ (n = the a's, m = symbols of the block still to come)", fontsize=10)
    return ax
