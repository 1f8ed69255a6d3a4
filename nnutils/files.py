"""Writing files safely: a temporary file in the same folder, renamed over the target only when complete."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing; on success rename it over ``path`` (mode 0644 less the
    umask, like any new file), on any error or interrupt remove it, so ``path`` is never half-written."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write opens files for writing: mode 'w' or 'wb', not {mode!r}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        if "b" not in mode:
            open_kwargs.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **open_kwargs) as f:
            yield f
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def write_json(path: str | Path, payload: object, **dump_kwargs) -> Path:
    """Write ``payload`` as JSON atomically (indented, UTF-8); returns the path."""
    dump_kwargs.setdefault("indent", 1)
    dump_kwargs.setdefault("ensure_ascii", False)
    with atomic_write(path) as f:
        json.dump(payload, f, **dump_kwargs)
    return Path(path)


def read_json(path: str | Path) -> dict:
    """A JSON object from a file; {} when the file is missing, unreadable or not an object."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return payload if isinstance(payload, dict) else {}
