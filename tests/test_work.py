"""The work tally: the training loops count their floating-point operations and data passes, and results files
carry the totals."""

import json

import numpy as np
import pytest
import torch

from nnutils import models, results, scratch, training, work


def test_forward_flops_counts_layers_from_their_shapes():
    assert models.forward_flops(models.NetLin(), torch.zeros(1, 1, 28, 28)) == 2 * 784 * 10
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 26 * 26, 2))
    assert models.forward_flops(conv, torch.zeros(1, 1, 28, 28)) == 2 * 4 * 26 * 26 * 9 + 2 * 4 * 26 * 26 * 2
    lstm = torch.nn.LSTM(3, 5, batch_first=True)
    assert models.forward_flops(lstm, torch.zeros(1, 7, 3)) == 2 * 7 * 4 * 5 * (3 + 5)
    bn = models.NetFull(hidden=8, batch_norm=True)  # batch norm: evaluation mode, so one example is fine
    before = {k: v.clone() for k, v in bn.state_dict().items()}
    models.forward_flops(bn, torch.randn(1, 1, 28, 28))
    assert all(torch.equal(before[k], v) for k, v in bn.state_dict().items()) and bn.training


def test_forward_cost_counts_every_layers_output_and_the_weights():
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10), torch.nn.ReLU())
    cost = models.forward_cost(net, torch.zeros(2, 1, 28, 28))
    assert cost.flops == 2 * 2 * 784 * 10
    assert cost.activation_bytes == 4 * 2 * (784 + 10 + 10)  # flatten, linear, relu outputs, float32
    assert cost.weight_bytes == 4 * (784 * 10 + 10)


def test_torch_loop_adds_its_epochs():
    work.reset()
    x, y = torch.randn(50, 1, 28, 28), torch.randint(0, 10, (50,))
    training.fit(models.NetLin(), (x, y), val=(x[:20], y[:20]), epochs=3, batch_size=16, progress=False)
    per = 2 * 784 * 10
    outputs, weights = 4 * 10, 4 * (784 * 10 + 10)  # the linear layer's output (the log-softmax is a function call)
    moved = 3 * (outputs * (3 * 50 + 20) + 6 * weights * 4)  # 4 steps of 16, 16, 16 and 2
    assert work.total() == {
        "flops": pytest.approx(3 * (3 * per * 50 + per * 20)),
        "bytes": pytest.approx(moved),
        "examples": 3 * 70,
    }


def test_numpy_loop_adds_its_epochs():
    work.reset()
    net = scratch.mlp((4, 3, 2), act="sigmoid")
    assert net.forward_flops(np.zeros((1, 4))) == 2 * (4 * 3 + 3 * 2)
    cost = net.forward_cost(np.zeros((1, 4)))
    assert cost.weight_bytes == 8 * (4 * 3 + 3 + 3 * 2 + 2)  # float64
    assert cost.activation_bytes == sum(out.nbytes for out in net.activations(np.zeros((1, 4)))) >= 8 * (3 + 3 + 2)
    x, y = np.random.default_rng(0).normal(size=(30, 4)), np.arange(30) % 2
    scratch.fit(net, (x, y), epochs=2, lr=0.1, batch_size=8)
    assert work.total()["flops"] == pytest.approx(2 * 3 * 2 * 18 * 30)
    steps = 4  # 30 examples in batches of 8
    moved = 2 * (cost.activation_bytes * 3 * 30 + 6 * cost.weight_bytes * steps)
    assert work.total()["bytes"] == pytest.approx(moved)


def test_steps_of_counts_a_short_last_batch():
    assert work.steps_of(50, 16) == 4 and work.steps_of(48, 16) == 3 and work.steps_of(0, 16) == 0


def test_results_file_carries_the_tally(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV_VAR, str(tmp_path))
    work.reset()
    work.add(1e9, 10, moved=2e8)
    results.Results("demo", "ci").record("acc", 0.5)
    assert json.loads((tmp_path / "demo.json").read_text())["work"] == {"flops": 1e9, "bytes": 2e8, "examples": 10}
