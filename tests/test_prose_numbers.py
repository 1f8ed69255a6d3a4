"""No measured value is typed into the book's prose: every notebook's Markdown and every book page, scanned."""

from pathlib import Path

import pytest

from nnutils.book import prose_check
from nnutils.references import load_reference_figures

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md"))
PAGES += sorted((ROOT / "book").glob("*.ipynb"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_no_result_is_typed_into_the_prose(page):
    figures = load_reference_figures(ROOT / "book" / "reference_figures.yml")
    hits = prose_check.scan([page], figures)
    assert not hits, "measured values typed by hand (write them with nnutils.prose):\n" + "\n".join(hits)


def test_the_scan_covers_every_chapter():
    assert {p.stem for p in PAGES} >= {"01_kmnist", "02_spirals", "03_hidden_dynamics", "05_autoencoders", "intro"}
