"""Chapter 1's live view: the confusion matrix as a grid of buttons; choosing a cell shows the images behind it."""

from __future__ import annotations

from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from ..plotting import plot_label
from .render import draw_image_grid, image_view, png

SHADES = 8  # colour steps of the cells (buttons of one step share one style: fewer widgets to store and send)


def _cell_colour(count: int, largest: int) -> str:
    """White for 0 to a full blue for the largest count, in SHADES steps, as a CSS colour."""
    level = round(SHADES * count / largest) / SHADES if largest else 0.0
    red, green = (int(255 - level * (255 - c)) for c in (33, 113))
    return f"rgb({red}, {green}, {int(255 - level * (255 - 181))})"


def confusion_explorer(
    confusion: np.ndarray,
    classes: Sequence[str],
    images: torch.Tensor,
    labels: torch.Tensor,
    predictions: torch.Tensor,
    max_images: int = 16,
) -> widgets.VBox:
    """A button per cell of ``confusion`` (rows: true class, columns: predicted); clicking one shows up to
    ``max_images`` of the ``images`` with that true label and that prediction."""
    confusion = np.asarray(confusion, dtype=int)
    k = len(classes)
    if confusion.shape != (k, k):
        raise ValueError(f"confusion must be {k} x {k} for {k} classes, not {confusion.shape}.")
    if not len(images) == len(labels) == len(predictions):
        raise ValueError("images, labels and predictions must have one entry per image.")
    labels, predictions = torch.as_tensor(labels).cpu(), torch.as_tensor(predictions).cpu()
    view, caption = image_view(), widgets.HTML()
    largest = int(confusion.max())

    def show(true: int, predicted: int) -> None:
        chosen = ((labels == true) & (predictions == predicted)).nonzero().flatten()
        what = "read right" if true == predicted else f"taken for {classes[predicted]}"
        caption.value = (
            f"<b>{classes[true]}</b> {what}: {int(confusion[true, predicted]):,} in the matrix, "
            f"{len(chosen):,} among these images"
            + (f" (the first {max_images} shown)" if len(chosen) > max_images else "")
        )
        fig = Figure(figsize=(8, 2.3), layout="constrained")
        if len(chosen):
            shown = chosen[:max_images]
            draw_image_grid(fig, images[shown], [f"#{int(i)}" for i in shown], ncols=8)
        else:
            fig.text(0.5, 0.5, "no image in this cell", ha="center", va="center")
        fig.suptitle(f"true {plot_label(classes[true])}, predicted {plot_label(classes[predicted])}", fontsize=10)
        view.value = png(fig)

    layout, styles = widgets.Layout(width="auto", height="28px"), {}

    def button(true: int, predicted: int) -> widgets.Button:
        count = int(confusion[true, predicted])
        colour = _cell_colour(count, largest)
        if colour not in styles:
            styles[colour] = widgets.ButtonStyle(button_color=colour)
        cell = widgets.Button(
            description=str(count),
            tooltip=f"true {classes[true]}, predicted {classes[predicted]}: {count}",
            layout=layout,
            style=styles[colour],
        )
        cell.on_click(lambda _: show(true, predicted))
        return cell

    header = [widgets.HTML("<i>true \\ predicted</i>")] + [widgets.HTML(f"<b>{c}</b>") for c in classes]
    cells = list(header)
    for true in range(k):
        cells += [widgets.HTML(f"<b>{classes[true]}</b>")] + [button(true, p) for p in range(k)]
    grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns=f"9em repeat({k}, 4.2em)"))
    off_diagonal = confusion - np.diag(np.diag(confusion))
    show(*np.unravel_index(int(off_diagonal.argmax()), confusion.shape))  # start on the most frequent mistake
    return widgets.VBox([grid, caption, view])
