"""Many small nets in one call: an ensemble trains each net as a lone run would (same epochs to 100%, the same
weights and history to float tolerance), stops each net on its own, and refuses nets it cannot stack."""

import pytest
import torch
from torch import nn

from nnutils import work
from nnutils.ensemble import PerNet, fit_many, fit_models, stack_models
from nnutils.grid_task import GridNet, grid_task
from nnutils.models import MLP
from nnutils.spirals import PolarNet, RawNet, train_many_to_perfect, train_to_perfect, two_spirals
from nnutils.training import StopAt, fit, set_seed

GRID = dict(loss="bce", optimizer="adam", lr=0.05, weight_decay=1e-4, batch_size=9, epochs=600, device="cpu")


def lone_run(build, seed, data, callbacks=(), **options):
    set_seed(seed)
    model = build()
    history = fit(model, data, seed=seed, eval_every=0, progress=False, callbacks=callbacks, **options)
    return model, history


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    """Equal to float32 tolerance: after 500 Adam epochs batched and lone products drift apart by up to about 1e-4
    relative (AVX-512), while one more epoch of training moves some weight of every tensor by about 1e-2."""
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4, msg=f"{name} differs")


def test_three_seeds_together_and_apart_reach_100_percent_at_the_same_epochs_with_the_same_weights():
    data, seeds = grid_task(), [0, 1, 2, 3]
    runs = fit_many(lambda: GridNet(5), seeds, data, stop_at=1.0, **GRID)
    for seed, run in zip(seeds, runs):
        model, history = lone_run(lambda: GridNet(5), seed, data, callbacks=[StopAt("train_acc", 1.0)], **GRID)
        assert run.epochs == len(history), f"seed {seed}"
        assert run.history.train_acc == history.train_acc and run.history.epoch == history.epoch
        torch.testing.assert_close(run.history.train_loss, history.train_loss, rtol=1e-4, atol=0)
        assert_same_weights(run.model, model)
        assert run.info["seed"] == seed and run.seconds > 0
    epochs = [run.epochs for run in runs]
    # each net stopped on its own: three at different epochs when they reached 100%, one ran to the cap
    assert len(set(epochs[:3])) == 3 and max(epochs[:3]) < 600 and epochs[3] == 600
    assert [run.history.last("train_acc") == 1.0 for run in runs] == [True, True, True, False]


def test_a_net_that_reached_100_percent_keeps_the_weights_it_had_then():
    data = grid_task()
    early, late = fit_many(lambda: GridNet(5), [0, 1], data, stop_at=1.0, **GRID)
    assert early.epochs < late.epochs
    model, _ = lone_run(lambda: GridNet(5), 0, data, **{**GRID, "epochs": early.epochs})
    assert_same_weights(early.model, model)  # not the weights after the other net's last epoch
    longer, _ = lone_run(lambda: GridNet(5), 0, data, **{**GRID, "epochs": early.epochs + 1})
    assert any(not torch.equal(p, q) for p, q in zip(early.model.parameters(), longer.parameters()))


def test_polar_nets_and_uneven_batches_with_sgd_match_lone_runs():
    x, y = two_spirals(n_per_spiral=30)
    options = dict(loss="bce", optimizer="sgd", lr=0.1, momentum=0.9, batch_size=25, epochs=40, device="cpu")
    runs = fit_many(lambda: PolarNet(6), [3, 4, 5], (x, y), **options)
    for seed, run in zip([3, 4, 5], runs):
        model, history = lone_run(lambda: PolarNet(6), seed, (x, y), **options)
        assert run.history.train_acc == history.train_acc
        torch.testing.assert_close(run.history.train_loss, history.train_loss, rtol=1e-4, atol=0)
        assert_same_weights(run.model, model)  # batched products round differently from lone ones, nothing more


def test_nets_of_different_hidden_sizes_train_together_as_they_would_alone():
    x, y = two_spirals(n_per_spiral=30)
    options = dict(loss="bce", optimizer="adam", lr=0.02, weight_decay=1e-4, batch_size=25, epochs=60, device="cpu")
    sizes = [4, 7, 9]  # sigmoid units: a padded unit outputs 0.5, which must not train the zeros that read it
    models = []
    for seed, hidden in enumerate(sizes):
        set_seed(seed)
        models.append(RawNet(hidden, init_scale=0.5, act="sigmoid"))
    runs = fit_models(models, [0, 1, 2], (x, y), **options)
    for seed, (hidden, run) in enumerate(zip(sizes, runs)):
        build = lambda hidden=hidden: RawNet(hidden, init_scale=0.5, act="sigmoid")  # noqa: E731
        model, history = lone_run(build, seed, (x, y), **options)
        assert run.history.train_acc == history.train_acc
        torch.testing.assert_close(run.history.train_loss, history.train_loss, rtol=1e-4, atol=0)
        assert_same_weights(run.model, model)
        assert run.model.hidden_layers[0][0].out_features == hidden


def test_class_labels_and_log_probabilities():
    set_seed(0)
    x, y = torch.randn(40, 1, 4, 4), torch.randint(0, 3, (40,))
    options = dict(loss="nll", optimizer="adam", lr=0.01, batch_size=16, epochs=5, device="cpu")
    runs = fit_many(lambda: MLP(16, (6,), 3, act="tanh"), [0, 1], (x, y), **options)
    for seed, run in zip([0, 1], runs):
        model, history = lone_run(lambda: MLP(16, (6,), 3, act="tanh"), seed, (x, y), **options)
        assert run.history.train_acc == history.train_acc
        torch.testing.assert_close(run.history.train_loss, history.train_loss, rtol=1e-4, atol=0)
        assert_same_weights(run.model, model)


def test_train_many_to_perfect_gives_the_runs_of_train_to_perfect():
    data = grid_task()
    models = []
    for seed in (0, 2):
        set_seed(seed)
        models.append(GridNet(5))
    runs = train_many_to_perfect(models, data, [0, 2], lr=0.05, batch_size=9, max_epochs=600, verbose=False)
    for seed, run in zip((0, 2), runs):
        set_seed(seed)
        alone = train_to_perfect(GridNet(5), data, lr=0.05, batch_size=9, max_epochs=600, seed=seed, verbose=False)
        assert run["solved"] and run["epochs_to_100"] == alone["epochs_to_100"] and run.result.accuracy == 1.0
    assert runs[0].model is models[0]  # the given models hold the trained weights


def test_layers_without_parameters_see_each_nets_rows():
    torch.manual_seed(0)
    nets, rows = 35, 97
    x = 3 * torch.randn(nets * rows, 10)
    lone = torch.cat([torch.sigmoid(block) for block in x.chunk(nets)])
    torch.testing.assert_close(PerNet(nn.Sigmoid(), nets)(x), lone)  # elementwise: once on all rows
    firsts = torch.cat([block[:1].expand_as(block) for block in x.chunk(nets)])
    first_row = type("FirstRow", (nn.Module,), {"forward": lambda self, b: b[:1].expand_as(b)})()
    assert torch.equal(PerNet(first_row, nets)(x), firsts)  # any other layer: net by net


def test_nets_that_cannot_be_stacked_are_refused():
    with pytest.raises(ValueError, match="one architecture"):
        stack_models([RawNet(5, depth=2), RawNet(5, depth=3)])
    with pytest.raises(ValueError, match="one architecture"):
        stack_models([RawNet(5, act="tanh"), RawNet(5, act="relu")])
    with pytest.raises(ValueError, match="inputs or outputs differ"):
        stack_models([MLP(16, (6,), 3), MLP(16, (6,), 4)])
    with pytest.raises(ValueError, match="BatchNorm1d"):
        stack_models([nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))])
    with pytest.raises(ValueError, match="dropout"):
        stack_models([nn.Sequential(nn.Linear(2, 3), nn.Dropout(0.5))])
    with pytest.raises(ValueError, match="one seed per model"):
        fit_models([GridNet(5)], [0, 1], grid_task(), **GRID)
    with pytest.raises(ValueError, match="at least one model"):
        stack_models([])


def test_the_work_tally_counts_every_net_as_its_lone_run_does():
    data = grid_task()
    work.reset()
    runs = fit_many(lambda: GridNet(5), [0, 1], data, stop_at=1.0, **GRID)
    together = work.total()
    work.reset()
    for seed in (0, 1):
        lone_run(lambda: GridNet(5), seed, data, callbacks=[StopAt("train_acc", 1.0)], **GRID)
    assert work.total() == together and together["examples"] == 9 * sum(run.epochs for run in runs)
    work.reset()
