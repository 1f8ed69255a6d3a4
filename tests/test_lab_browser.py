"""The live views in a real JupyterLab: ``jupyter lab`` on the loopback address, a small notebook that builds
chapter 2's spirals playground, opened in headless Chromium; all cells run, the widget must render (no "Loading
widget..." placeholder, no error) and respond to its Train button and a slider. Saves a screenshot to
``_build/screenshots/lab_widget.png``.

The browser is found as for the site test (``nnutils.book.browser``). Without Chromium, Playwright or JupyterLab
the module is skipped with one line, unless ``CI=true`` or ``NNUTILS_BROWSER_TEST=1``, which make that a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from nnutils.book.browser import HOW_TO_GET, find_chromium, required

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "_build" / "screenshots" / "lab_widget.png"
JUPYTER_LAB = Path(sys.executable).with_name("jupyter-lab")
CHROMIUM = find_chromium()
SET_UP = """\
from nnutils import spirals as sp
from nnutils.widgets import spirals_playground

x, y = sp.two_spirals(n_per_spiral=24)"""
WIDGET = "spirals_playground((x, y), hidden=3, epochs_per_click=50, redraw_every=50, resolution=16)"
PROBLEM_TEXT = ("Loading widget", "Error displaying widget", "Traceback", "Error:")


def _missing() -> str | None:
    """Why the test cannot run here, or None."""
    if CHROMIUM is None:
        return f"no Chromium found: {HOW_TO_GET}"
    if not JUPYTER_LAB.is_file():
        return f"no JupyterLab at {JUPYTER_LAB} (pip install -e '.[dev]')"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


if _missing() and not required():
    pytest.skip(_missing(), allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen) -> None:
    """Stop the server and its kernels (its own process group), politely, then for sure."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(process.pid, signal.SIGKILL)  # any kernel left behind
    except ProcessLookupError:
        pass
    process.wait(timeout=5)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(url, token) of a JupyterLab serving a folder with one notebook, ``widget.ipynb``; stopped afterwards."""
    reason = _missing()
    if reason:
        pytest.fail(f"CI=true or NNUTILS_BROWSER_TEST=1, but {reason}")
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SET_UP), nbformat.v4.new_code_cell(WIDGET)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, notebooks / "widget.ipynb")
    settings = home / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NNUTILS_PROGRESS": "0",
    }
    port, token = free_port(), secrets.token_hex(16)
    log = home / "lab.log"
    command = [str(JUPYTER_LAB), "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebooks}",
               "--LabApp.expose_app_in_browser=True", *(["--allow-root"] if os.geteuid() == 0 else [])]  # fmt: skip
    with open(log, "w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_server(f"{url}/api/status?token={token}", process, log)
        yield url, token
    finally:
        stop(process)


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(45_000)
        yield page
        browser.close()


KERNEL_READY = """() => {
    const context = window.jupyterapp.shell.currentWidget?.sessionContext;
    return context?.isReady && context.session?.kernel?.status === "idle";
}"""


def accept_kernel_dialog(page, wait_ms: int = 1500) -> None:
    """Accept JupyterLab's "Select Kernel" dialog (the notebook's own kernel) if it comes up."""
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    try:
        accept.wait_for(state="visible", timeout=wait_ms)
    except Exception:  # no dialog
        return
    accept.click()


def output_text(page) -> str:
    return page.evaluate(
        "Array.from(document.querySelectorAll('.jp-OutputArea-output')).map(e => e.textContent).join('\\n')"
    )


def test_the_playground_renders_and_responds_in_jupyterlab(lab, page):
    try:
        run_and_use_the_playground(page, *lab)
    finally:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def run_and_use_the_playground(page, url: str, token: str) -> None:
    start = time.monotonic()
    page.goto(f"{url}/lab/tree/widget.ipynb?token={token}")
    page.wait_for_function("window.jupyterapp && document.querySelector('.jp-Notebook .jp-Cell')")
    accept_kernel_dialog(page)
    page.wait_for_function(KERNEL_READY)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # not awaited
    accept_kernel_dialog(page)
    picture = page.locator(".jp-OutputArea-output img.widget-image")
    picture.wait_for(state="visible", timeout=90_000)
    page.wait_for_function("document.querySelector('img.widget-image').naturalWidth > 0")
    status = page.locator(".jp-OutputArea-output .widget-html-content").first
    assert "RawNet 2-3-3-1 (tanh, seed 0): epoch 0" in status.inner_text()
    before = picture.get_attribute("src")

    page.locator(".jp-OutputArea-output button", has_text="Train").click()
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.widget-html-content')).some(e => e.textContent.includes('epoch 50,'))"
    )
    page.wait_for_function(f"document.querySelector('img.widget-image').src !== {json.dumps(before)}")
    trained = picture.get_attribute("src")

    slider = page.locator(".jp-OutputArea-output .widget-slider", has_text="hidden units")
    slider.locator(".noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "Array.from(document.querySelectorAll('.widget-html-content')).some(e => e.textContent.includes('2-4-4-1'))"
    )
    page.wait_for_function(f"document.querySelector('img.widget-image').src !== {json.dumps(trained)}")

    text = output_text(page)
    assert not [problem for problem in PROBLEM_TEXT if problem in text], text[-2000:]
    assert time.monotonic() - start < 120, "the notebook took over two minutes to run and respond"
