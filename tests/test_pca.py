"""PCA: orthonormal components that match NumPy's SVD, explained variance, projections and errors."""

import numpy as np
import pytest
import torch

from nnutils.pca import PCA


@pytest.fixture
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    # correlated data with clearly separated variances along 5 directions, in 12 dimensions
    basis = np.linalg.qr(rng.normal(size=(12, 12)))[0]
    scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5] + [0.1] * 7)
    return rng.normal(size=(400, 12)) * scales @ basis.T + 3.0


def test_components_are_orthonormal(data):
    pca = PCA(5).fit(data)
    c = pca.components_
    assert c.shape == (5, 12)
    assert torch.allclose(c @ c.T, torch.eye(5, dtype=c.dtype), atol=1e-10)


def test_matches_numpy_svd(data):
    pca = PCA(4).fit(data)
    centred = data - data.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    for mine, ref in zip(pca.components_.numpy(), vt[:4]):
        assert abs(abs(mine @ ref) - 1) < 1e-8  # same direction up to sign
    np.testing.assert_allclose(pca.explained_variance_.numpy(), s[:4] ** 2 / (len(data) - 1), rtol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio_.numpy(), s[:4] ** 2 / (s**2).sum(), rtol=1e-8)


def test_sign_is_fixed_by_largest_entry(data):
    c = PCA(3).fit(data).components_
    assert (c[torch.arange(3), c.abs().argmax(dim=1)] > 0).all()


def test_transform_shapes_and_full_rank_round_trip(data):
    pca = PCA().fit(data)
    codes = pca.transform(data)
    assert codes.shape == (400, 12) and codes.dtype == torch.float32
    np.testing.assert_allclose(pca.inverse_transform(codes).numpy(), data, atol=1e-4)
    # projections are centred and uncorrelated, with the explained variances on the diagonal
    cov = np.cov(codes.double().numpy(), rowvar=False)
    np.testing.assert_allclose(np.diag(cov), pca.explained_variance_.numpy(), rtol=1e-5)
    assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-4


def test_images_are_flattened():
    images = torch.rand(50, 1, 28, 28)
    assert PCA(10).fit(images).transform(images[:7]).shape == (7, 10)


def test_n_components_for(data):
    pca = PCA().fit(data)
    ratio = pca.explained_variance_ratio_.cumsum(0)
    k = pca.n_components_for(0.9)
    assert ratio[k - 1] >= 0.9 and (k == 1 or ratio[k - 2] < 0.9)
    assert pca.n_components_for(1.0) <= 12


@pytest.mark.parametrize("bad", [0, -3, 2.5])
def test_bad_n_components(bad):
    with pytest.raises(ValueError, match="n_components"):
        PCA(bad)


def test_errors(data):
    with pytest.raises(ValueError, match="not fitted"):
        PCA(2).transform(data)
    with pytest.raises(ValueError, match="too large"):
        PCA(13).fit(data)
    pca = PCA(2).fit(data)
    with pytest.raises(ValueError, match="features"):
        pca.transform(data[:, :5])
    with pytest.raises(ValueError, match="fraction"):
        pca.n_components_for(1.5)
    with pytest.raises(ValueError, match="explain only"):
        pca.n_components_for(0.99999)
