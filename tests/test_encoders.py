"""Encoder tasks, the 2-hidden-unit encoder net and its hidden-space pictures."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from nnutils.encoders import (
    TASKS,
    EncoderNet,
    animate_frames,
    blueprint,
    boundary_angles,
    encoder_summary,
    encoder_targets,
    from_centre,
    grid_layout,
    hidden_space,
    layout,
    line_families,
    outputs_right,
    plot_drawings_against_results,
    plot_frames,
    plot_targets,
    snapshot_epochs,
    targets_from_layout,
    train_encoder,
)
from nnutils.history import Run
from nnutils.training import Snapshots, fit, set_seed

SHAPES = {"identity": (9, 9), "heart": (18, 14), "star": (16, 8), "house": (11, 10), "triangle": (15, 12)}


@pytest.mark.parametrize("name", TASKS)
def test_target_shapes_are_binary_with_distinct_rows(name):
    targets = encoder_targets(name)
    assert tuple(targets.shape) == SHAPES[name]
    assert set(targets.unique().tolist()) <= {0.0, 1.0}
    assert len(np.unique(targets.numpy(), axis=0)) == len(targets), "two inputs would share one target"


def test_identity_size_follows_n_and_rejects_tiny_n():
    assert torch.equal(encoder_targets("identity", n=4), torch.eye(4))
    with pytest.raises(ValueError, match="n >= 2"):
        encoder_targets("identity", n=1)


def test_unknown_task_is_a_clear_error():
    with pytest.raises(ValueError, match="choose one of"):
        encoder_targets("circle")
    with pytest.raises(ValueError, match="No drawing"):
        layout("identity")


def test_targets_from_layout_reads_sides_of_lines():
    points = [(0.0, 0.0), (2.0, 0.0), (2.0, 2.0)]
    lines = [(1.0, 0.0, -1.0), (0.0, 1.0, -1.0)]  # right of x = 1, above y = 1
    assert targets_from_layout(points, lines).tolist() == [[0, 0], [1, 0], [1, 1]]
    with pytest.raises(ValueError, match="exactly on a line"):
        targets_from_layout([(1.0, 0.0)], lines)
    with pytest.raises(ValueError, match="coefficients"):
        targets_from_layout([(1.0, 0.0, 3.0)], lines)


def test_heart_grid_reads_back_as_a_symmetric_heart():
    cells = grid_layout(encoder_targets("heart"), range(8), range(8, 14))
    assert len({tuple(c) for c in cells}) == 18
    assert set(cells[:, 0]) == set(range(9)) and set(cells[:, 1]) == set(range(7))
    drawn = {tuple(c) for c in cells} - {(0, 6), (8, 6), (0, 0), (8, 0)}  # the four corner markers
    assert drawn == {(8 - x, y) for x, y in drawn}, "the heart should be mirror symmetric"
    assert torch.equal(targets_from_layout(*layout("heart")), encoder_targets("heart")), "drawing and data agree"


@pytest.mark.parametrize("name", ["heart", "star", "house", "triangle"])
def test_blueprints_fit_the_hidden_square_and_keep_the_targets(name):
    frame = blueprint(name)
    assert np.abs(frame["points"]).max() <= 0.85 + 1e-9
    lines = np.column_stack([frame["weight"], frame["bias"]])
    assert torch.equal(targets_from_layout(frame["points"], lines), encoder_targets(name))


def test_hidden_space_matches_the_forward_pass_and_snapshots_record_it():
    targets = encoder_targets("house")
    set_seed(0)
    model = EncoderNet(*targets.shape, init=0.5)
    frame = hidden_space(model)
    assert frame["points"].shape == (11, 2) and frame["weight"].shape == (10, 2) and frame["bias"].shape == (10,)
    assert np.allclose(frame["points"], model.hidden(torch.eye(11)).detach().numpy(), atol=1e-6)
    snaps = Snapshots([0, 2], hidden_space)
    fit(model, (torch.eye(11), targets), optimizer="adam", loss="bce", lr=0.05, batch_size=11, epochs=2,
        callbacks=[snaps], progress=False)  # fmt: skip
    assert sorted(snaps.frames) == [0, 2]


def test_small_init_starts_all_dots_near_the_centre():
    set_seed(0)
    points = hidden_space(EncoderNet(9, 9))["points"]
    assert np.abs(points).max() < 0.05


def test_an_easy_encoder_learns_its_targets():
    targets = encoder_targets("identity", n=4)
    run = train_encoder(targets, epochs=400, lr=0.05, frames_at=[0, 400], name="4-2-4")
    assert isinstance(run, Run) and run.name == "4-2-4" and run.epochs == 400
    assert outputs_right(run.model, targets) == 1.0 == run["outputs_right"] and run.history.last("train_acc") == 1.0
    assert sorted(run["snapshots"]) == [0, 400]
    assert run.result.accuracy == 1.0 and run.result.loss == pytest.approx(run.history.last("train_loss"), rel=0.2)
    first = run["epochs_to_targets"]
    assert first is not None and run.history.train_acc[first - 1] == 1.0 and run.history.train_acc[first - 2] < 1.0
    summary = encoder_summary({"4-2-4": run})
    assert summary.loc["4-2-4"].tolist() == ["4x4", first, 1.0]


def test_drawings_against_results_has_a_column_per_task():
    runs = {name: train_encoder(encoder_targets(name), epochs=2, lr=0.05, frames_at=[0]) for name in ("star", "house")}
    fig = plot_drawings_against_results(runs)
    assert len(fig.axes) == 4 and fig.axes[1].get_title() == "house: drawing"
    assert fig.axes[3].get_title() == "house: learnt, epoch 2"


def test_snapshot_epochs_and_pictures():
    epochs = snapshot_epochs(100, 6)
    assert epochs[0] == 0 and epochs[-1] == 100 and epochs == sorted(set(epochs))
    with pytest.raises(ValueError):
        snapshot_epochs(0, 5)
    frames = {e: hidden_space(EncoderNet(5, 5, init=0.5)) for e in (0, 1, 2)}
    assert len(plot_frames(frames, ncols=2).axes) == 4
    assert len(plot_targets({"a": torch.eye(3), "b": torch.ones(4, 2)}).axes) == 2
    assert "<script" in animate_frames(frames, title="test").data


def test_from_centre_measures_each_point_from_the_points_mean():
    points = np.array([[0.0, 0.0], [2.0, 0.0], [1.0, 3.0], [1.0, -3.0]])
    assert from_centre(points).tolist() == [1.0, 1.0, 3.0, 3.0]
    assert from_centre(np.full((5, 2), 0.3)).max() == 0.0


def test_boundary_angles_and_line_families_read_directions_modulo_180():
    # x > 0.5 (vertical), y > 0 (horizontal), two lines at 1 and 179 degrees (1 degree from horizontal each way)
    tilt = np.radians(1.0)
    weight = np.array([[1.0, 0.0], [0.0, 1.0], [-np.sin(tilt), np.cos(tilt)], [np.sin(tilt), np.cos(tilt)]])
    frame = {"weight": weight, "bias": np.zeros(4), "points": np.zeros((3, 2))}
    assert np.allclose(boundary_angles(frame), [90.0, 0.0, 1.0, 179.0])
    assert np.allclose(boundary_angles({"weight": -weight}), boundary_angles(frame)), "a line has no side"
    families = line_families(frame, {"upright": [0], "flat": [1, 2, 3]})
    assert families.loc["flat", "spread (deg)"] == pytest.approx(2.0), "the arc across 0/180, not 178 degrees"
    assert min(families.loc["flat", "direction (deg)"], 180 - families.loc["flat", "direction (deg)"]) < 1e-6
    assert families.loc["upright", "direction (deg)"] == pytest.approx(90.0)
    assert families.loc["upright", "spread (deg)"] == 0.0 and families.loc["flat", "lines"] == 3


def test_the_heart_drawing_has_two_families_of_parallel_lines_at_right_angles():
    families = line_families(blueprint("heart"), {"vertical": range(8), "horizontal": range(8, 14)})
    assert families["spread (deg)"].tolist() == [0.0, 0.0]
    assert families["direction (deg)"].tolist() == pytest.approx([90.0, 0.0])
