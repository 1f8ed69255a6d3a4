"""Models, the training loop, evaluation, profiles and results recording."""

import json

import numpy as np
import pytest
import torch

from nnutils import metrics, models, profiles, results, training


@pytest.mark.parametrize(
    "name, options, count",
    [
        ("NetLin", {}, 784 * 10 + 10),
        ("NetFull", {}, 784 * 100 + 100 + 100 * 10 + 10),
        ("NetConv", {}, (16 * 32 + 32) + (32 * 16 * 64 + 64) + (2304 * 10 + 10)),
        ("NetConv", {"batch_norm": True}, 56426 + 2 * 32 + 2 * 64),
        ("MLP", {"hidden": (64,)}, 784 * 64 + 64 + 64 * 10 + 10),
    ],
)
def test_shapes_and_parameter_counts(name, options, count):
    model = models.build_model(name, **options)
    out = model(torch.randn(5, 1, 28, 28))
    assert out.shape == (5, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(5), atol=1e-5)  # log-probabilities
    assert models.count_parameters(model) == count


def test_unknown_model_and_activation():
    with pytest.raises(ValueError, match="Unknown model 'NetX'.*NetLin"):
        models.build_model("NetX")
    with pytest.raises(ValueError, match="Unknown activation 'gelu'"):
        models.NetConv(act="gelu")


def blobs(n=200, seed=0):
    """Two well-separated Gaussian classes in 784 dimensions."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 1, 28, 28, generator=g) + 1.5 * (2 * y - 1).float().view(-1, 1, 1, 1) * 0.2
    return x, y


def test_training_reduces_loss_and_learns():
    x, y = blobs()
    training.set_seed(0)
    history = training.fit(models.NetLin(), (x, y), (x, y), epochs=5, lr=0.05, momentum=0.5, progress=False)
    assert len(history) == 5
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_acc[-1] > 0.95


def test_training_is_deterministic():
    x, y = blobs()
    runs = []
    for _ in range(2):
        training.set_seed(3)
        runs.append(training.fit(models.NetFull(hidden=8), (x, y), epochs=2, progress=False).train_loss)
    assert runs[0] == runs[1]


def test_callbacks_stop_and_snapshot():
    x, y = blobs()
    snaps = training.Snapshots([0, 2])
    seen = []
    history = training.fit(
        models.NetLin(),
        (x, y),
        epochs=50,
        lr=0.1,
        progress=False,
        callbacks=[snaps, training.StopAt("train_acc", 1.0), lambda t: seen.append(t.epoch)],
    )
    assert history.train_acc[-1] == 1.0 and len(history) < 50
    assert seen == history.epoch and set(snaps.frames) == {0, 2}
    assert not torch.equal(snaps.frames[0]["linear.weight"], snaps.frames[2]["linear.weight"])


def test_bad_config():
    with pytest.raises(ValueError, match="Unknown optimizer 'rmsprop'"):
        training.TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="Unknown loss 'hinge'"):
        training.TrainConfig(loss="hinge")


def test_evaluate_confusion_on_hand_made_example():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):  # predicts class x[:, 0] out of 3, as log-probabilities
            return torch.log_softmax(10 * torch.nn.functional.one_hot(x[:, 0].long(), 3).float(), 1)

    x = torch.tensor([[0], [1], [2], [2], [1]]).float()
    y = torch.tensor([0, 1, 2, 1, 0])
    result = training.evaluate(Fixed(), x, y)
    expected = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    np.testing.assert_array_equal(result.confusion, expected)
    assert result.accuracy == pytest.approx(0.6)
    assert metrics.most_confused(expected, ["a", "b", "c"], k=2) == [("b", "c", 1), ("a", "b", 1)]
    np.testing.assert_allclose(metrics.per_class_accuracy(expected), [0.5, 0.5, 1])


def test_profiles(monkeypatch):
    monkeypatch.delenv(profiles.ENV_VAR, raising=False)
    cfg = profiles.settings("full", full={"epochs": 10, "n": None}, ci={"epochs": 1})
    assert (cfg.profile, cfg.epochs, cfg.n) == ("full", 10, None)
    monkeypatch.setenv(profiles.ENV_VAR, "ci")
    assert profiles.settings("full", full={"epochs": 10}, ci={"epochs": 1}).epochs == 1
    monkeypatch.setenv(profiles.ENV_VAR, "fast")
    with pytest.raises(ValueError, match="Unknown profile 'fast'.*NNUTILS_PROFILE.*full, ci"):
        profiles.resolve_profile("full")
    monkeypatch.delenv(profiles.ENV_VAR)
    with pytest.raises(ValueError, match="no full-profile value"):
        profiles.settings("ci", full={"a": 1}, ci={"b": 2})


def test_results_written_atomically(tmp_path, monkeypatch):
    monkeypatch.setenv(results.ENV_VAR, str(tmp_path))
    r = results.Results("demo", "ci")
    assert r.record("acc", 0.123456) == 0.1235
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved == {"notebook": "demo", "profile": "ci", "values": {"acc": 0.1235}}
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]
