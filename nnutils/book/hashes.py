"""What decides that a notebook is unchanged since its last run: content hashes of its source, its profile, the
``nnutils`` sources and any other inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


def package_hash(package: Path = PACKAGE) -> str:
    """sha256 over the ``nnutils`` source files (paths and contents), so that a library change re-runs notebooks."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def notebook_hash(path: Path, profile: str, extra: str = "") -> str:
    """sha256 of a notebook's source, the profile it runs in and any other inputs (``extra``)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"\0profile={profile}\0{extra}".encode())
    return digest.hexdigest()


def files_hash(paths: Iterable[Path]) -> str:
    """sha256 over the names and contents of some files (missing ones are skipped)."""
    digest = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def git_commit(root: Path) -> str:
    """The git commit of ``root`` (with ``+changes`` when tracked files differ from it), or "" outside git."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    return head + ("+changes" if head and git("status", "--porcelain", "--untracked-files=no") else "")
