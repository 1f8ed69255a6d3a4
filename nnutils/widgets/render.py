"""Figures drawn off-screen for the live views: a matplotlib ``Figure`` (not pyplot, so nothing is shown inline)
rendered to PNG bytes for an ``ipywidgets.Image``, and image grids drawn on such a figure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from io import BytesIO

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure


def png(fig: Figure, dpi: float = 72) -> bytes:
    """The figure as PNG bytes."""
    buffer = BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def image_view() -> widgets.Image:
    """An empty PNG view that a callback fills with ``png(fig)``."""
    return widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto", align_self="flex-start"))


WIDE_LABELS = {"description_width": "initial"}  # a control's whole description, not cut to a fixed width


def as_array(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Images (N, H, W) or (N, 1, H, W) as a NumPy array (N, H, W)."""
    array = np.asarray(images.detach().cpu() if isinstance(images, torch.Tensor) else images)
    return array[:, 0] if array.ndim == 4 else array


def draw_image_grid(
    fig: Figure, images: torch.Tensor | np.ndarray, titles: Sequence[str] | None = None, ncols: int = 8, cmap="gray"
) -> None:
    """A grid of images on ``fig`` (each scaled to its own grey range), with optional titles."""
    images = as_array(images)
    ncols = max(1, ncols)  # a short row keeps the images' size
    nrows = max(1, -(-len(images) // ncols))
    for i, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """The widget and every widget inside it (through ``children``), depth first."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def find_widget(view: widgets.Widget, kind: type, description: str | None = None) -> widgets.Widget:
    """The first widget of a kind (and description, if given) inside a view, e.g. its "Train" button."""
    for widget in walk(view):
        if isinstance(widget, kind) and (description is None or getattr(widget, "description", None) == description):
            return widget
    named = f" described {description!r}" if description is not None else ""
    raise LookupError(f"The view has no {kind.__name__}{named}.")
