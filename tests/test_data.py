"""The data layer: IDX parsing, locating files, checksums and clear errors."""

import gzip
import hashlib
import os

import numpy as np
import pytest
import torch

from nnutils import data, downloads


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

    monkeypatch.setattr(downloads.urllib.request, "urlopen", fake_urlopen)
    with pytest.raises(data.DataError, match="download failed"):
        data.load("MNIST", "train")
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_download_with_wrong_checksum_is_discarded(tmp_path, monkeypatch):
    monkeypatch.setattr(downloads.urllib.request, "urlopen", lambda url, timeout: __import__("io").BytesIO(b"not it"))
    with pytest.raises(data.DataError, match="checksum"):
        data._download("MNIST", "t10k-labels-idx1-ubyte", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_verified_download_is_renamed_into_place(tmp_path, monkeypatch):
    content = gzip.compress(b"payload")
    files = dict(data.DATASETS["MNIST"]["files"], **{"t10k-labels-idx1-ubyte": hashlib.md5(content).hexdigest()})
    monkeypatch.setitem(data.DATASETS["MNIST"], "files", files)
    monkeypatch.setattr(downloads.urllib.request, "urlopen", lambda url, timeout: __import__("io").BytesIO(content))
    path = data._download("MNIST", "t10k-labels-idx1-ubyte", tmp_path)
    assert path.read_bytes() == content and [p.name for p in tmp_path.iterdir()] == [path.name]
    assert path.stat().st_mode & 0o777 != 0o600  # the usual mode of a new file, not mkstemp's


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


def test_huge_header_dimensions_give_the_exact_size(tmp_path):
    # 2**31 x 2**31 x 2 bytes overflows int64 (np.prod wraps to a negative count); the size must stay exact.
    path = tmp_path / "huge"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + b"".join(n.to_bytes(4, "big") for n in (2**31, 2**31, 2)))
    with pytest.raises(data.DataError, match="truncated or corrupt") as err:
        data.read_idx(path)
    assert f"shape (2147483648, 2147483648, 2), {16 + 2**63:,} bytes, but the file holds 16 bytes" in str(err.value)
    assert str(path.absolute()) in str(err.value)


def write_typed_idx(path, array, code):
    """Write an IDX file with the given type code (0x0D: big-endian float32), uncompressed."""
    array = np.asarray(array, dtype=data._IDX_DTYPES[code])
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.tobytes())
    return path


def test_images_that_are_not_28_by_28_are_refused_with_the_file_name(mirror):
    path = write_idx(mirror / "t10k-images-idx3-ubyte.gz", np.zeros((5, 32, 32)))
    with pytest.raises(data.DataError) as err:
        data.load("KMNIST", "test")
    assert str(err.value) == f"{path} holds images of 32 x 32 pixels, but KMNIST images are 28 x 28."


def test_images_that_are_not_bytes_are_refused_with_the_file_name(mirror):
    (mirror / "t10k-images-idx3-ubyte.gz").unlink()
    path = write_typed_idx(mirror / "t10k-images-idx3-ubyte", np.full((5, 28, 28), 0.5), 0x0D)
    with pytest.raises(data.DataError, match=f"{path} holds float32 pixels, but KMNIST images are unsigned bytes"):
        data.load("KMNIST", "test")


def test_labels_outside_the_classes_are_refused_with_the_file_name(mirror):
    path = write_idx(mirror / "t10k-labels-idx1-ubyte.gz", [3, 200, 1, 10, 2])
    with pytest.raises(data.DataError) as err:
        data.load("KMNIST", "test")
    assert str(err.value) == (
        f"{path} holds label 200 at index 1 and 1 more out of range, but KMNIST labels are class numbers 0 to 9."
    )


def test_labels_that_are_not_integers_are_refused(mirror):
    (mirror / "t10k-labels-idx1-ubyte.gz").unlink()
    path = write_typed_idx(mirror / "t10k-labels-idx1-ubyte", [0.0, 1.5, 2.0, 3.0, 4.0], 0x0D)
    with pytest.raises(data.DataError, match=f"{path} holds float32 labels, but KMNIST labels are integers 0 to 9"):
        data.load("KMNIST", "test")


def test_damaged_mirror_copy_is_reported_with_the_official_checksum(mirror):
    path = mirror / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(data.DataError) as err:
        data.load("KMNIST", "test")
    message = str(err.value)
    assert message.startswith(f"Cannot read {path} (")
    assert f"the copy in the read-only data mirror {data.ENV_VAR}={mirror.parent.parent} is damaged" in message
    assert "the official t10k-images-idx3-ubyte.gz has md5 5c965bf0a639b31b8f53240b1b52f4d7" in message
    assert "delete" not in message.lower()


def test_damaged_cache_copy_keeps_the_advice_to_delete_it(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    raw = tmp_path / "nnutils" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28)))
    path = raw / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(b"PK\x03\x04" + bytes(20))
    with pytest.raises(data.DataError) as err:
        data.load("MNIST", "test", download=False)
    assert str(err.value) == (
        f"Cannot read {path} (Not a gzipped file (b'PK')): delete it so that a fresh copy is fetched."
    )


# Known facts of the offline mirror's files, computed once from the files themselves (gunzip, then numpy.bincount of
# the label bytes after the 8-byte header, and the sum of the first image's 784 bytes after the 16-byte header).
# KMNIST train there is the first 7,011 of the 60,000 official images, with their official labels (672-757 a class);
# MNIST test is the official 10,000-image file.
MIRROR_FACTS = {
    ("KMNIST", "train"): {
        "n": 7011,
        "first_labels": [8, 7, 0, 1, 4, 2, 4, 8, 1, 1, 5, 1, 0, 5, 7, 6, 1, 7, 9, 5],
        "class_counts": [690, 690, 695, 702, 757, 708, 688, 708, 672, 701],
        "first_image_sum": 44678,
    },
    ("MNIST", "test"): {
        "n": 10000,
        "first_labels": [7, 2, 1, 0, 4, 1, 4, 9, 5, 9, 0, 6, 9, 0, 1, 5, 9, 7, 3, 4],
        "class_counts": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
        "first_image_sum": 18454,
    },
}


@pytest.mark.skipif(not os.environ.get(data.ENV_VAR), reason=f"{data.ENV_VAR} is not set: no offline mirror to check")
@pytest.mark.parametrize("name, split", list(MIRROR_FACTS))
def test_mirror_loads_the_known_labels_in_order(name, split):
    facts = MIRROR_FACTS[name, split]
    loaded = data.load(name, split, download=False)
    assert loaded.labels[:20].tolist() == facts["first_labels"], "labels are not in the file's order"
    if len(loaded) != facts["n"] and loaded.official:
        pytest.skip(f"{data.ENV_VAR} holds the full official {name} {split} files, not the mirror's subset")
    assert torch.bincount(loaded.labels, minlength=10).tolist() == facts["class_counts"]
    assert int(loaded.images[0].sum()) == facts["first_image_sum"], "images and labels are out of step"
