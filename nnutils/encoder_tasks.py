"""Encoder tasks: target matrices (N one-hot inputs x K outputs), the identity encoder and the shapes drawn with
lines (heart, star, house, triangle) whose cells the 2-unit hidden layer has to separate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

# The 18 x 14 "heart" targets, as written out in the reference report 000 (Part 3.3). Columns 0-7 are 1
# for a pattern left of one of 8 vertical lines, columns 8-13 are 1 for a pattern above one of 6 horizontal
# lines, so each row names a cell of the 9 x 7 grid these lines make: together the 18 cells outline a heart.
HEART18 = [
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    [0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1],
    [0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1],
    [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1],
    [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1],
    [0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1],
    [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1],
    [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1],
    [0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1],
    [0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1],
    [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1],
]

Line = tuple[float, float, float]  # (a, b, c): the output is 1 where a*x + b*y + c > 0


def identity_targets(n: int) -> torch.Tensor:
    """The n-2-n encoder: every input must reproduce itself (the n x n identity)."""
    if n < 2:
        raise ValueError(f"An n-2-n encoder needs n >= 2, got {n}.")
    return torch.eye(n)


def targets_from_layout(points: Sequence[Sequence[float]], lines: Sequence[Line]) -> torch.Tensor:
    """The target matrix that a chosen drawing implies: T[i, k] = 1 where point i lies on line k's positive side."""
    p = np.asarray(points, dtype=float)
    abc = np.asarray(lines, dtype=float)
    if p.ndim != 2 or p.shape[1] != 2 or abc.ndim != 2 or abc.shape[1] != 3:
        raise ValueError("points must be (N, 2) coordinates and lines (K, 3) coefficients (a, b, c).")
    side = p @ abc[:, :2].T + abc[:, 2]
    if np.any(np.abs(side) < 1e-9):
        raise ValueError("A point lies exactly on a line; move it to one side.")
    return torch.tensor(side > 0, dtype=torch.float32)


def grid_layout(targets: torch.Tensor, x_cols: Sequence[int], y_cols: Sequence[int]) -> np.ndarray:
    """Read a grid drawing back from a target matrix: x = vertical lines passed (0s), y = horizontal ones (1s)."""
    t = np.asarray(targets) > 0.5
    return np.stack([(~t[:, list(x_cols)]).sum(1), t[:, list(y_cols)].sum(1)], 1).astype(float)


def _heart_layout() -> tuple[np.ndarray, list[Line]]:
    """The heart read back from its target matrix: grid cells, 8 vertical lines (1 = left), 6 horizontal (1 = above)."""
    points = grid_layout(torch.tensor(HEART18), range(8), range(8, 14))
    lines = [(-1.0, 0.0, k + 0.5) for k in range(8)] + [(0.0, 1.0, j - 5.5) for j in range(6)]
    return points, lines


def _star_layout() -> tuple[np.ndarray, list[Line]]:
    """An 8-pointed star: 8 tips, 8 inner corners, and the 8 lines of its edges (tip k to tip k+3)."""
    angle = np.pi / 2 + np.arange(8) * np.pi / 4
    tips = np.stack([np.cos(angle), np.sin(angle)], 1)
    lines = []
    for k in range(8):
        p, q = tips[k], tips[(k + 3) % 8]
        a, b = q[1] - p[1], p[0] - q[0]  # normal of the edge p -> q
        c = -(a * p[0] + b * p[1])
        sign = -1.0 if c > 0 else 1.0  # positive side = away from the centre
        lines.append((sign * a, sign * b, sign * c))
    inner = 0.85 * np.cos(3 * np.pi / 8) / np.cos(np.pi / 4)  # a little inside where two edges cross
    inner_angle = angle + np.pi / 8
    points = np.concatenate([1.1 * tips, inner * np.stack([np.cos(inner_angle), np.sin(inner_angle)], 1)])
    order = np.argsort(np.concatenate([angle, inner_angle]) % (2 * np.pi))  # walk around the outline
    return points[order], lines


def _house_layout() -> tuple[np.ndarray, list[Line]]:
    """A house: a 3 x 3 wall with a door gap, a roof of 3 points, cut by a grid and the two roof slopes."""
    wall = [(-1, -1), (1, -1), (-1, 0), (0, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]  # a door gap at (0, -1)
    roof = [(-0.5, 1.6), (0.5, 1.6), (0, 2.2)]
    columns = [(1, 0, -x) for x in (-0.75, -0.25, 0.25, 0.75)]  # right of x
    rows = [(0, 1, -y) for y in (-0.5, 0.5, 1.3, 1.9)]  # above y
    slopes = [(-1.2, 1, -1.9), (1.2, 1, -1.9)]  # above the left and the right roof slope
    return np.array(wall + roof, dtype=float), columns + rows + slopes


def _triangle_layout() -> tuple[np.ndarray, list[Line]]:
    """A triangle of 15 points in 5 rows, cut by 4 lines in each of 3 directions (0, 60 and 120 degrees)."""
    points, lines = [], []
    for row in range(5):
        for j in range(row + 1):
            points.append((j - row / 2, -row * np.sqrt(3) / 2))
    for direction in (90, 210, 330):  # normals of the three line families
        u = np.array([np.cos(np.radians(direction)), np.sin(np.radians(direction))])
        heights = sorted({round(float(u @ p), 6) for p in np.array(points)})
        for lo, hi in zip(heights, heights[1:]):
            lines.append((u[0], u[1], -(lo + hi) / 2))
    return np.array(points), lines


LAYOUTS = {"heart": _heart_layout, "star": _star_layout, "house": _house_layout, "triangle": _triangle_layout}
TASKS = ("identity", *LAYOUTS)


def layout(name: str) -> tuple[np.ndarray, list[Line]]:
    """The drawing (points and lines) behind a task: heart (read back from its matrix), star, house, triangle."""
    if name not in LAYOUTS:
        raise ValueError(f"No drawing for {name!r}: choose one of {', '.join(LAYOUTS)}.")
    return LAYOUTS[name]()


def encoder_targets(name: str, n: int = 9) -> torch.Tensor:
    """Target matrix of a task by name: identity (n x n), heart (18 x 14), star (16 x 8), house, triangle."""
    if name == "identity":
        return identity_targets(n)
    if name == "heart":  # the heart is data; its drawing is read back from it
        return torch.tensor(HEART18, dtype=torch.float32)
    if name in LAYOUTS:  # the designed tasks are computed from their drawings
        return targets_from_layout(*layout(name))
    raise ValueError(f"Unknown encoder task {name!r}: choose one of {', '.join(TASKS)}.")
