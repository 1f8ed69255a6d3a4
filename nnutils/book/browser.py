"""The Chromium for the site's browser test (``tests/test_site_browser.py``), found before a long test run.

    python -m nnutils.book.browser [--no-install]

prints one line: the browser found; or, where none is found and ``playwright install chromium`` fails, how to get
one. Exit status 1 only when none is found and the test is required (``CI=true`` or ``NNUTILS_BROWSER_TEST=1``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

SYSTEM_CHROMIUM = ("/usr/bin/chromium",)  # Debian's package (also looked for on the PATH)
HOW_TO_GET = "apt-get install chromium (Debian, Ubuntu), or .venv/bin/playwright install chromium (Playwright's own)"


def required() -> bool:
    """Whether a missing browser or site is a failure rather than a skip: in CI, or when asked for."""
    return os.environ.get("NNUTILS_BROWSER_TEST") == "1" or os.environ.get("CI", "").lower() == "true"


def find_chromium() -> str | None:
    """The Chromium to drive: ``$NNUTILS_CHROMIUM``, Debian's ``chromium``, or Playwright's own; None if none."""
    for candidate in (os.environ.get("NNUTILS_CHROMIUM"), shutil.which("chromium"), *SYSTEM_CHROMIUM):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            bundled = p.chromium.executable_path
    except Exception:  # Playwright missing, or its driver cannot start
        return None
    return bundled if bundled and Path(bundled).is_file() else None


def install_chromium() -> bool:
    """Try ``playwright install chromium`` (it needs the internet); True when it worked."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "playwright", "install", "chromium"], capture_output=True, text=True, timeout=900
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def check_browser(install: bool = True) -> tuple[int, str]:
    """(exit status, the one line to show): 0 with a browser, or without one outside CI (the browser test will be
    skipped); 1 without one where the test is required."""
    found = find_chromium() or (install and install_chromium() and find_chromium())
    if found:
        return 0, f"browser test: Chromium at {found}"
    if required():
        return 1, f"browser test: no Chromium, and CI=true (or NNUTILS_BROWSER_TEST=1) needs one: {HOW_TO_GET}"
    return 0, f"browser test: no Chromium found, so it will be skipped; to run it: {HOW_TO_GET}"


def main(argv: list[str] | None = None) -> int:
    status, line = check_browser(install="--no-install" not in (sys.argv[1:] if argv is None else argv))
    print(line, file=sys.stderr if status else sys.stdout, flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
