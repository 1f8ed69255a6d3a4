"""Chapter 3's live views: a slider (and a play button) through training snapshots, for the encoders' hidden space
and for the recurrent nets' hidden states on the probe stream."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ipywidgets as widgets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import encoders as enc
from .. import recurrent as rnn
from .render import image_view, png

Draw = Callable[[object, Axes, str], object]


def snapshot_slider(
    frames: Mapping[str, Mapping[int, object]], draw: Draw, size: tuple[float, float] = (4.2, 4.2)
) -> widgets.VBox:
    """Step through ``frames`` ({run name: {epoch: frame}}) with a slider; ``draw(frame, ax, title)`` draws one.
    With several runs a dropdown chooses the run."""
    if not frames or not all(frames.values()):
        raise ValueError("snapshot_slider needs at least one run with at least one snapshot.")
    run = widgets.Dropdown(options=list(frames), description="run")
    epoch = widgets.SelectionSlider(options=sorted(frames[run.value]), description="epoch", continuous_update=False)
    play = widgets.Play(interval=700, min=0, max=len(epoch.options) - 1, description="play")
    widgets.jslink((play, "value"), (epoch, "index"))
    view = image_view()

    def redraw(_=None) -> None:
        fig = Figure(figsize=size, layout="constrained")
        draw(frames[run.value][epoch.value], fig.add_subplot(), f"{run.value}, epoch {epoch.value}")
        view.value = png(fig)

    def new_run(_=None) -> None:
        with epoch.hold_trait_notifications():
            epoch.options = sorted(frames[run.value])
        play.max = len(epoch.options) - 1
        redraw()

    run.observe(new_run, names="value")
    epoch.observe(redraw, names="value")
    redraw()
    top = [run] if len(frames) > 1 else []
    return widgets.VBox([*top, widgets.HBox([play, epoch]), view])


def encoder_snapshots(runs: Mapping[str, object]) -> widgets.VBox:
    """The hidden space (dots: inputs, lines: outputs) of each encoder run (``run["snapshots"]``) by epoch."""
    return snapshot_slider(
        {name: run["snapshots"] for name, run in runs.items()},
        lambda frame, ax, title: enc.plot_hidden_space(frame, ax, title=title),
    )


def state_snapshots(frames: Mapping[int, object], x: str = "hidden1", y: str = "hidden2", name: str = "SRN"):
    """A recurrent net's hidden states on the probe stream ({epoch: ``run_stream`` frame}) by epoch."""

    def draw(frame, ax: Axes, title: str) -> None:
        rnn.plot_states(frame, x, y, ax, annotate=False, title=title)
        ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05))

    return snapshot_slider({name: frames}, draw)
