"""Small made-up data sets the tests share (importable by the test modules: pytest puts tests/ on the path)."""

import numpy as np


def toy_images(n=240, side=6, seed=0):
    """Three classes of noisy images: a bright top row, a bright left column, or a bright centre."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = 0.3 * rng.standard_normal((n, 1, side, side))
    x[y == 0, 0, 0, :] += 1.0
    x[y == 1, 0, :, 0] += 1.0
    x[y == 2, 0, 2:4, 2:4] += 1.0
    return x, y
