"""Chapter 4's live view: a slider through test images, showing a convnet's first-layer filters or the feature
maps of any layer for the chosen image."""

from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure
from torch import nn

from .. import convnets as cn
from .render import as_array, draw_image_grid, image_view, png

FILTERS = "first-layer filters"


def feature_map_viewer(
    models: Mapping[str, nn.Module],
    images: torch.Tensor | Mapping[str, torch.Tensor],
    labels: torch.Tensor | None = None,
    ncols: int = 16,
) -> widgets.VBox:
    """Choose a model, an image (slider) and a layer: the input beside that layer's maps (or the filters).
    ``images`` is one batch (N, 1, H, W) for every model, or one per model name (when they read different
    scalings of the same images)."""
    if not models:
        raise ValueError("feature_map_viewer needs at least one model.")
    per_model = images if isinstance(images, Mapping) else {name: images for name in models}
    missing = [name for name in models if name not in per_model]
    if missing:
        raise ValueError(f"No images for {missing}: give images for every model ({', '.join(models)}).")
    n = min(len(per_model[name]) for name in models)
    model = widgets.Dropdown(options=list(models), description="model")
    index = widgets.IntSlider(value=0, min=0, max=n - 1, description="image", continuous_update=False)
    layer = widgets.Dropdown(description="layer")
    caption, view = widgets.HTML(), image_view()
    quiet = {"on": False}

    def layers_of(name: str) -> list[str]:
        return [FILTERS, *cn.feature_maps(models[name], per_model[name][:1])]

    def redraw(_=None) -> None:
        if quiet["on"]:
            return
        name, i = model.value, index.value
        image = per_model[name][i : i + 1]
        if layer.value == FILTERS:
            shown = cn.first_layer_filters(models[name])
        else:
            shown = cn.feature_maps(models[name], image)[layer.value][0]
        fig = Figure(figsize=(10, 0.7 * (-(-len(shown) // ncols)) + 1.4), layout="constrained")
        left, right = fig.subfigures(1, 2, width_ratios=[1.2, 8.8])
        draw_image_grid(left, as_array(image), ["the input"], ncols=1)
        draw_image_grid(right, shown, ncols=ncols)
        shape = " x ".join(map(str, shown.shape[1:]))
        right.suptitle(f"{name}: {layer.value}, {len(shown)} of {shape}", fontsize=10)
        view.value = png(fig)
        digit = f" (a {int(labels[i])})" if labels is not None else ""
        caption.value = f"image {i}{digit}, {layer.value} of {name}"

    def set_layers() -> None:
        """The chosen model's layers as the options, keeping the chosen layer where the model has it."""
        keep = layer.value
        quiet["on"] = True  # one redraw per change of model, not one per trait
        layer.options = layers_of(model.value)
        layer.value = keep if keep in layer.options else layer.options[min(1, len(layer.options) - 1)]
        quiet["on"] = False

    def new_model(_=None) -> None:
        set_layers()
        redraw()

    new_model()
    model.observe(new_model, names="value")
    index.observe(redraw, names="value")
    layer.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([model, layer]), index, caption, view])
