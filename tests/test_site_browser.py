"""The built site in a real browser: headless Chromium opens every page of ``_build/html`` (or ``$NNUTILS_SITE``).

Checks that no page shows an error or a traceback, that every image loads, that an animation's "next frame" button
changes the frame, that search finds a chapter, and that the results page has one row per reference figure. The
network is blocked: every request that is not to the local test server is aborted and recorded, and a page that made
one fails the offline test, which also checks that MathJax (served from the site) typeset every page with equations.
Saves a screenshot of every page into ``_build/screenshots/`` (the top of each page; ``NNUTILS_SCREENSHOTS=full``
for whole pages, which takes about a minute more), and one of a chapter in the theme's dark mode.

The browser is ``$NNUTILS_CHROMIUM``, else Debian's ``chromium``, else Playwright's own download
(``nnutils.book.browser``, which ``make test`` runs first). Without a browser or a built site the module is
skipped with one line giving the reason, unless ``CI=true`` or ``NNUTILS_BROWSER_TEST=1``, which make either a
failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

from nnutils.book.browser import HOW_TO_GET, find_chromium, required
from nnutils.book.report import load_reference_figures

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("NNUTILS_SITE", ROOT / "_build" / "html")).resolve()
SCREENSHOTS = SITE.parent / "screenshots"
FULL_PAGE_SHOTS = os.environ.get("NNUTILS_SCREENSHOTS", "") == "full"  # whole pages: slow to render
REQUIRED = required()
NOT_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
# myst-nb marks error output, stderr and tracebacks with these classes (stderr is removed by _config.yml).
ERROR_SELECTOR = "div.output.error, div.output.traceback, div.output.stderr, .cell_output .stderr, .nboutput .stderr"
SEARCH_WORD, SEARCH_EXPECTS = "hiragana", ("ch1_kmnist", "01_kmnist")
# Sphinx marks each equation with class "math"; MathJax 3 replaces it with an <mjx-container>.
MATH_MARK = 'class="math'
RAW_TEX = ("$$", "\\frac", "\\begin{", "\\(", "\\[")
# The page's visible text outside code, scripts and typeset equations (where TeX is shown on purpose, or is MathML).
PROSE_TEXT_JS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
  let text = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && !parent.closest(skip) && parent.offsetParent !== null) text += node.textContent + " ";
  }
  return text;
}"""
# Figures whose corners are see-through and sit on a dark background: black axes on it would not be legible.
DARK_ILLEGIBLE_JS = """() => Array.from(document.querySelectorAll("article img")).filter(img => {
  if (!img.naturalWidth) return false;
  const canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(img, 0, 0);
  const alpha = ctx.getImageData(0, 0, 1, 1).data[3];
  const bg = getComputedStyle(img).backgroundColor.match(/[\\d.]+/g).map(Number);
  const light = bg.length === 3 || bg[3] > 0.5 ? (bg[0] + bg[1] + bg[2]) / 3 > 160 : false;
  return alpha < 128 && !light;
}).map(img => img.getAttribute("src").slice(0, 80))"""
CHROMIUM = find_chromium()


def _missing() -> str | None:
    """Why the test cannot run here, or None."""
    if not (SITE / "index.html").is_file():
        return f"no built site at {SITE} (run `make book PROFILE=ci`, or set NNUTILS_SITE)"
    if CHROMIUM is None:
        return f"no Chromium found: {HOW_TO_GET}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


if _missing() and not REQUIRED:
    pytest.skip(_missing(), allow_module_level=True)


def pages() -> list[str]:
    """Every content page of the site, as paths relative to its root."""
    found = []
    for path in sorted(SITE.rglob("*.html")):
        rel = path.relative_to(SITE).as_posix()
        if rel.split("/")[0].startswith("_") or rel in NOT_PAGES:
            continue
        if 'http-equiv="refresh"' in path.read_text(encoding="utf-8", errors="ignore")[:2000].lower():
            continue  # index.html only redirects to the landing page
        found.append(rel)
    return found


@pytest.fixture(scope="module")
def site_url():
    """The site served over HTTP on a free local port (search and scripts behave as on a real server)."""
    reason = _missing()
    if reason:
        if REQUIRED:
            pytest.fail(f"CI=true or NNUTILS_BROWSER_TEST=1, but {reason}")
        pytest.skip(reason)
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def browser(site_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def _new_page(browser, site_url, **options):
    """A page whose requests outside the local server are aborted and listed in ``page.external``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    page.external = []

    def only_local(route):
        url = route.request.url
        if url.startswith(site_url + "/"):
            route.continue_()
        else:
            page.external.append(url)
            route.abort()

    context.route("**/*", only_local)
    page.set_default_timeout(30_000)
    return context, page


@pytest.fixture
def page(browser, site_url):
    context, page = _new_page(browser, site_url)
    yield page
    context.close()


@pytest.fixture
def dark_page(browser, site_url):
    context, page = _new_page(browser, site_url, color_scheme="dark")
    yield page
    context.close()


def _wait_for_mathjax(page) -> None:
    """Until MathJax has typeset the page (a page without MathJax returns at once)."""
    page.evaluate("window.MathJax && MathJax.startup && MathJax.startup.promise ? MathJax.startup.promise : null")


def test_every_page_renders_without_errors_and_with_its_images(page, site_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = []
    for rel in pages():
        page.goto(f"{site_url}/{rel}", wait_until="load")
        page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
        errors = page.locator(ERROR_SELECTOR).count()
        if errors:
            problems.append(f"{rel}: {errors} error/stderr output(s)")
        if "Traceback (most recent call last)" in page.evaluate("document.body.textContent"):
            problems.append(f"{rel}: shows a Python traceback")
        broken = page.evaluate(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src').slice(0, 80))"
        )
        problems += [f"{rel}: image does not load: {src}" for src in broken]
        shot = SCREENSHOTS / (rel.replace("/", "__").removesuffix(".html") + ".png")
        page.screenshot(path=str(shot), full_page=FULL_PAGE_SHOTS)
    assert pages(), f"the site at {SITE} has no pages"
    assert not problems, "\n".join(problems)


def test_animations_step_to_the_next_frame(page, site_url):
    animated = []
    for rel in pages():
        if 'class="animation"' not in (SITE / rel).read_text(encoding="utf-8", errors="ignore"):
            continue
        page.goto(f"{site_url}/{rel}", wait_until="load")
        player = page.locator("div.animation").first
        frame = player.locator("img").first
        before = frame.get_attribute("src")
        player.locator("button[title='Next frame']").click()
        page.wait_for_timeout(200)
        assert frame.get_attribute("src") != before, f"{rel}: 'Next frame' did not change the animation's frame"
        animated.append(rel)
    assert animated, "no page of the site has an animation (chapters 2 and 3 should)"


def test_search_finds_a_chapter(page, site_url):
    page.goto(f"{site_url}/search.html?q={SEARCH_WORD}", wait_until="load")
    page.wait_for_selector("ul.search li a", timeout=30_000)
    links = page.locator("ul.search li a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(any(name in href for name in SEARCH_EXPECTS) for href in links), f"search results: {links}"


def test_results_page_has_one_row_per_reference_figure(page, site_url):
    figures = load_reference_figures(ROOT / "book" / "reference_figures.yml")
    page.goto(f"{site_url}/book/results.html", wait_until="load")
    rows = page.locator("table#reference-figures tbody tr")
    assert rows.count() == len(figures), f"{rows.count()} rows on the results page, {len(figures)} figures in the YAML"
    statuses = set(rows.locator("td").evaluate_all("cells => cells.map(c => c.textContent.trim())"))
    assert statuses & {"within tolerance", "outside tolerance", "not comparable", "not measured"}


def test_pages_work_offline_with_their_equations_typeset(page, site_url):
    problems, with_math = [], []
    for rel in pages() + [name for name in sorted(NOT_PAGES) if (SITE / name).is_file()]:
        page.external.clear()
        page.goto(f"{site_url}/{rel}", wait_until="load")
        _wait_for_mathjax(page)
        page.wait_for_timeout(300)  # a font or component MathJax fetches after typesetting
        problems += [f"{rel}: fetched from the network (blocked): {url[:120]}" for url in dict.fromkeys(page.external)]
        if MATH_MARK not in (SITE / rel).read_text(encoding="utf-8", errors="ignore"):
            continue
        with_math.append(rel)
        if page.locator("mjx-container").count() == 0:
            problems.append(f"{rel}: has equations but MathJax typeset none (no mjx-container)")
        text = page.evaluate(PROSE_TEXT_JS)
        problems += [f"{rel}: raw TeX {tex!r} left in the text" for tex in RAW_TEX if tex in text]
    assert with_math, "no page of the site has an equation (chapters 2 and 4 should)"
    assert not problems, "\n".join(problems)


def test_dark_mode_keeps_a_chapters_figures_legible(dark_page, site_url):
    chapters = [rel for rel in pages() if rel.startswith("notebooks/")]
    assert chapters, f"the site at {SITE} has no chapter notebooks"
    rel = max(chapters, key=lambda r: (SITE / r).read_text(encoding="utf-8", errors="ignore").count("<img"))
    dark_page.goto(f"{site_url}/{rel}", wait_until="load")
    dark_page.evaluate(
        "document.documentElement.dataset.theme = 'dark'; document.documentElement.dataset.mode = 'dark'"
    )
    dark_page.evaluate("Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))")
    _wait_for_mathjax(dark_page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / ("dark__" + rel.replace("/", "__").removesuffix(".html") + ".png")
    dark_page.screenshot(path=str(shot), full_page=True)
    background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g).map(Number)")
    assert sum(background[:3]) / 3 < 100, f"{rel}: dark mode did not darken the page (background rgb{background})"
    assert dark_page.locator("article img").count(), f"{rel}: no figures to check in dark mode"
    illegible = dark_page.evaluate(DARK_ILLEGIBLE_JS)
    assert not illegible, f"{rel}: in dark mode these figures are see-through on a dark background: {illegible}"
