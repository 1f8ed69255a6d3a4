"""Autoencoders: shapes, parameter counts, codes, noise, a few training steps lower the reconstruction loss, and the
few-labels classifier on features."""

import pytest
import torch

from nnutils import autoencoders as ae
from nnutils.autoencoders import ConvAutoencoder, DenseAutoencoder, add_noise, encode
from nnutils.models import count_parameters
from nnutils.training import evaluate, fit, set_seed


@pytest.fixture
def images() -> torch.Tensor:
    # blurry blobs in [0, 1]: a cheap stand-in for digits
    g = torch.Generator().manual_seed(0)
    centres = torch.randint(8, 20, (64, 2), generator=g).float()
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    d2 = (yy - centres[:, 0, None, None]) ** 2 + (xx - centres[:, 1, None, None]) ** 2
    return torch.exp(-d2 / 18.0).unsqueeze(1)


@pytest.mark.parametrize("cls", [DenseAutoencoder, ConvAutoencoder])
def test_shapes(cls, images):
    model = cls(code_size=16)
    out = model(images[:5])
    assert out.shape == (5, 1, 28, 28)
    assert 0 <= out.min() and out.max() <= 1
    assert encode(model, images[:7]).shape == (7, 16)


def test_dense_parameter_count_is_the_reports():
    model = DenseAutoencoder(code_size=32)
    assert count_parameters(model.encoder) == 784 * 32 + 32 == 25_120
    assert count_parameters(model.decoder) == 32 * 784 + 784 == 25_872


def test_dense_with_hidden_layers_and_weights(images):
    model = DenseAutoencoder(code_size=8, hidden=(64,))
    assert model(images[:3]).shape == (3, 1, 28, 28)
    assert model.encoder_weights().shape == (64, 28, 28)


@pytest.mark.parametrize(("cls", "lr"), [(DenseAutoencoder, 1e-2), (ConvAutoencoder, 3e-3)])
def test_a_few_steps_reduce_reconstruction_loss(cls, lr, images):
    set_seed(0)
    model = cls(code_size=8)
    before = evaluate(model, images, images, loss="mse").loss
    fit(model, (images, images), loss="mse", optimizer="adam", lr=lr, batch_size=16, epochs=10, progress=False)
    after = evaluate(model, images, images, loss="mse").loss
    assert after < 0.5 * before


def test_gaussian_noise_is_seeded_and_clipped(images):
    noisy = add_noise(images, 0.5, seed=1)
    assert noisy.shape == images.shape and 0 <= noisy.min() and noisy.max() <= 1
    assert torch.equal(noisy, add_noise(images, 0.5, seed=1))
    assert not torch.equal(noisy, add_noise(images, 0.5, seed=2))
    assert torch.equal(add_noise(images, 0.0), images)


def test_masking_noise_zeroes_about_the_fraction():
    x = torch.ones(20, 1, 28, 28)
    masked = add_noise(x, 0.3, kind="masking")
    assert abs(float((masked == 0).float().mean()) - 0.3) < 0.02


def test_bad_arguments(images):
    with pytest.raises(ValueError, match="noise kind"):
        add_noise(images, kind="speckle")
    with pytest.raises(ValueError, match="level"):
        add_noise(images, -0.1)
    with pytest.raises(ValueError, match="code_size"):
        DenseAutoencoder(code_size=0)
    with pytest.raises(ValueError, match="encoder"):
        encode(torch.nn.Linear(3, 2), images)


def test_mse_is_the_mean_squared_pixel_error():
    a = torch.zeros(2, 1, 28, 28)
    b = a.clone()
    b[0, 0, 0, :4] = 0.5
    assert ae.mse(a, b) == pytest.approx(4 * 0.25 / (2 * 784))
    assert ae.mse(b, b) == 0.0
    with pytest.raises(ValueError, match="Shapes differ"):
        ae.mse(a, a.flatten(1))


def _features(n: int = 120):
    """Two well separated clusters in 6 dimensions, labels 0 and 1."""
    g = torch.Generator().manual_seed(0)
    y = torch.arange(n) % 2
    x = torch.randn(n, 6, generator=g) * 0.3 + y[:, None].float() * 3.0
    return x, y


@pytest.mark.parametrize("hidden", [(), (16,), (16, 8)])
def test_classify_learns_separable_features_and_follows_validation(hidden):
    x, y = _features()
    run = ae.classify(x, y, hidden, n_val=30, seed=1, epochs=8, batch_size=16, lr=3e-2, progress=False)
    assert len(run.history.val_acc) == 8 and "test_acc" not in run.history
    assert run.history.last("val_acc") >= 0.9 and run.result.accuracy == run.history.last("val_acc")
    linear_layers = [m for m in run.model.modules() if isinstance(m, torch.nn.Linear)]
    assert [m.in_features for m in linear_layers] == [6, *hidden]


def test_classify_repeated_uses_one_seed_per_repeat():
    x, y = _features()
    options = dict(n_val=30, epochs=3, batch_size=16, lr=1e-2, progress=False)
    table = ae.classify_repeated(x, y, (8,), 2, seed=4, **options)
    assert list(table.columns) == ["last", "best"] and len(table) == 2
    assert (table["best"] >= table["last"]).all()
    for r in range(2):
        history = ae.classify(x, y, (8,), seed=4 + r, **options).history
        assert table.loc[r, "last"] == history.last("val_acc") and table.loc[r, "best"] == max(history.val_acc)
    with pytest.raises(ValueError, match="repeats"):
        ae.classify_repeated(x, y, (8,), 0, **options)


def test_constant_image_errors():
    train = torch.stack([torch.zeros(1, 28, 28), torch.ones(1, 28, 28)])  # average image: 0.5 everywhere
    test = torch.ones(3, 1, 28, 28)
    assert ae.constant_image_mse(train, test) == {"average image": 0.25, "blank image": 1.0}


def test_label_separation_is_the_share_between_class_centres():
    labels = torch.tensor([0, 0, 1, 1])
    assert ae.label_separation(torch.tensor([[0.0, 0], [0, 0], [2, 0], [2, 0]]), labels) == pytest.approx(1.0)
    assert ae.label_separation(torch.tensor([[0.0, 0], [2, 0], [0, 0], [2, 0]]), labels) == pytest.approx(0.0)
    # centres at 0 and 2 (between-class spread 4), each class spread +-1 about its centre (within 4): half
    assert ae.label_separation(torch.tensor([[-1.0], [1], [1], [3]]), labels) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="labels"):
        ae.label_separation(torch.zeros(4, 2), labels[:3])
    with pytest.raises(ValueError, match="do not vary"):
        ae.label_separation(torch.zeros(4, 2), labels)


def test_classify_runs_keep_each_repeat_and_their_mean_history_is_the_epoch_mean():
    x, y = _features()
    options = dict(n_val=30, epochs=3, batch_size=16, lr=1e-2, progress=False)
    runs = ae.classify_runs(x, y, (8,), 2, seed=4, **options)
    assert len(runs) == 2 and runs[0].history.val_acc != runs[1].history.val_acc
    assert ae.accuracy_table(runs).equals(ae.classify_repeated(x, y, (8,), 2, seed=4, **options))
    mean = ae.mean_history(runs)
    assert len(mean) == 3 and {"train_acc", "val_acc", "train_loss", "val_loss"} <= set(mean.columns)
    for column in ("val_acc", "train_loss"):
        expected = [(a + b) / 2 for a, b in zip(getattr(runs[0].history, column), getattr(runs[1].history, column))]
        assert getattr(mean, column) == pytest.approx(expected)
    with pytest.raises(ValueError, match="repeats"):
        ae.classify_runs(x, y, (8,), 0, **options)


def test_mean_history_needs_runs_of_equal_length():
    x, y = _features()
    options = dict(n_val=30, batch_size=16, lr=1e-2, progress=False)
    short, longer = (ae.classify(x, y, (), epochs=e, **options) for e in (2, 3))
    with pytest.raises(ValueError, match="different numbers of epochs"):
        ae.mean_history([short, longer])
    with pytest.raises(ValueError, match="at least one run"):
        ae.mean_history([])
