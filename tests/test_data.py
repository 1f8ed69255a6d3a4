"""The data layer: IDX parsing, locating files, checksums and clear errors."""

import gzip
import hashlib

import numpy as np
import pytest
import torch

from nnutils import data


def write_idx(path, array, compress=True):
    """Write an IDX file (uint8 images or labels) the way the official files are laid out."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.tobytes()
    (gzip.open if compress else open)(path, "wb").write(payload)
    return path


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A tiny KMNIST mirror (12 train, 5 test images) pointed at by NNUTILS_DATA."""
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 12), ("t10k", 5)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(raw / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return raw


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / ("x.gz" if compress else "x"), images, compress)
    np.testing.assert_array_equal(data.read_idx(path), images)


def test_truncated_file_names_the_file(tmp_path):
    path = write_idx(tmp_path / "bad", np.zeros((3, 28, 28)), compress=False)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(data.DataError, match="bad.*truncated"):
        data.read_idx(path)


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(data.DataError, match="broken.gz"):
        data.read_idx(path)


def test_bad_magic_number(tmp_path):
    path = tmp_path / "notidx"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(data.DataError, match="not an IDX file"):
        data.read_idx(path)


def test_load_from_mirror_reports_count_and_subset(mirror):
    train = data.load("kmnist", "train")
    assert len(train) == 12 and train.images.shape == (12, 28, 28) and train.labels.dtype == torch.int64
    assert not train.official  # the checksums of the official 60,000-image files do not match
    assert "12 examples" in train.describe() and "NOT the official" in train.describe()
    x, y = train.tensors()
    assert x.shape == (12, 1, 28, 28) and -1 <= x.min() and x.max() <= 1
    assert train.classes[0] == "お o" and train.classes[9] == "を wo"


def test_mismatched_pair_is_refused(mirror):
    write_idx(mirror / "t10k-labels-idx1-ubyte.gz", np.arange(4))
    with pytest.raises(data.DataError, match="5 images but .* 4 labels"):
        data.load("KMNIST", "test")


def test_official_checksum_detected(mirror, monkeypatch):
    path = mirror / "t10k-images-idx3-ubyte.gz"
    labels = mirror / "t10k-labels-idx1-ubyte.gz"
    files = dict(data.DATASETS["KMNIST"]["files"])
    files["t10k-images-idx3-ubyte"] = hashlib.md5(path.read_bytes()).hexdigest()
    files["t10k-labels-idx1-ubyte"] = hashlib.md5(labels.read_bytes()).hexdigest()
    monkeypatch.setitem(data.DATASETS["KMNIST"], "files", files)
    assert data.load("KMNIST", "test").official


def test_offline_without_copy_names_files_places_and_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(data.DataError) as err:
        data.load("MNIST", "test", download=False)
    message = str(err.value)
    assert "t10k-images-idx3-ubyte" in message and str(tmp_path / "empty") in message
    assert data.ENV_VAR in message and str(tmp_path / "cache") in message


def test_failed_download_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def fake_urlopen(url, timeout):
        raise OSError("network unreachable")

    monkeypatch.setattr(data.urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(data.DataError, match="download failed"):
        data.load("MNIST", "train")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_download_with_wrong_checksum_is_discarded(tmp_path, monkeypatch):
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: __import__("io").BytesIO(b"not it"))
    with pytest.raises(data.DataError, match="checksum"):
        data._download("MNIST", "t10k-labels-idx1-ubyte", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_verified_download_is_renamed_into_place(tmp_path, monkeypatch):
    content = gzip.compress(b"payload")
    files = dict(data.DATASETS["MNIST"]["files"], **{"t10k-labels-idx1-ubyte": hashlib.md5(content).hexdigest()})
    monkeypatch.setitem(data.DATASETS["MNIST"], "files", files)
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda url, timeout: __import__("io").BytesIO(content))
    path = data._download("MNIST", "t10k-labels-idx1-ubyte", tmp_path)
    assert path.read_bytes() == content and [p.name for p in tmp_path.iterdir()] == [path.name]


@pytest.mark.parametrize("name, split", [("CIFAR", "train"), ("MNIST", "validation")])
def test_unknown_names(name, split):
    with pytest.raises(ValueError, match="choose one of"):
        data.load(name, split)


def test_subset_and_split_are_seeded():
    x, y = torch.arange(100).float().unsqueeze(1), torch.arange(100)
    a, b = data.subset(x, y, 10, seed=1), data.subset(x, y, 10, seed=1)
    assert torch.equal(a[1], b[1]) and len(a[1]) == 10
    (xt, yt), (xv, yv) = data.train_val_split(x, y, 20)
    assert len(yt) == 80 and len(yv) == 20 and not set(yt.tolist()) & set(yv.tolist())
    with pytest.raises(ValueError):
        data.train_val_split(x, y, 100)
