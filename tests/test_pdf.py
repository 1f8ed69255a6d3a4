"""The book's PDF (``make pdf``): the check that every chapter starts a page, on tiny PDFs written here, and the
printing itself in headless Chromium on a tiny single-page book (skipped without Chromium)."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("pypdf")
from pypdf import PdfWriter  # noqa: E402
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject  # noqa: E402

from nnutils.book import pdf  # noqa: E402

HELVETICA = DictionaryObject(
    {
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    }
)


def write_pdf(path, pages, outline=None):
    """A PDF with one page per string (its lines in Helvetica) and, if given, bookmarks {title: page index}."""
    writer = PdfWriter()
    for text in pages:
        page = writer.add_blank_page(595, 842)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): HELVETICA})}
        )
        lines = " T* ".join(f"({line})Tj" for line in text.split("\n"))
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 14 TL 50 780 Td {lines} ET".encode("latin-1"))
        page.replace_contents(stream)
    for title, index in (outline or {}).items():
        writer.add_outline_item(title=title, page_number=index)
    with open(path, "wb") as f:
        writer.write(f)
    return path


TITLES = ["Japanese character recognition", "Twin spirals", "References"]
BOOK = ["1. Japanese character recognition\nbody", "more body", "2. Twin spirals\nbody", "References\n[1] a paper"]


def test_a_book_whose_chapters_each_start_a_page_passes(tmp_path):
    assert pdf.check_pdf(write_pdf(tmp_path / "book.pdf", BOOK), TITLES) == []
    wrapped = ["1. Japanese character\nrecognition", "2. TWIN SPIRALS", "References"]  # wrapped, cased
    assert pdf.check_pdf(write_pdf(tmp_path / "wrapped.pdf", wrapped), TITLES) == []
    assert pdf.normalized("Ef\ufb01cient\n  Nets") == "efficientnets"  # a ligature, a line break


def test_a_missing_chapter_is_named(tmp_path):
    problems = pdf.check_pdf(write_pdf(tmp_path / "book.pdf", BOOK[:2] + BOOK[3:]), TITLES)
    assert problems == ["book.pdf: no page starts with the chapter(s) 'Twin spirals'"]


def test_a_title_only_in_the_middle_of_a_page_does_not_count(tmp_path):
    body = "\n".join(["words on a page that is about something else"] * 8)
    pages = [BOOK[0], f"{body}\nTwin spirals", BOOK[3]]
    assert pdf.check_pdf(write_pdf(tmp_path / "book.pdf", pages), TITLES) == [
        "book.pdf: no page starts with the chapter(s) 'Twin spirals'"
    ]


def test_fewer_pages_than_chapters_fail(tmp_path):
    problems = pdf.check_pdf(write_pdf(tmp_path / "book.pdf", ["\n".join(TITLES)]), TITLES)
    assert "book.pdf: 1 page(s) for 3 chapters" in problems


def test_with_an_outline_the_bookmarked_pages_are_read(tmp_path):
    outline = {"1. Japanese character recognition": 0, "2. Twin spirals": 2, "References": 3}
    assert pdf.check_pdf(write_pdf(tmp_path / "book.pdf", BOOK, outline), TITLES) == []
    del outline["2. Twin spirals"]
    problems = pdf.check_pdf(write_pdf(tmp_path / "book.pdf", BOOK, outline), TITLES)
    assert problems == ["book.pdf: no page starts with the chapter(s) 'Twin spirals'"]


def test_the_chapters_come_from_the_toc_with_each_page_heading(tmp_path):
    (tmp_path / "_toc.yml").write_text(
        textwrap.dedent(
            """\
            format: jb-book
            root: intro
            parts:
              - caption: Chapters
                chapters:
                  - file: ch1
                    sections:
                      - file: nb1
                  - file: nb2
            """
        )
    )
    (tmp_path / "ch1.md").write_text("(label)=\n# The `first` chapter\n\n## A section\n")
    cells = [
        {"cell_type": "code", "source": ["# a comment\n"]},
        {"cell_type": "markdown", "source": ["# Notebook two\n"]},
    ]
    (tmp_path / "nb2.ipynb").write_text(json.dumps({"cells": cells}))
    assert pdf.chapters(tmp_path) == [("ch1", "The first chapter"), ("nb2", "Notebook two")]
    (tmp_path / "ch1.md").write_text("No heading here\n")
    with pytest.raises(ValueError, match="ch1.md has no '# ' title"):
        pdf.chapters(tmp_path)


def test_without_chromium_or_an_executed_book_one_line_says_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    monkeypatch.delenv("NNUTILS_BROWSER_TEST", raising=False)
    monkeypatch.setenv("CI", "false")
    assert pdf.main(["--build", str(tmp_path)]) == 1
    assert "pdf: no Chromium to print the book with: apt-get install chromium" in capsys.readouterr().err
    assert pdf.main(["--build", str(tmp_path), "--optional"]) == 0
    assert "(the PDF is skipped)" in capsys.readouterr().out
    monkeypatch.setenv("CI", "true")
    assert pdf.main(["--build", str(tmp_path), "--optional"]) == 1
    assert "(the PDF is skipped)" not in capsys.readouterr().err
    monkeypatch.setattr(pdf, "find_chromium", lambda: "/usr/bin/chromium")
    assert pdf.main(["--build", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pdf: no executed book in" in err and "notebooks/01_kmnist" in err


CHROMIUM = pdf.find_chromium()


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to print with")
def test_a_tiny_book_prints_each_chapter_on_a_page_and_an_animation_as_its_last_frame(tmp_path):
    pytest.importorskip("playwright")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nnutils.animation import animate

    fig = plt.figure(figsize=(2, 1.5), dpi=40)
    player = animate(fig, lambda i: fig.gca().set_title(f"step {i}"), 3).data
    chapter = '<span id="document-{0}"></span><section id="{0}"><h1>{1}</h1><p>Text of {1}.</p>{2}</section>'
    body = chapter.format("ch1", "Alpha chapter", "") + chapter.format("ch2", "Beta chapter", player)
    body += '<img src="http://example.invalid/remote.png">'  # a remote file is never fetched
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.html").write_text(f"<html><body><h1>The book</h1>{body}</body></html>")
    out = tmp_path / "book.pdf"
    notes = pdf.print_pdf(tmp_path, "book/intro.html", out, CHROMIUM)
    assert notes[0] == "1 image(s) did not load"
    assert notes[1].startswith("not loaded (not local): http://example.invalid/remote.png")
    assert pdf.check_pdf(out, ["Alpha chapter", "Beta chapter"]) == []
    from pypdf import PdfReader

    text = pdf.normalized(" ".join(page.extract_text() for page in PdfReader(out).pages))
    assert pdf.normalized("Animation: frame 3 of 3, the last, is shown") in text
    assert "once" not in text and "loop" not in text  # the player's controls are not printed
