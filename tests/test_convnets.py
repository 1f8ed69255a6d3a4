"""The chapter-4b conv nets: shapes, parameter counts, learning, feature maps, and weights saved and loaded."""

import pytest
import torch

from nnutils.convnets import (
    LeNet5,
    SmallCNN,
    feature_maps,
    first_layer_filters,
    fit_tracked,
    load_weights,
    save_weights,
)
from nnutils.models import MLP, count_parameters
from nnutils.training import predict, set_seed

SWEEP = (2, 3, 4, 8, 24)
# conv 32 * (k*k + 1) + dense 32 * s * s * 25 + 25 + output 25 * 10 + 10, with s = (29 - k) // 2
SMALL_CNN_PARAMS = {2: 135_645, 3: 135_805, 4: 116_029, 8: 82_365, 24: 21_949}


def batch(n: int = 4) -> torch.Tensor:
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("k", SWEEP)
def test_small_cnn_shapes_for_every_kernel_in_the_sweep(k):
    model = SmallCNN(k)
    out = model(batch())
    assert out.shape == (4, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(4), atol=1e-5), "outputs are log-probabilities"
    side = (29 - k) // 2
    maps = feature_maps(model, batch(1))
    assert list(maps) == ["conv", "relu", "pool"]
    assert maps["conv"].shape == (1, 32, 29 - k, 29 - k)
    assert maps["pool"].shape == (1, 32, side, side)
    assert first_layer_filters(model).shape == (32, k, k)


@pytest.mark.parametrize("k", SWEEP)
def test_small_cnn_parameter_counts(k):
    assert count_parameters(SmallCNN(k)) == SMALL_CNN_PARAMS[k]


def test_lenet_shapes_and_parameter_count():
    model = LeNet5()
    assert model(batch()).shape == (4, 10)
    # conv 156 + conv 2,416 + 256->120 30,840 + 120->84 10,164 + 84->10 850
    assert count_parameters(model) == 44_426
    maps = feature_maps(model, batch(1))
    assert {k: tuple(v.shape[1:]) for k, v in maps.items()} == {
        "conv1": (6, 24, 24),
        "relu1": (6, 24, 24),
        "pool1": (6, 12, 12),
        "conv2": (16, 8, 8),
        "relu2": (16, 8, 8),
        "pool2": (16, 4, 4),
    }
    assert first_layer_filters(model).shape == (6, 5, 5)


def test_the_comparison_mlp_is_784_64_10():
    assert count_parameters(MLP(hidden=(64,))) == 784 * 64 + 64 + 64 * 10 + 10


@pytest.mark.parametrize("bad", [0, 28, 100, -3, 2.5, "3", True, None])
def test_bad_kernel_size_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="kernel_size must be an integer from 1 to 27"):
        SmallCNN(bad)


def test_bad_dropout_and_input_are_clear_errors():
    with pytest.raises(ValueError, match="dropout"):
        LeNet5(dropout=1.5)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        feature_maps(LeNet5(), torch.zeros(28, 28))
    with pytest.raises(ValueError, match="no Conv2d"):
        first_layer_filters(MLP())


def _toy_data(n: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes a conv net separates easily: a bright top half or a bright bottom half."""
    g = torch.Generator().manual_seed(1)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.rand(n, 1, 28, 28, generator=g) * 0.3
    x[y == 0, :, :14] += 0.7
    x[y == 1, :, 14:] += 0.7
    return x, y


@pytest.mark.parametrize(
    "make, options",
    [(LeNet5, dict(lr=0.05, momentum=0.9)), (lambda: SmallCNN(3), dict(optimizer="adam", lr=3e-3, batch_size=32))],
)
def test_a_few_steps_reduce_the_loss(make, options):
    set_seed(0)
    x, y = _toy_data()
    run = fit_tracked(make(), (x, y), (x[:64], y[:64]), test=(x[:64], y[:64]), epochs=3, progress=False, **options)
    assert run.history.train_loss[-1] < 0.7 * run.history.train_loss[0]
    assert len(run.train_acc) == len(run.val_acc) == 3
    assert 0 <= run.test_acc <= 1 and run.confusion.shape == (10, 10) and run.confusion.sum() == 64


def test_save_then_load_gives_identical_predictions(tmp_path):
    set_seed(0)
    model = SmallCNN(4)
    model.features.conv.bias.data += 0.1  # anything different from a fresh model
    path = save_weights(model, tmp_path / "sub" / "cnn.pt")
    assert path.is_file() and not list(path.parent.glob("*.part")), "the write is atomic: no temporary file left"
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
