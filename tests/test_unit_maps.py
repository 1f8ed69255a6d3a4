"""Unit maps: the plane grid, layer outputs by hooks, the on-thresholds, and the figures (smoke tests)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from nnutils.grid_task import GRID_LIM, grid_task, hand_designed_grid_net
from nnutils.spirals import RawNet
from nnutils.training import set_seed
from nnutils.unit_maps import (
    forward_with_layers,
    layer_threshold,
    plane_grid,
    plot_output_map,
    plot_unit_maps,
    unit_maps,
)


def test_plane_grid_runs_row_by_row_from_the_bottom():
    points, xs, ys = plane_grid(GRID_LIM, GRID_LIM, (30, 20))
    assert points.shape == (600, 2) and len(xs) == 30 and len(ys) == 20
    assert points[0].tolist() == [-0.5, -0.5] and points[1, 1] == -0.5 and points[30, 0] == -0.5
    with pytest.raises(ValueError, match="low < high"):
        plane_grid((1, 0), GRID_LIM)
    with pytest.raises(ValueError, match="2 points"):
        plane_grid(GRID_LIM, GRID_LIM, 1)


def test_forward_with_layers_counts_the_sum_and_keeps_the_mode():
    x, _ = grid_task()
    net = hand_designed_grid_net()
    net.train()
    output, (hidden,) = forward_with_layers(net, x)
    assert torch.equal(hidden.sum(dim=1), x.sum(dim=1)) and output.shape == (9, 1)
    assert net.training  # evaluated in eval mode, then put back
    _, explicit = forward_with_layers(net, x, layers=[net.output])
    assert torch.equal(explicit[0], output)


def test_forward_with_layers_leaves_no_hook_behind():
    net = hand_designed_grid_net()
    forward_with_layers(net, grid_task()[0])
    assert not any(m._forward_hooks for m in net.modules())


def test_unit_maps_shapes_and_thresholds():
    net = hand_designed_grid_net()
    maps = unit_maps(net, GRID_LIM, GRID_LIM, (30, 20))
    assert maps.output.shape == (20, 30) and maps.layers[0].shape == (4, 20, 30)
    assert maps.thresholds == [0.5] and maps.extent == (-0.5, 2.5, -0.5, 2.5)
    # unit 1 is on above the line x1 + x2 = 0.5: off at the bottom-left corner, on at the top-right corner
    assert maps.layers[0][0, 0, 0] == 0 and maps.layers[0][0, -1, -1] == 1
    set_seed(0)
    maps = unit_maps(RawNet(3, depth=3), (-7, 7), (-6.6, 6.7), 16)
    assert [m.shape for m in maps.layers] == [(3, 16, 16)] * 3 and maps.thresholds == [0.0] * 3


def test_layer_threshold_falls_back_to_the_middle_of_the_values():
    assert layer_threshold(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), np.zeros(3)) == 1e-6
    assert layer_threshold(nn.Linear(2, 2), np.array([1.0, 3.0])) == 2.0


def test_unit_maps_rejects_foreign_layers():
    with pytest.raises(ValueError, match="not used"):
        unit_maps(hand_designed_grid_net(), GRID_LIM, GRID_LIM, 8, layers=[torch.nn.Tanh()])


def test_plots_draw_the_output_and_every_unit():
    maps = unit_maps(hand_designed_grid_net(), GRID_LIM, GRID_LIM, 24)
    fig = plot_unit_maps(maps, grid_task(), ncols=2, title="test")
    assert len(fig.axes) == 5 and fig._suptitle.get_text() == "test"  # output + 4 units in 2 rows of 2
    again = plot_unit_maps(maps, grid_task(), binary=True, fig=fig)  # redraws the same figure (animations)
    assert again is fig and len(fig.axes) == 5
    plt.close(fig)
    no_layers = unit_maps(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), GRID_LIM, GRID_LIM, 8, layers=[])
    fig = plot_unit_maps(no_layers)
    assert len(fig.axes) == 1
    plt.close(fig)
    ax = plot_output_map(maps, title="out")
    assert ax.get_title() == "out" and ax.get_xlabel() == "x1"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="ncols"):
        plot_unit_maps(maps, ncols=0)
