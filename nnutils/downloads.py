"""Downloading dataset files: a course's own copy (``NNUTILS_MIRROR``) first, then every public mirror, each file
checked by md5 and written atomically, so a failed or wrong download leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from .files import atomic_write

MIRROR_VAR = "NNUTILS_MIRROR"
TIMEOUT_S = 30


class DownloadFailed(Exception):
    """No mirror served a file with the right checksum; ``attempts`` says what each one did."""

    def __init__(self, attempts: list[str]):
        super().__init__("; ".join(attempts))
        self.attempts = attempts


class _ChecksumMismatch(Exception):
    """A downloaded file whose md5 is not the official one (raised inside the write, so it is discarded)."""


def course_mirrors() -> list[str]:
    """The mirrors named by ``NNUTILS_MIRROR`` (URLs or folders, comma-separated), as base URLs."""
    entries = [e.strip() for e in os.environ.get(MIRROR_VAR, "").split(",") if e.strip()]
    return [
        e if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", e) else Path(e).expanduser().absolute().as_uri() for e in entries
    ]


def candidate_urls(name: str, stem: str, official: list[str]) -> list[str]:
    """Where a file is looked for, in order: the course's mirrors (``<mirror>/<NAME>/raw/<file>.gz``), then the
    public ones (``<mirror><file>.gz``)."""
    return [f"{m.rstrip('/')}/{name}/raw/{stem}.gz" for m in course_mirrors()] + [f"{m}{stem}.gz" for m in official]


def fetch(urls: list[str], target: Path, expected_md5: str, unreachable: set[str] | None = None) -> Path:
    """Write ``target`` from the first URL that serves it with the expected md5; hosts that did not answer (kept
    in ``unreachable`` across calls) are not asked again. Raises DownloadFailed with what each URL did."""
    unreachable = set() if unreachable is None else unreachable
    attempts = []
    for url in urls:
        host = urlsplit(url).netloc
        if host and host in unreachable:
            attempts.append(f"{url}: skipped, {host} did not answer before")
            continue
        try:
            with atomic_write(target, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                digest = hashlib.md5()
                while block := response.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                if digest.hexdigest() != expected_md5:
                    raise _ChecksumMismatch(f"{url}: checksum {digest.hexdigest()} != {expected_md5}")
            return target
        except _ChecksumMismatch as err:
            attempts.append(str(err))
        except OSError as err:
            attempts.append(f"{url}: {err}")
            no_answer = isinstance(err, TimeoutError) or (
                isinstance(err, urllib.error.URLError) and not isinstance(err, urllib.error.HTTPError)
            )
            if host and no_answer:
                unreachable.add(host)
    raise DownloadFailed(attempts)


def advice(name: str, files: list[str], cache: Path, data_var: str, example: str = "") -> str:
    """What to do when a dataset can be neither found nor downloaded: where to put the files, or which setting
    names a copy (in a shell or, on Colab and in any notebook, through os.environ before loading)."""
    return (
        f"To fix it, put {' and '.join(files)} in {cache / name / 'raw'}, or in <folder>/{name}/raw/ and set "
        f"{data_var}=<folder>{example}; or set {MIRROR_VAR} to a course's copy laid out the same way "
        f"(<URL or folder>/{name}/raw/<file>.gz; several, comma-separated, are tried in order before the public "
        f'mirrors). In a notebook (Colab too), before loading: import os; os.environ["{MIRROR_VAR}"] = '
        '"https://example.org/course-data".'
    )
