"""The HTML animation player: one frame per call of draw, a self-contained player, the figure closed after."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from nnutils.animation import animate


def test_animate_draws_every_frame_into_a_self_contained_player():
    fig, ax = plt.subplots(figsize=(2, 2))
    drawn = []

    def draw(frame):
        drawn.append(frame)
        ax.clear()
        ax.plot([0, frame], [0, 1])

    html = animate(fig, draw, [3, 1, 2], dpi=30).data
    assert {1, 2, 3} <= set(drawn)
    assert "<script" in html and "data:image/png;base64" in html and html.count("data:image/png") >= 3
    assert not plt.fignum_exists(fig.number), "the figure is closed so that it is not shown a second time"


def test_animate_counts_frames_and_can_keep_the_figure_open():
    fig, ax = plt.subplots(figsize=(2, 2))
    drawn = []
    animate(fig, lambda frame: drawn.append(frame), 2, close=False, dpi=20)
    assert set(drawn) >= {0, 1} and plt.fignum_exists(fig.number) and fig.get_dpi() == 20
    plt.close(fig)


def test_an_animation_without_frames_is_a_clear_error():
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="at least one frame"):
        animate(fig, lambda frame: None, [])
    plt.close(fig)
