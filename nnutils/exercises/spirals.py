"""Exercise checks for chapter 2 (twin spirals): RawNet's parameter count, where a PolarNet unit switches on, and
a hand-designed step net for a variant of the grid task (the "plus" pattern)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from nnutils.exercises import Feedback, check_parameter_count, check_value, is_blank, not_answered
from nnutils.grid_task import GridNet, grid_task
from nnutils.spirals import RawNet


def check_rawnet_parameters(answer: int, hidden: int = 12, depth: int = 2) -> Feedback:
    """Is ``answer`` the number of parameters of a RawNet with ``hidden`` units in each of ``depth`` layers?"""
    hint = (
        "Count layer by layer: a linear layer from a inputs to b units has a x b weights and b biases; "
        f"RawNet goes 2 -> {hidden}" + f" -> {hidden}" * (depth - 1) + " -> 1."
    )
    return check_parameter_count(answer, RawNet(hidden, init_scale=None, depth=depth), hint=hint)


def polar_switch_radius(w_radius: float, w_angle: float, bias: float, angle: float) -> float:
    """The radius at which a PolarNet unit tanh(w_radius r + w_angle angle + bias) crosses 0 along a ray."""
    if w_radius == 0:
        raise ValueError("With w_radius = 0 the unit does not depend on the radius: it has no switching radius.")
    return -(w_angle * angle + bias) / w_radius


def check_polar_switch_radius(answer: float, w_radius: float, w_angle: float, bias: float, angle: float) -> Feedback:
    """Is ``answer`` the radius where the given PolarNet hidden unit switches sign along the ray at ``angle``?"""
    hint = "Set the unit's input to zero, w_radius r + w_angle angle + bias = 0, and solve for r (angle in radians)."
    expected = polar_switch_radius(w_radius, w_angle, bias, angle)
    return check_value(answer, expected, name="your radius", rtol=1e-3, atol=1e-3, hint=hint)


def plus_task() -> tuple[torch.Tensor, torch.Tensor]:
    """The grid task's variant: the nine grid points, target 1 on the middle row or middle column (a plus sign)."""
    x, _ = grid_task()
    y = ((x[:, 0] == 1) | (x[:, 1] == 1)).float().unsqueeze(1)
    return x, y


def check_plus_design(
    hidden_weight: Sequence[Sequence[float]],
    hidden_bias: Sequence[float],
    output_weight: Sequence[float],
    output_bias: float,
) -> Feedback:
    """Does a 2-H-1 net of step units with these weights give the plus task's target at all nine points?"""
    if any(is_blank(part) for part in (hidden_weight, hidden_bias, output_weight, output_bias)):
        return not_answered("your design", "give every weight and bias in place of its ...")
    try:
        w = torch.as_tensor(hidden_weight, dtype=torch.float32)
        b = torch.as_tensor(hidden_bias, dtype=torch.float32).reshape(-1)
        v = torch.as_tensor(output_weight, dtype=torch.float32).reshape(1, -1)
        c = torch.as_tensor(output_bias, dtype=torch.float32).reshape(1)
    except (TypeError, ValueError):
        return Feedback(False, "The weights should be numbers (lists of lists for the hidden weights).")
    hidden = len(b)
    if w.shape != (hidden, 2) or v.shape[1] != hidden:
        return Feedback(
            False,
            f"Shapes do not fit: hidden_weight is {tuple(w.shape)}, hidden_bias has {hidden} values and "
            f"output_weight {v.shape[1]}; with H hidden units they must be (H, 2), H and H.",
        )
    net = GridNet(hidden=hidden, act="step", init_scale=None)
    with torch.no_grad():
        net.hidden_layers[0][0].weight.copy_(w)
        net.hidden_layers[0][0].bias.copy_(b)
        net.output[0].weight.copy_(v)
        net.output[0].bias.copy_(c)
        x, y = plus_task()
        wrong = [tuple(int(t) for t in p) for p, out, target in zip(x, net(x)[:, 0], y[:, 0]) if out != target]
    if wrong:
        return Feedback(
            False,
            f"{9 - len(wrong)} of 9 points are right; wrong at (x1, x2) = {', '.join(map(str, wrong))}. "
            "Draw each hidden unit's line on the grid and check which side is on at those points.",
        )
    return Feedback(True, f"your {hidden}-unit step net gets all nine points of the plus task right.")
