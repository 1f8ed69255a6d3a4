"""Atomic writes: the target is whole or untouched, has the usual mode, and no temporary file stays behind."""

import os

import pytest

from nnutils import files


def usual_mode():
    """The mode a new file gets here: 0666 less the umask (0644 under the usual umask 022)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def test_success_writes_the_whole_file_with_the_usual_mode_and_no_temporary(tmp_path):
    path = tmp_path / "sub" / "out.txt"
    with files.atomic_write(path) as f:
        f.write("ゆ\n")
        assert not path.exists()  # nothing at the target until the write is complete
    assert path.read_text(encoding="utf-8") == "ゆ\n"
    assert path.stat().st_mode & 0o777 == usual_mode() != 0o600
    assert [p.name for p in path.parent.iterdir()] == ["out.txt"]


def test_binary_mode(tmp_path):
    with files.atomic_write(tmp_path / "out.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "out.bin").read_bytes() == b"\x00\x01"


@pytest.mark.parametrize("error", [ValueError, KeyboardInterrupt])
def test_an_error_leaves_no_partial_file_and_no_temporary(tmp_path, error):
    path = tmp_path / "new.txt"
    with pytest.raises(error):
        with files.atomic_write(path) as f:
            f.write("half")
            raise error
    assert list(tmp_path.iterdir()) == []


def test_an_error_leaves_the_old_file_untouched(tmp_path):
    path = tmp_path / "old.json"
    files.write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        files.write_json(path, {"a": object()})  # fails half-way through json.dump
    assert files.read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["old.json"]


def test_only_write_modes(tmp_path):
    with pytest.raises(ValueError, match="mode 'w' or 'wb', not 'a'"):
        with files.atomic_write(tmp_path / "x", "a"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_json_round_trip_and_unreadable_files(tmp_path):
    path = files.write_json(tmp_path / "x.json", {"name": "ゆ", "n": [1, 2]})
    assert '"ゆ"' in path.read_text(encoding="utf-8") and path.stat().st_mode & 0o777 == usual_mode()
    assert files.read_json(path) == {"name": "ゆ", "n": [1, 2]}
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    for name in ("missing.json", "bad.json", "list.json"):
        assert files.read_json(tmp_path / name) == {}
