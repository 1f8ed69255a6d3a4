"""The whole book as one PDF: the executed book rendered as a single HTML page, printed by headless Chromium.

    python -m nnutils.book.pdf [--build _build] [--optional]

Stages the executed book (as ``make site`` does), renders it with Jupyter Book's ``singlehtml`` builder into
``<build>/pdf/``, prints it to ``<build>/pdf/book.pdf`` (A4, each chapter from a new page, each animation as its last
frame) and checks that every chapter of ``_toc.yml`` is in the PDF. The browser loads only local files.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import yaml

from ..files import atomic_write
from .browser import HOW_TO_GET, find_chromium, required
from .build import ROOT, Builder

# Printed only: every chapter (a document of the single page) from a new page, an animation's frame without its
# player's buttons, the theme's navigation hidden, the text the page's full width and long code lines wrapped.
PRINT_CSS = """
@media print {
  span[id^="document-"] + section { break-before: page; }
  .animation .anim-controls, .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-footer,
  .header-article, .prev-next-area, .headerlink { display: none !important; }
  .bd-page-width, .bd-main, .bd-content, .bd-article-container { max-width: none !important; }
  pre { white-space: pre-wrap !important; overflow-wrap: anywhere; }
  .animation img { max-width: 100%; }
  .animation .print-note { font-size: 0.8em; font-style: italic; }
  img, figure, .cell_output { break-inside: avoid; }
}
"""
# Shows each matplotlib player's last frame (its final state), with a line saying so; returns how many players
# show no frame and how many other images did not load.
LAST_FRAMES_JS = """async () => {
  const players = Array.from(document.querySelectorAll('div.animation'));
  for (const div of players) {
    const img = div.querySelector('img[id^="_anim_img"]');
    const player = img && window['anim' + img.id.slice('_anim_img'.length)];
    if (player && player.last_frame) {
      player.pause_animation && player.pause_animation();
      player.last_frame();
      const note = document.createElement('p');
      note.className = 'print-note';
      const shown = player.current_frame + 1, all = player.frames.length;
      note.textContent = `Animation: frame ${shown} of ${all}${shown === all ? ', the last,' : ''} is shown `
        + '(the site plays them all).';
      div.appendChild(note);
    }
  }
  await document.fonts.ready;
  await Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)));
  const blank = players.filter(d => { const i = d.querySelector('img'); return !i || !i.naturalWidth; }).length;
  const broken = Array.from(document.images).filter(i => !i.closest('div.animation') && !i.naturalWidth).length;
  return [blank, broken];
}"""
MATHJAX_JS = """async () => {
  const mj = window.MathJax;
  if (!mj || !mj.startup || !mj.startup.promise) return false;
  await mj.startup.promise;
  if (mj.typesetPromise) await mj.typesetPromise();
  return true;
}"""


def chapters(book: Path) -> list[tuple[str, str]]:
    """(file, title) of every chapter in the book's ``_toc.yml``, in order; the title is the page's first heading."""
    toc = yaml.safe_load((book / "_toc.yml").read_text(encoding="utf-8"))
    files = [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", []) if "file" in c]
    files += [c["file"] for c in toc.get("chapters", []) if "file" in c]
    return [(name, page_title(book, name)) for name in files]


def page_title(book: Path, name: str) -> str:
    """The first level-one heading of a book page (``.md`` or ``.ipynb``), without MyST markup."""
    for suffix in (".md", ".ipynb"):
        path = book / f"{name}{suffix}"
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            if suffix == ".ipynb":
                cells = yaml.safe_load(text)["cells"]  # JSON is YAML
                text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
            match = re.search(r"^# +(.+?)\s*$", text, re.MULTILINE)
            if match:
                return re.sub(r"[`*_]", "", match.group(1))
            raise ValueError(f"{path} has no '# ' title: each chapter page starts with one.")
    raise FileNotFoundError(f"No page {name}.md or {name}.ipynb in {book}, which _toc.yml lists.")


def normalized(text: str) -> str:
    """Text as compared: ligatures split (NFKC), case folded, without whitespace (a line break may drop a space)."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def outline_pages(reader) -> dict[str, list[int]]:
    """The pages (0-based) that each bookmark of the PDF's outline points to, by normalized title."""
    found: dict[str, list[int]] = {}
    stack = list(reader.outline)
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            found.setdefault(normalized(item.title or ""), []).append(reader.get_destination_page_number(item))
    return found


def check_pdf(pdf: Path, titles: Sequence[str]) -> list[str]:
    """What is wrong with the printed book, one line each (empty when none): a chapter whose title starts no page,
    or fewer pages than chapters. Only the pages the PDF's outline names are read, or every page without one."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    texts = functools.cache(lambda i: normalized(reader.pages[i].extract_text() or "")[:200])
    bookmarks = outline_pages(reader)
    missing = []
    for title in titles:
        key = normalized(title)
        pages = (
            [i for name, at in bookmarks.items() if key in name for i in at] if bookmarks else range(len(reader.pages))
        )
        if not any(key in texts(i) for i in pages):
            missing.append(title)
    problems = [f"{pdf.name}: no page starts with the chapter(s) {', '.join(map(repr, missing))}"] if missing else []
    if len(reader.pages) < len(titles):
        problems.append(f"{pdf.name}: {len(reader.pages)} page(s) for {len(titles)} chapters")
    return problems


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """The folder over HTTP on a free local port (scripts behave as on the site); yields its address."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def print_pdf(html: Path, page: str, out: Path, chromium: str) -> list[str]:
    """Print ``html/page`` to ``out`` (written atomically); returns notes on what did not print as on the site."""
    from playwright.sync_api import sync_playwright

    # singlehtml writes the root page where its links say it is not (book/intro.html links _static/... as if it
    # were at the top): a copy at the top of the folder finds its styles, scripts and images.
    shutil.copyfile(html / page, html / "print.html")
    notes, blocked = [], set()
    with served(html) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = browser.new_page()
            tab.set_default_timeout(120_000)

            def local_only(route):
                if route.request.url.startswith(url):
                    return route.continue_()
                blocked.add(route.request.url.split("?")[0])
                return route.abort()

            tab.route("**/*", local_only)
            tab.goto(f"{url}/print.html", wait_until="load")
            tab.add_style_tag(content=PRINT_CSS)
            if not tab.evaluate(MATHJAX_JS) and tab.locator("span.math, div.math").count():
                notes.append("equations are printed as TeX source: MathJax did not load from a local file")
            blank, broken = tab.evaluate(LAST_FRAMES_JS)
            if blank:
                notes.append(f"{blank} animation(s) show no frame")
            if broken:
                notes.append(f"{broken} image(s) did not load")
            margin = {side: "15mm" for side in ("top", "bottom", "left", "right")}
            data = tab.pdf(format="A4", print_background=True, margin=margin, outline=True, tagged=True)
        finally:
            browser.close()
    with atomic_write(out, "wb") as f:
        f.write(data)
    if blocked:
        notes.append(f"not loaded (not local): {', '.join(sorted(blocked))}")
    return notes


def font_notes() -> list[str]:
    """A note when no Japanese font is installed (chapter 1's hiragana would print as empty boxes)."""
    try:
        found = subprocess.run(["fc-list", ":lang=ja"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [] if found else ["no Japanese font, so the hiragana print as boxes: apt-get install fonts-noto-cjk"]


def build_html(executed: Path, output: Path) -> Path:
    """Render the staged book with Jupyter Book's single-page HTML builder; returns the HTML folder."""
    command = [str(Path(sys.executable).parent / "jupyter-book"), "build", str(executed), "--builder", "singlehtml"]
    subprocess.run([*command, "--path-output", str(output), "--keep-going"], check=True, stdout=subprocess.DEVNULL)
    return output / "_build" / "singlehtml"


def missing_pages(executed: Path) -> list[str]:
    """The chapter notebooks of ``_toc.yml`` that have no executed copy in ``executed``."""
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    names = re.findall(r"file:\s*(notebooks/\S+)", toc)
    return [n for n in names if not (executed / f"{n}.ipynb").is_file()]


def fail(line: str) -> None:
    print(f"pdf: {line}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnutils.book.pdf", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", default=str(ROOT / "_build"), help="build folder (default: _build)")
    parser.add_argument("--optional", action="store_true", help="without Chromium, skip (outside CI) instead of fail")
    args = parser.parse_args(argv)
    start, builder = time.perf_counter(), Builder(ROOT, args.build)
    chromium = find_chromium()
    if chromium is None:
        line = f"pdf: no Chromium to print the book with: {HOW_TO_GET}"
        skip = args.optional and not required()
        print(line + (" (the PDF is skipped)" if skip else ""), file=sys.stdout if skip else sys.stderr)
        return 0 if skip else 1
    missing = missing_pages(builder.executed)
    if missing:
        fail(f"no executed book in {builder.executed} (missing {', '.join(missing)}): run `make book` first")
        return 1
    try:
        from playwright.sync_api import Error as PlaywrightError
        from pypdf import PdfReader
    except ImportError as error:
        fail(f"{error.name} is not installed: .venv/bin/pip install -e '.[dev]'")
        return 1
    builder.stage()
    folder, found = builder.build / "pdf", chapters(builder.executed)
    try:
        html = build_html(builder.executed, folder)
    except subprocess.CalledProcessError as error:
        fail(f"jupyter-book's singlehtml build failed (exit status {error.returncode}); its messages are above")
        return 1
    toc = yaml.safe_load((builder.executed / "_toc.yml").read_text(encoding="utf-8"))
    out = folder / "book.pdf"
    try:
        notes = font_notes() + print_pdf(html, f"{toc['root']}.html", out, chromium)
    except PlaywrightError as error:
        fail(f"Chromium ({chromium}) could not print the book: {str(error).splitlines()[0]}")
        return 1
    for note in notes:
        print(f"pdf: note: {note}")
    problems = check_pdf(out, [title for _, title in found])
    for line in problems:
        fail(line)
    pages = len(PdfReader(out).pages)
    print(f"pdf: {out} ({pages} pages, {len(found)} chapters) in {time.perf_counter() - start:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
