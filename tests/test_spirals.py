"""Chapter 2: the two-spirals and grid data, the nets, the hand-designed grid net and training to 100%."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from nnutils.grid_task import (
    GridNet,
    grid_net_table,
    grid_task,
    grid_truth_table,
    hand_designed_grid_net,
    hidden_gap,
    output_margin,
    plot_grid_design,
    units_on,
)
from nnutils.history import Run
from nnutils.models import ACTIVATIONS, Step, activation
from nnutils.spirals import (
    PolarNet,
    RawNet,
    ToPolar,
    outcome_groups,
    plot_epochs,
    predict_labels,
    raw_variant,
    speed_phrase,
    speed_word,
    train_to_perfect,
    two_spirals,
)
from nnutils.training import set_seed
from nnutils.unit_maps import forward_with_layers


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
    assert ACTIVATIONS["step"] is Step  # registered in nnutils.models itself, not patched in by a chapter module
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


def test_polar_coordinates_are_the_first_layer():
    p = PolarNet.to_polar(torch.tensor([[0.0, 2.0], [-3.0, 0.0]]))
    assert torch.allclose(p, torch.tensor([[2.0, math.pi / 2], [3.0, math.pi]]))
    net = PolarNet(3)
    assert isinstance(net.polar, ToPolar) and ToPolar.rowwise  # nnutils.ensemble runs it once for all nets
    x, _ = two_spirals(n_per_spiral=5)
    assert torch.equal(net(x), net.output(net.hidden_layers[0](PolarNet.to_polar(x))))


def test_grid_net_trains_to_perfect_and_returns_a_run():
    x, y = grid_task()
    set_seed(0)
    run = train_to_perfect(GridNet(5), (x, y), lr=0.05, batch_size=9, max_epochs=1000, verbose=False)
    assert isinstance(run, Run) and run.name == "GridNet" and run.seconds > 0
    assert run["solved"] and run["epochs_to_100"] == run.epochs == len(run.history) < 1000
    assert run["train_acc"] == 1.0 and run.history.last("train_acc") == 1.0
    assert run.result.accuracy == 1.0 and run.model.training  # evaluated on the training set, mode kept


def test_a_run_that_hits_the_cap_is_not_solved(capsys):
    x, y = grid_task()
    set_seed(0)
    run = train_to_perfect(GridNet(1), (x, y), lr=0.05, batch_size=9, max_epochs=30, name="one unit")
    assert not run["solved"] and run["epochs_to_100"] is None and run.epochs == 30
    assert run["train_acc"] < 1.0
    assert "one unit: stopped at" in capsys.readouterr().out


def test_training_to_perfect_repeats_exactly_with_the_same_seed():
    x, y = two_spirals(n_per_spiral=20)
    runs = []
    for _ in range(2):
        set_seed(3)
        runs.append(train_to_perfect(PolarNet(4), (x, y), lr=0.02, batch_size=20, max_epochs=20, seed=3, verbose=False))
    assert runs[0].history.train_loss == runs[1].history.train_loss
    for a, b in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        assert torch.equal(a, b)


def test_raw_variants():
    assert len(raw_variant("three_layers", hidden=3).hidden_layers) == 3
    assert isinstance(raw_variant("relu", hidden=3).hidden_layers[0][1], torch.nn.ReLU)
    with pytest.raises(ValueError, match="variant"):
        raw_variant("sigmoid")


def test_the_reports_variants_are_the_same_nets_as_the_one_change_ones():
    for report, own in (("report", "full_batch"), ("report_relu", "relu"), ("report_three_layers", "three_layers")):
        set_seed(1)
        a = raw_variant(report, hidden=4, init_scale=0.3)
        set_seed(1)
        b = raw_variant(own, hidden=4, init_scale=0.3)
        assert repr(a) == repr(b)  # one ensemble can train them together
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_grid_tables_and_epoch_plot():
    x, y = grid_task()
    net = hand_designed_grid_net()
    weights = grid_net_table(net)
    assert weights.shape == (4, 4) and weights["bias"].tolist() == [-0.5, -1.5, -2.5, -3.5]
    assert weights.index.name == "output bias -0.500"
    truth = grid_truth_table(net, x, y)
    assert truth["right"].all() and list(truth.columns[3:7]) == ["h1", "h2", "h3", "h4"]
    runs = pd.DataFrame({"hidden": [2, 2, 4], "epochs": [50, 100, 30], "solved": [False, True, True]})
    ax = plot_epochs(runs, "hidden", cap=100, title="t")
    assert ax.get_ylabel() == "epochs to 100% training accuracy" and len(ax.collections) == 2
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="width"):
        plot_epochs(runs, "width", cap=100)


def test_outcome_groups_sorts_settings_by_how_many_seeds_reached_100():
    summary = pd.DataFrame({"hidden": [4, 6, 10], "solved": [0, 2, 5], "failed": [5, 3, 0]})
    assert outcome_groups(summary, "hidden") == {"all": [10], "some": [6], "none": [4]}
    with pytest.raises(ValueError, match="init_scale"):
        outcome_groups(summary, "init_scale")


def test_hidden_gap_and_output_margin_of_the_hand_designed_nets():
    x, y = grid_task()
    step = grid_truth_table(hand_designed_grid_net("step"), x, y)
    assert hidden_gap(step) == 0.0 and output_margin(step) == 0.5
    soft = grid_truth_table(hand_designed_grid_net("sigmoid", 10.0), x, y)
    assert 0 < hidden_gap(soft) < 0.01 and 0.4 < output_margin(soft) < 0.5
    unscaled = grid_truth_table(hand_designed_grid_net("sigmoid", 1.0), x, y)
    assert hidden_gap(unscaled) > 0.3 and output_margin(unscaled) < 0  # four points on the wrong side


def test_speed_word_trusts_a_median_only_without_stalled_runs():
    row = lambda median, failed: pd.Series({"median_epochs": median, "failed": failed})  # noqa: E731
    assert speed_word(row(1480, 0), row(1500, 1)) == "faster"  # the other's true median is at least 1500
    assert speed_word(row(1500, 1), row(1480, 0)) == "slower"
    assert speed_word(row(900, 0), row(900, 0)) == "as fast"
    assert speed_word(row(1400, 1), row(1500, 1)) == "not comparable"
    assert speed_word(row(1500, 1), row(1500, 1)) == "not comparable"


@pytest.mark.parametrize(("act", "scale"), [("step", 1.0), ("sigmoid", 10.0)])
def test_diagonal_grid_design_is_exactly_right_with_two_units_on_at_the_odd_points(act, scale):
    x, y = grid_task()
    net = hand_designed_grid_net(act, scale, design="diagonals")
    assert torch.equal(predict_labels(net, x), y)
    on = units_on(grid_truth_table(net, x, y))
    odd = (y[:, 0] == 1).numpy()
    assert (on[odd] == 2).all() and (on[~odd] <= 1).all()
    weights = grid_net_table(net)
    assert weights["w_out"].tolist() == [scale] * 4 and weights.index.name == f"output bias {-1.5 * scale:.3f}"


def test_grid_designs_differ_and_an_unknown_one_is_refused():
    x, _ = grid_task()
    parallel, diagonals = (grid_net_table(hand_designed_grid_net(design=d)) for d in ("parallel", "diagonals"))
    assert not parallel.equals(diagonals)
    with pytest.raises(ValueError, match="parallel, diagonals"):
        hand_designed_grid_net(design="circles")


def test_plot_grid_design_draws_one_line_per_hidden_unit():
    x, y = grid_task()
    ax = plot_grid_design(hand_designed_grid_net(design="diagonals"), x, y, title="t")
    assert len(ax.lines) == 4 and ax.get_title() == "t" and ax.get_xlim() == (-0.5, 2.5)
    plt.close(ax.figure)


def test_speed_phrase_names_the_other_row():
    row = lambda median, failed: pd.Series({"median_epochs": median, "failed": failed})  # noqa: E731
    assert speed_phrase(row(900, 0), row(1500, 0), "the baseline") == "faster than the baseline"
    assert speed_phrase(row(1500, 0), row(900, 0), "the baseline") == "slower than the baseline"
    assert speed_phrase(row(900, 0), row(900, 0), "the baseline") == "as fast as the baseline"
    assert speed_phrase(row(900, 1), row(1500, 1), "ReLU").startswith("not comparable with ReLU")
