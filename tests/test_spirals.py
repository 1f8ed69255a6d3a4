"""Chapter 2: the two-spirals and grid data, the nets, the hand-designed grid net and the unit maps."""

import functools
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from nnutils.models import activation
from nnutils.spirals import (
    GRID_LIM,
    GridNet,
    PolarNet,
    RawNet,
    Step,
    grid_task,
    hand_designed_grid_net,
    predict_labels,
    raw_variant,
    seed_search,
    smallest_reliable,
    summarize_search,
    train_to_perfect,
    two_spirals,
)
from nnutils.training import set_seed
from nnutils.unit_maps import forward_with_layers, plane_grid, plot_unit_maps, unit_maps


def test_two_spirals_count_labels_and_range():
    x, y = two_spirals()
    assert x.shape == (194, 2) and y.shape == (194, 1)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    assert int(y.sum()) == 97 and set(y.unique().tolist()) == {0.0, 1.0}
    radius = x.norm(dim=1)
    assert radius.max() == pytest.approx(6.5, abs=1e-5) and radius.min() == pytest.approx(0.5, abs=1e-5)
    assert -7 < x[:, 0].min() and x[:, 0].max() < 7 and -6.6 <= x[:, 1].min() and x[:, 1].max() <= 6.7


def test_two_spirals_second_is_point_reflection_of_first():
    x, y = two_spirals()
    first, second = x[y[:, 0] == 0], x[y[:, 0] == 1]
    assert torch.allclose(second, -first)


def test_two_spirals_makes_three_turns_with_shrinking_radius():
    x, y = two_spirals()
    first = x[:97].double()
    radius = first.norm(dim=1)
    assert (radius[1:] < radius[:-1]).all()
    angle = torch.atan2(first[:, 0], first[:, 1])  # x = r sin(a), y = r cos(a)
    total = torch.diff(angle).remainder(2 * math.pi).sum()
    assert total.item() == pytest.approx(3 * 2 * math.pi, rel=1e-6)


def test_two_spirals_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_per_spiral"):
        two_spirals(n_per_spiral=1)


def test_grid_task_is_a_checkerboard():
    x, y = grid_task()
    assert x.shape == (9, 2) and y.shape == (9, 1)
    for (a, b), t in zip(x.tolist(), y[:, 0].tolist()):
        assert t == (a + b) % 2


def test_step_is_a_registered_forward_only_activation():
    step = activation("step")
    assert isinstance(step, Step)
    z = torch.tensor([-1.0, 0.0, 2.0], requires_grad=True)
    assert step(z).tolist() == [0.0, 1.0, 1.0]
    assert not step(z).requires_grad


@pytest.mark.parametrize("act", ["step", "sigmoid"])
def test_hand_designed_grid_net_is_exactly_right(act):
    x, y = grid_task()
    net = hand_designed_grid_net(act=act, scale=1.0 if act == "step" else 10.0)
    assert torch.equal(predict_labels(net, x), y)


def test_hand_designed_hidden_units_count_the_sum():
    x, _ = grid_task()
    _, (hidden,) = forward_with_layers(hand_designed_grid_net(), x)
    assert torch.equal(hidden.sum(dim=1), x.sum(dim=1))


def test_nets_shapes_and_initial_scale():
    x, _ = two_spirals()
    set_seed(0)
    for net in (PolarNet(7), RawNet(9), RawNet(5, depth=3, act="relu")):
        out = net(x)
        assert out.shape == (194, 1) and ((out > 0) & (out < 1)).all()
    big = RawNet(200, init_scale=0.3)
    std = torch.cat([p.flatten() for p in big.parameters()]).std().item()
    assert std == pytest.approx(0.3, rel=0.05)
    assert len(RawNet(4, depth=3).hidden_layers) == 3
    with pytest.raises(ValueError, match="init"):
        PolarNet(4, init_scale=0.0)


def test_polar_coordinates():
    p = PolarNet.to_polar(torch.tensor([[0.0, 2.0], [-3.0, 0.0]]))
    assert torch.allclose(p, torch.tensor([[2.0, math.pi / 2], [3.0, math.pi]]))


def test_grid_net_trains_to_perfect_and_reports_epochs():
    x, y = grid_task()
    set_seed(0)
    summary = train_to_perfect(GridNet(5), (x, y), lr=0.05, batch_size=9, max_epochs=1000, verbose=False)
    assert summary["solved"] and summary["epochs"] == len(summary["history"]) < 1000


def test_seed_search_and_summary():
    x, y = grid_task()
    runs = seed_search(GridNet, (x, y), {"hidden": [1, 5]}, seeds=[0, 1], lr=0.05, batch_size=9, max_epochs=200)
    assert list(runs.columns[:2]) == ["hidden", "seed"] and len(runs) == 4
    summary = summarize_search(runs, "hidden")
    assert summary["runs"].tolist() == [2, 2]
    assert summary.loc[summary.hidden == 1, "failed"].item() == 2  # one line cannot make a checkerboard
    assert smallest_reliable(pd.DataFrame({"hidden": [1, 5], "failed": [2, 0]})) == 5
    some = pd.DataFrame({"hidden": [1, 3, 5], "solved": [0, 1, 3], "failed": [3, 2, 0]})
    assert smallest_reliable(some, every_seed=False) == 3 and smallest_reliable(some) == 5
    with pytest.raises(ValueError, match="columns|Columns"):
        summarize_search(runs, "width")


def test_seed_search_is_the_same_sequential_and_parallel():
    x, y = two_spirals(n_per_spiral=20)
    options = dict(grid={"hidden": [2, 4]}, seeds=[0, 1], lr=0.02, batch_size=20, max_epochs=15)
    sequential = seed_search(PolarNet, (x, y), n_jobs=1, **options).drop(columns="seconds")
    parallel = seed_search(PolarNet, (x, y), n_jobs=2, **options).drop(columns="seconds")
    pd.testing.assert_frame_equal(sequential, parallel)
    assert sequential[["hidden", "seed"]].values.tolist() == [[2, 0], [2, 1], [4, 0], [4, 1]]


def test_seed_search_takes_a_list_of_settings_and_raw_variants():
    x, y = two_spirals(n_per_spiral=10)
    settings = [{"variant": "relu", "batch_size": 10}, {"variant": "three_layers", "batch_size": 20}]
    runs = seed_search(functools.partial(raw_variant, hidden=3), (x, y), settings, seeds=[0], max_epochs=3)
    assert runs["variant"].tolist() == ["relu", "three_layers"] and runs["batch_size"].tolist() == [10, 20]
    assert len(raw_variant("three_layers", hidden=3).hidden_layers) == 3
    with pytest.raises(ValueError, match="variant"):
        raw_variant("sigmoid")


def test_unit_maps_shapes_and_plot():
    points, xs, ys = plane_grid(GRID_LIM, GRID_LIM, (30, 20))
    assert points.shape == (600, 2) and len(xs) == 30 and len(ys) == 20
    net = hand_designed_grid_net()
    maps = unit_maps(net, GRID_LIM, GRID_LIM, (30, 20))
    assert maps.output.shape == (20, 30) and maps.layers[0].shape == (4, 20, 30)
    assert maps.thresholds == [0.5]
    # unit 1 is on above the line x1 + x2 = 0.5: off at the bottom-left corner, on at the top-right corner
    assert maps.layers[0][0, 0, 0] == 0 and maps.layers[0][0, -1, -1] == 1
    fig = plot_unit_maps(maps, grid_task(), title="test")
    assert len(fig.axes) >= 5
    plt.close(fig)
    set_seed(0)
    maps = unit_maps(RawNet(3, depth=3), (-7, 7), (-6.6, 6.7), 16)
    assert [m.shape for m in maps.layers] == [(3, 16, 16)] * 3 and maps.thresholds == [0.0] * 3


def test_unit_maps_rejects_foreign_layers():
    with pytest.raises(ValueError, match="not used"):
        unit_maps(hand_designed_grid_net(), GRID_LIM, GRID_LIM, 8, layers=[torch.nn.Tanh()])
