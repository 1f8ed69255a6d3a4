"""Chapter 2's live view: a twin-spirals playground in the spirit of TensorFlow Playground. Choose the net, its
hidden units, activation, initial-weight scale and learning rate, press Train, and watch every unit's map change."""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import torch
from matplotlib.figure import Figure

from .. import spirals as sp
from ..training import TrainConfig, Trainer, set_seed
from ..unit_maps import plot_unit_maps, unit_maps
from .render import WIDE_LABELS, image_view, png

NETS = ("RawNet", "PolarNet")
ACTIVATIONS = ("tanh", "relu", "sigmoid")


def build_net(net: str, hidden: int, act: str, init_scale: float, seed: int) -> torch.nn.Module:
    """A freshly seeded RawNet (two hidden layers) or PolarNet (one, on the radius and angle)."""
    if net not in NETS:
        raise ValueError(f"Unknown net {net!r}: choose one of {', '.join(NETS)}.")
    set_seed(seed)
    build = sp.RawNet if net == "RawNet" else sp.PolarNet
    return build(hidden, init_scale=init_scale, act=act)


def spirals_playground(
    data: tuple[torch.Tensor, torch.Tensor] | None = None,
    net: str = "RawNet",
    hidden: int = 8,
    act: str = "tanh",
    init_scale: float = 0.1,
    lr: float = 0.02,
    epochs_per_click: int = 300,
    redraw_every: int = 100,
    resolution: int = 40,
    seed: int = 0,
) -> widgets.VBox:
    """The playground on ``data`` (default: the 97-point twin spirals). A change of net, size, activation or scale
    starts a new net; Train adds ``epochs_per_click`` epochs (Adam, BCE, half batches), redrawing every
    ``redraw_every``; New weights draws the next seed. The learning rate applies from the next step."""
    x, y = data if data is not None else sp.two_spirals()
    controls = {
        "net": widgets.ToggleButtons(options=NETS, value=net, description="net"),
        "hidden": widgets.IntSlider(value=hidden, min=1, max=16, description="hidden units", style=WIDE_LABELS),
        "act": widgets.Dropdown(options=ACTIVATIONS, value=act, description="activation"),
        "init_scale": widgets.FloatLogSlider(
            value=init_scale, base=10, min=-2, max=0, step=0.1, description="init scale", style=WIDE_LABELS
        ),
        "lr": widgets.FloatLogSlider(
            value=lr, base=10, min=-3, max=-1, step=0.1, description="learning rate", style=WIDE_LABELS
        ),
        "epochs": widgets.IntSlider(
            value=epochs_per_click, min=50, max=500, step=50, description="epochs/click", style=WIDE_LABELS
        ),
    }
    train_button, new_button = widgets.Button(description="Train"), widgets.Button(description="New weights")
    status, view = widgets.HTML(), image_view()
    state: dict = {"seed": seed}
    options = sp.perfect_options(lr, max(1, len(y) // 2), redraw_every, weight_decay=1e-4)
    base_config = TrainConfig(**options, eval_every=0, progress=False, seed=seed)

    def redraw() -> None:
        model, epochs = state["trainer"].model, state["epochs"]
        right = float((sp.predict_labels(model, x) == y).float().mean())
        cols, depth = min(8, controls["hidden"].value), len(model.hidden_layers)
        rows = depth * -(-controls["hidden"].value // cols)
        fig = Figure(figsize=(3.6 + 1.35 * cols, max(3.2, 1.35 * (rows + 0.45 * depth) + 0.4)), layout="constrained")
        plot_unit_maps(unit_maps(model, sp.SPIRAL_XLIM, sp.SPIRAL_YLIM, resolution), (x, y), ncols=cols, fig=fig)
        view.value = png(fig)
        layers = "-".join(["2", *[str(controls["hidden"].value)] * len(model.hidden_layers), "1"])
        status.value = (
            f"{controls['net'].value} {layers} ({controls['act'].value}, seed {state['seed']}): epoch {epochs:,}, "
            f"{100 * right:.1f}% of the points right"
        )

    def new_net(_=None) -> None:
        c = {name: control.value for name, control in controls.items()}
        model = build_net(c["net"], c["hidden"], c["act"], c["init_scale"], state["seed"])
        config = replace(base_config, lr=c["lr"], seed=state["seed"])
        state.update(trainer=Trainer(model, config), epochs=0)
        redraw()

    def train(_=None) -> None:
        trainer = state["trainer"]
        for group in trainer.optimizer.param_groups:
            group["lr"] = controls["lr"].value
        left = controls["epochs"].value
        while left > 0:
            chunk = min(redraw_every, left)
            trainer.config = replace(trainer.config, epochs=chunk, seed=state["seed"] + state["epochs"])
            trainer.fit((x, y))
            state["epochs"] += chunk
            left -= chunk
            redraw()

    def next_seed(_=None) -> None:
        state["seed"] += 1
        new_net()

    for name in ("net", "hidden", "act", "init_scale"):
        controls[name].observe(new_net, names="value")
    train_button.on_click(train)
    new_button.on_click(next_seed)
    new_net()
    row = widgets.HBox
    return widgets.VBox(
        [
            controls["net"],
            row([controls["hidden"], controls["act"]]),
            row([controls["init_scale"], controls["lr"]]),
            row([controls["epochs"], train_button, new_button]),
            status,
            view,
        ]
    )
