"""Weights on disk: saved atomically, loaded back to the same predictions, and clear errors for the wrong file."""

import pytest
import torch

from nnutils.convnets import LeNet5, SmallCNN
from nnutils.training import predict, set_seed
from nnutils.weights import load_weights, save_weights


def batch(n: int) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def test_save_then_load_gives_identical_predictions(tmp_path):
    set_seed(0)
    model = SmallCNN(4)
    model.features.conv.bias.data += 0.1  # anything different from a fresh model
    path = save_weights(model, tmp_path / "sub" / "cnn.pt")
    assert path.is_file() and not list(path.parent.glob(".*")), "the write is atomic: no temporary file left"
    set_seed(1)
    restored = load_weights(SmallCNN(4), path)
    x = batch(16)
    assert torch.equal(predict(model, x), predict(restored, x))
    assert not restored.training


def test_loading_the_wrong_thing_is_a_clear_error(tmp_path):
    path = save_weights(SmallCNN(3), tmp_path / "cnn3.pt")
    with pytest.raises(ValueError, match="do not fit SmallCNN"):
        load_weights(SmallCNN(8), path)
    with pytest.raises(FileNotFoundError, match="save_weights"):
        load_weights(LeNet5(), tmp_path / "missing.pt")
    unsafe = tmp_path / "object.pt"
    torch.save({"model": SmallCNN(3)}, unsafe)  # a pickled module: refused by weights_only=True
    with pytest.raises(ValueError, match="loaded safely"):
        load_weights(SmallCNN(3), unsafe)


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = save_weights(SmallCNN(3), tmp_path / "cnn.pt")
    before = path.read_bytes()

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_weights(SmallCNN(8), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["cnn.pt"]
