"""Chapter 5's live view: an autoencoder's code for a chosen image, with one code unit turned by a slider and the
decoder's drawing of the changed code beside the original and its reconstruction."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import nn

from .. import autoencoders as ae
from .render import as_array, image_view, png


@torch.no_grad()
def decode(autoencoder: nn.Module, codes: torch.Tensor) -> torch.Tensor:
    """The decoder's images for codes (N, code_size), in eval mode."""
    was_training = autoencoder.training
    autoencoder.eval()
    try:
        return autoencoder.decoder(codes).cpu()
    finally:
        autoencoder.train(was_training)


def code_explorer(autoencoder: nn.Module, images: torch.Tensor) -> widgets.VBox:
    """Choose an image and a code unit, set the unit's value: the original, its reconstruction, the decoding of the
    edited code, and the code as bars (the edited unit in red). "Its own code" puts the unit back."""
    codes = ae.encode(autoencoder, images)
    top = float(codes.max()) * 1.25 or 1.0
    index = widgets.IntSlider(value=0, min=0, max=len(images) - 1, description="image", continuous_update=False)
    unit = widgets.IntSlider(value=0, min=0, max=codes.shape[1] - 1, description="code unit", continuous_update=False)
    value = widgets.FloatSlider(
        min=min(0.0, float(codes.min())), max=top, step=top / 100, description="its value", continuous_update=False
    )
    restore, view, caption = widgets.Button(description="Its own code"), image_view(), widgets.HTML()
    syncing = {"on": False}

    def redraw(_=None) -> None:
        if syncing["on"]:
            return
        i, k = index.value, unit.value
        edited = codes[i : i + 1].clone()
        edited[0, k] = value.value
        pictures = [as_array(images[i : i + 1])[0], as_array(decode(autoencoder, codes[i : i + 1]))[0]]
        pictures.append(as_array(decode(autoencoder, edited))[0])
        fig = Figure(figsize=(10, 2.4), layout="constrained")
        axes = fig.subplots(1, 4, width_ratios=[1, 1, 1, 3.5])
        for ax, picture, title in zip(axes, pictures, ["the image", "reconstruction", f"unit {k} set"]):
            ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        colours = np.where(np.arange(codes.shape[1]) == k, "crimson", "tab:blue")
        axes[3].bar(np.arange(codes.shape[1]), edited[0].numpy(), color=colours)
        axes[3].set(ylim=(value.min, top), xlabel="code unit", title="the code")
        view.value = png(fig)
        caption.value = f"image {i}: unit {k} is {float(codes[i, k]):.2f} in its code, set to {value.value:.2f}"

    def own_code(_=None) -> None:
        syncing["on"] = True
        value.value = float(codes[index.value, unit.value])
        syncing["on"] = False
        redraw()

    index.observe(own_code, names="value")
    unit.observe(own_code, names="value")
    value.observe(redraw, names="value")
    restore.on_click(own_code)
    own_code()
    return widgets.VBox([widgets.HBox([index, unit]), widgets.HBox([value, restore]), caption, view])
