"""Find measured values typed into the book's prose by hand (they must come from the run: ``nnutils.prose``).

Flagged in a Markdown cell or page: a percentage, a fraction such as 0.89, a duration, a count of seeds that
succeeded or failed, or an epoch count that something "reached" or "took". Allowed: 0% and 100% (targets), the
reports' own figures (a value written in ``book/reference_figures.yml``), numbers in math or code, and the settings
listed in ``SETTINGS`` (phrases that state a setting or a fact of arithmetic, not a result).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

# Phrases whose numbers are settings or arithmetic, not measurements (each says why it is allowed).
SETTINGS = (
    "80% of the variance",  # chapter 5's chosen threshold for PCA components
    "explain 80%",  # the same threshold, read off the curve's axis
    "of the gradient",  # the sigmoid's largest derivative at a slope (arithmetic)
    "of step(z)",  # sigmoid(10 z) against a step (arithmetic)
    "leaves 12% of it",  # 0.97 ** 70 (arithmetic on the learning-rate decay setting)
    "under 2 minutes",  # the ci profile's time goal
    "up to 0.71 on the two inputs",  # 1/sqrt(2), PyTorch's initial bound for two inputs (arithmetic)
    "sigmoid(0.5) is only 0.62",  # arithmetic
    "one image is 0.33 points",  # 1/300 (arithmetic on the validation-set size)
)

NUMBER = r"\d(?:[\d,]*\d)?(?:\.\d+)?"
WORD_NUMBER = r"(?:\d+(?:\.\d+)?|a|one|two|three|four|five|six|seven|eight|nine|ten|half a|a few tenths of a)"
PATTERNS = {
    "percentage": re.compile(rf"(?<![\w.])({NUMBER})\s?%"),
    "fraction": re.compile(r"(?<![\w.$])(0\.0*[1-9]\d{1,3})(?![\d%])"),  # two or more significant digits
    "duration": re.compile(rf"(?<![\w.])({NUMBER})(?:\s(?:s|ms|sec|h)|\s?(?:seconds|minutes|hours|min))\b"),
    "difference in points": re.compile(
        rf"\b{WORD_NUMBER}(?:\s+(?:or|to)\s+\w+)?\s+(?:percentage\s+)?points?\s+"
        r"(?:above|below|ahead|behind|higher|lower|better|worse|over|apart|of each other)\b"
        rf"|\bgaps?\b[^.;]{{0,20}}?\b(?:of|to) (?:about )?{WORD_NUMBER} points?\b"
        rf"|\bwithin (?:about )?(?:a tenth of a|a third of a|{WORD_NUMBER}) points?\b"
    ),
    "comparison": re.compile(rf"(?<![\w.])(\d+\.\d+)\s*(?:%\s*)?(?:vs\.?|versus|against)\s*{NUMBER}"),
    "seed count": re.compile(
        r"\b(?:\w+ (?:of|in|out of) \w+ seeds|\w+ seeds? (?:of|in|out of) (?:\d+|two|three|four|five|six|ten)\b"
        r"|(?:every|each|no|all|both) (?:\w+ )?seeds?\b[^.;]{0,40}?"
        r"\b(?:failed|solved|reached|stalled|succeeded)|(?:failed|solved|reached|stalled|succeeded)\b[^.;]{0,40}?"
        r"\b(?:every|each|all|both|no) (?:\w+ )?seeds?)\b"
    ),
    "epoch count": re.compile(
        rf"\b(?:reached|reaches|solved|took|takes|needed|needs|converged|stopped|got there)\b[^.;]{{0,50}}?"
        rf"(?<!within )(?<!cap of )(?<!up to )(?<!for )(?<![\d,.])({NUMBER})\s+epochs\b"
    ),
}
SETTING_WORDS = re.compile(
    r"(?:rate|lr|momentum|scale|slope|leak|decay|lambda|dropout|step|std|σ|λ|=|of size|factor|probability|reading"
    r"|multiplied by)\W{0,5}"
    r"(?:of\s+|is\s+|to\s+)?$",
    re.I,
)


def _plain(text: str) -> str:
    """Markdown without math, inline code, links' targets and HTML comments (numbers there are not prose)."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]+`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"\{[a-z:]+\}`[^`]*`", " ", text)


def _value(number: str) -> float:
    try:
        return float(number.replace(",", ""))
    except ValueError:
        return float("nan")


def reference_values(figures: Iterable[dict]) -> set[str]:
    """Every report figure written as it may be quoted: the value itself and, for fractions, as a percentage with
    the report's own digits (0.9868 as "0.9868" and "98.68")."""
    quoted = set()
    for f in figures:
        ref = float(f["reference"])
        quoted.add(f"{ref:g}")
        if f.get("unit") == "fraction":
            text = f"{100 * ref:.4f}".rstrip("0").rstrip(".")
            quoted.add(text)
    return quoted


def _is_reference(number: str, references: set[str]) -> bool:
    plain = number.replace(",", "")
    return plain in references or (plain.rstrip("0").rstrip(".") if "." in plain else plain) in references


def hand_typed(text: str, references: set[str] = frozenset()) -> list[str]:
    """The hand-typed results in one Markdown text: one ``"kind: sentence"`` entry for each."""
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n\s*\n|\n[-*] ", _plain(text)):
        sentence = " ".join(sentence.split())
        if not sentence or any(phrase in sentence for phrase in SETTINGS):
            continue
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(sentence):
                number = match.group(1) if pattern.groups else None
                if number is not None:
                    if kind == "percentage" and _value(number) in (0.0, 100.0):
                        continue
                    if _is_reference(number, references):
                        continue
                    if kind in ("fraction", "duration") and SETTING_WORDS.search(sentence[: match.start()]):
                        continue
                found.append(f"{kind} {match.group(0)!r}: {sentence}")
    return found


def markdown_of(path: Path) -> list[tuple[str, str]]:
    """(place, text) for every Markdown cell of a notebook, or the whole text of a Markdown page."""
    path = Path(path)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        return [
            (f"{path.name} cell {i}", "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "markdown"
        ]
    return [(path.name, path.read_text(encoding="utf-8"))]


def scan(paths: Iterable[Path], figures: Iterable[dict]) -> list[str]:
    """Every hand-typed result in the given notebooks and pages, as ``"place: kind ...: sentence"``."""
    references = reference_values(figures)
    return [
        f"{place}: {hit}" for path in paths for place, text in markdown_of(path) for hit in hand_typed(text, references)
    ]
