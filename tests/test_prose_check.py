"""The hand-typed-result finder: it catches measured values typed into prose and lets settings and report figures be."""

import json

import pytest

from nnutils.book import prose_check as pc

FIGURES = [
    {"reference": 0.9528, "unit": "fraction"},
    {"reference": 3700, "unit": "epochs"},
    {"reference": 0.9326, "unit": "fraction"},
]
REFS = pc.reference_values(FIGURES)


@pytest.mark.parametrize(
    "typed, kind",
    [
        ("The report's 6 is a fortunate seed of a size that worked for two seeds in five here.", "seed count"),
        ("In the run, the two ends failed with every seed (0.05 and 0.4).", "seed count"),
        ("After 70 decaying epochs the network sits about four points below the report (91%).", "percentage"),
        ("The summed reading trains much harder and ends above it (97.6%).", "percentage"),
        ("At 0.004 fitting and shrinking balance best (0.89).", "fraction"),
        ("The NumPy loop is as fast as PyTorch (in the full run 3.0 against 4.7 seconds per epoch).", "duration"),
        ("The test accuracy (99.1% in our run) is close to the report's.", "percentage"),
        ("LeNet ends above the perceptron on validation (98.9 vs 97.1).", "comparison"),
        ("Its test accuracy (96.3% in the full profile) beats the report's.", "percentage"),
        ("RawNet reached 100% in 2,929 epochs.", "epoch count"),
        ("The perceptron's gap of about 8 points is more than twice LeNet's.", "difference in points"),
        ("Chapter 2 takes about 45 minutes.", "duration"),
    ],
)
def test_hand_typed_results_are_found(typed, kind):
    hits = pc.hand_typed(typed, REFS)
    assert any(hit.startswith(kind) for hit in hits), hits


@pytest.mark.parametrize(
    "fine",
    [
        "Train until the training accuracy is 100%, for at most 20,000 epochs.",  # a target and a cap
        "The report's ReLU nets never got there within 20,000 epochs.",  # a cap, not a result
        "The report's 95.28% was measured on its own split.",  # a report figure, as written in the YAML
        "The report reached 100% in about 3,700 epochs.",  # a report figure (an epoch count)
        "Its NetConv has 392,354 parameters and the report's 93.26% accuracy.",
        "SGD with learning rate 0.01, momentum 0.5 and batches of 64 for 10 epochs.",  # settings
        "The error is $0.89 = 1 - 0.11$ and `acc = 0.97` in code.",  # math and code
        "97 points per spiral; the input is a point of the plane.",  # geometric points
        "1s in a tight cloud on one side, 0s on the other.",  # digits, not durations
        "We keep the components that explain 80% of the variance.",  # an allowed setting phrase
    ],
)
def test_settings_and_report_figures_are_allowed(fine):
    assert pc.hand_typed(fine, REFS) == []


def test_scan_names_the_notebook_cell(tmp_path):
    nb = {
        "cells": [
            {"cell_type": "markdown", "source": ["# Title\n", "Learning rate 0.01."], "metadata": {}},
            {"cell_type": "code", "source": ["print('97.6%')"], "metadata": {}, "outputs": [], "execution_count": None},
            {"cell_type": "markdown", "source": ["It ends at 97.6%."], "metadata": {}},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "demo.ipynb"
    path.write_text(json.dumps(nb))
    page = tmp_path / "page.md"
    page.write_text("The full build takes 78 minutes.\n")
    hits = pc.scan([path, page], FIGURES)
    assert len(hits) == 2 and hits[0].startswith("demo.ipynb cell 2: percentage") and hits[1].startswith("page.md:")
