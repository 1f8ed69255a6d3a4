"""Autoencoders: shapes, parameter counts, codes, noise, and a few training steps lower the reconstruction loss."""

import pytest
import torch

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
