"""Animations that play in the static book without a kernel (matplotlib's JavaScript HTML player)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import matplotlib.pyplot as plt
from IPython.display import HTML
from matplotlib.animation import FuncAnimation


def animate(
    fig: plt.Figure,
    draw: Callable[[int], object],
    frames: Sequence[int] | int,
    interval_ms: int = 400,
    close: bool = True,
    dpi: float | None = None,
) -> HTML:
    """Call ``draw(frame)`` for each frame on ``fig`` and return a scrubbable, self-contained HTML player.

    ``draw`` clears and redraws the figure's axes for one frame. The player (play, step and a slider)
    is plain HTML and JavaScript with the frames embedded, so it works offline and in the static site.
    ``dpi`` (default: the figure's) sets the frames' resolution, and with it the size of the page.
    """
    frames = list(range(frames)) if isinstance(frames, int) else list(frames)
    if not frames:
        raise ValueError("An animation needs at least one frame.")
    if dpi is not None:
        fig.set_dpi(dpi)
    anim = FuncAnimation(fig, draw, frames=frames, interval=interval_ms, repeat=False)
    html = anim.to_jshtml(default_mode="once")
    if close:
        plt.close(fig)
    return HTML(html)
