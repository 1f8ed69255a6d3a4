"""Downloading datasets without a network: the order of mirrors, NNUTILS_MIRROR (URLs and folders) tried first,
checksums, one message that says what to do, and nothing half-written."""

import functools
import gzip
import hashlib
import http.server
import io
import threading
import urllib.error

import numpy as np
import pytest

from nnutils import data, downloads

STEMS = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def idx_gz(array):
    """The gzip bytes of an IDX file of uint8 values."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return gzip.compress(header + array.tobytes(), mtime=0)


@pytest.fixture
def toy_kmnist(tmp_path, monkeypatch):
    """KMNIST's test files as a tiny pair (5 images) whose md5s are made the official ones; no NNUTILS_DATA."""
    payloads = {STEMS[0]: idx_gz(np.full((5, 28, 28), 7)), STEMS[1]: idx_gz(np.arange(5))}
    checksums = dict(data.DATASETS["KMNIST"]["files"], **{s: hashlib.md5(p).hexdigest() for s, p in payloads.items()})
    monkeypatch.setitem(data.DATASETS["KMNIST"], "files", checksums)
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.delenv(downloads.MIRROR_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return payloads


def course_copy(folder, payloads, name="KMNIST"):
    """A course's copy laid out as NNUTILS_MIRROR expects: <folder>/<NAME>/raw/<file>.gz."""
    raw = folder / name / "raw"
    raw.mkdir(parents=True)
    for stem, payload in payloads.items():
        (raw / f"{stem}.gz").write_bytes(payload)
    return folder


@pytest.fixture
def http_mirror(tmp_path):
    """A local web server serving a folder (127.0.0.1, a free port): yields (folder, base URL)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def record_urls(monkeypatch, serve=None):
    """Replace urlopen: it records the URLs asked for and serves ``serve(url)`` bytes, or fails when that is None."""
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        payload = serve(url) if serve else None
        if payload is None:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)
        return io.BytesIO(payload)

    monkeypatch.setattr(downloads.urllib.request, "urlopen", fake_urlopen)
    return asked


def test_every_kmnist_mirror_is_tried_after_the_course_mirrors_in_order(toy_kmnist, tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.MIRROR_VAR, f" https://course.example.org/data/ ,{tmp_path / 'copy'},")
    asked = record_urls(monkeypatch)
    with pytest.raises(data.DataError):
        data.load("KMNIST", "test")
    assert asked == [
        f"https://course.example.org/data/KMNIST/raw/{STEMS[0]}.gz",
        f"{(tmp_path / 'copy').as_uri()}/KMNIST/raw/{STEMS[0]}.gz",
        f"http://codh.rois.ac.jp/kmnist/dataset/kmnist/{STEMS[0]}.gz",
        f"https://storage.googleapis.com/s4tf-hosted-binaries/datasets/KMNIST/{STEMS[0]}.gz",
    ]


def test_public_mirrors_are_tried_in_order_without_a_course_mirror(toy_kmnist, monkeypatch):
    asked = record_urls(
        monkeypatch, serve=lambda url: toy_kmnist[url.rsplit("/", 1)[1][:-3]] if "s4tf" in url else None
    )
    loaded = data.load("KMNIST", "test")
    assert len(loaded) == 5 and loaded.official
    codh, gcs = data.DATASETS["KMNIST"]["mirrors"]
    assert asked == [f"{codh}{STEMS[0]}.gz", f"{gcs}{STEMS[0]}.gz", f"{codh}{STEMS[1]}.gz", f"{gcs}{STEMS[1]}.gz"]


def test_a_course_folder_mirror_fills_the_cache(toy_kmnist, tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.MIRROR_VAR, str(course_copy(tmp_path / "course", toy_kmnist)))
    loaded = data.load("KMNIST", "test")
    assert len(loaded) == 5 and loaded.official and loaded.labels.tolist() == [0, 1, 2, 3, 4]
    cached = tmp_path / "cache" / "nnutils" / "KMNIST" / "raw"
    assert sorted(p.name for p in cached.iterdir()) == [f"{s}.gz" for s in STEMS]
    assert (cached / f"{STEMS[1]}.gz").read_bytes() == toy_kmnist[STEMS[1]]


def test_a_course_web_mirror_is_used_before_the_public_ones(toy_kmnist, http_mirror, monkeypatch):
    folder, url = http_mirror
    course_copy(folder, toy_kmnist)
    monkeypatch.setenv(downloads.MIRROR_VAR, f"{url}missing/,{url}")  # the first one answers 404
    monkeypatch.setitem(data.DATASETS["KMNIST"], "mirrors", ["http://public.invalid/"])  # never reached
    assert len(data.load("KMNIST", "test")) == 5


def test_a_wrong_checksum_from_the_course_mirror_is_refused(toy_kmnist, http_mirror, tmp_path, monkeypatch):
    folder, url = http_mirror
    course_copy(folder, {STEMS[0]: b"not the file", STEMS[1]: toy_kmnist[STEMS[1]]})
    monkeypatch.setenv(downloads.MIRROR_VAR, url)
    monkeypatch.setitem(data.DATASETS["KMNIST"], "mirrors", [])
    with pytest.raises(data.DataError, match=f"{STEMS[0]}.gz: checksum {hashlib.md5(b'not the file').hexdigest()}"):
        data.load("KMNIST", "test")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))


def test_a_failed_download_says_what_to_do_in_one_message(toy_kmnist, tmp_path, monkeypatch):
    monkeypatch.setenv(downloads.MIRROR_VAR, "https://course.example.org/data")
    record_urls(monkeypatch)
    with pytest.raises(data.DataError) as err:
        data.load("KMNIST", "test")
    message = str(err.value)
    assert err.value.__cause__ is None and err.value.__context__ is None, "one message, not a chain of tracebacks"
    tried = ["https://course.example.org/data/KMNIST/raw/", *data.DATASETS["KMNIST"]["mirrors"]]
    for url in tried:
        assert f"{url}{STEMS[0]}.gz: HTTP Error 404" in message
    cache = tmp_path / "cache" / "nnutils" / "KMNIST" / "raw"
    assert f"put {STEMS[0]}.gz and {STEMS[1]}.gz in {cache}" in message
    assert f"set {data.ENV_VAR}=<folder>" in message and f"({data.ENV_VAR} is not set)" in message
    assert f"set {downloads.MIRROR_VAR} to a course's copy" in message and "<URL or folder>/KMNIST/raw/" in message
    assert f'Colab too), before loading: import os; os.environ["{downloads.MIRROR_VAR}"]' in message


def test_a_host_that_does_not_answer_is_not_asked_again_for_the_second_file(toy_kmnist, monkeypatch):
    asked = []

    def fake_urlopen(url, timeout):
        asked.append(url)
        if "codh" in url:
            raise urllib.error.URLError(TimeoutError("timed out"))
        return io.BytesIO(toy_kmnist[url.rsplit("/", 1)[1][:-3]])

    monkeypatch.setattr(downloads.urllib.request, "urlopen", fake_urlopen)
    assert len(data.load("KMNIST", "test")) == 5
    assert sum("codh" in url for url in asked) == 1 and len(asked) == 3


def test_a_download_broken_off_midway_leaves_nothing(toy_kmnist, tmp_path, monkeypatch):
    class BrokenOff(io.BytesIO):
        def read(self, size=-1):
            if self.tell():
                raise ConnectionResetError("connection reset by peer")
            return super().read(1000)

    monkeypatch.setattr(downloads.urllib.request, "urlopen", lambda url, timeout: BrokenOff(toy_kmnist[STEMS[0]]))
    with pytest.raises(data.DataError, match="connection reset by peer"):
        data.load("KMNIST", "test")
    cache = tmp_path / "cache"
    assert not any(p.is_file() for p in cache.rglob("*")), sorted(cache.rglob("*"))
