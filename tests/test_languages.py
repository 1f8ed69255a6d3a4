"""The counting languages' counter machine, and its drawing."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from nnutils.language_plots import plot_state_machine
from nnutils.languages import LANGUAGES, make_stream, state_machine


def _fires(arc, m):
    return {"": True, "m > 0": m > 0, "m = 0": m == 0}[arc.needs]


def _apply(arc, n, m):
    if arc.action == "n += 1":
        return n + 1, m
    if arc.action == "n := 1":
        return 1, m
    if arc.action == "m -= 1":
        return n, m - 1
    k = int(re.fullmatch(r"m := (\d+)n - 1", arc.action).group(1))
    return n, k * n - 1


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_machine_reads_streams_and_marks_the_predictable_symbols(language):
    stream = make_stream(language, [1, 3, 2, 4, 1])
    arcs = state_machine(language)
    state, n, m = "a", 1, 0  # after the stream's first a
    for i, symbol in enumerate(stream.text[1:]):
        possible = [arc for arc in arcs if arc.source == state and _fires(arc, m)]
        assert (len({arc.symbol for arc in possible}) == 1) == bool(stream.predictable()[i])
        (arc,) = [arc for arc in possible if arc.symbol == symbol]
        assert arc.predictable == bool(stream.predictable()[i])
        state, (n, m) = arc.target, _apply(arc, n, m)
    assert (state, m) == (LANGUAGES[language][-1][0], 0)  # the stream ends with its last block done


def test_machine_of_anb2n():
    arcs = state_machine("anb2n")
    assert [(a.source, a.target, a.symbol, a.predictable) for a in arcs] == [
        ("a", "a", "a", False),
        ("a", "b", "b", False),
        ("b", "b", "b", True),
        ("b", "a", "a", True),
    ]
    assert arcs[1].action == "m := 2n - 1"


def test_plot_state_machine_draws_a_state_per_block_and_an_arc_per_transition():
    for language, states in [("anb2n", 2), ("anb2nc3n", 3)]:
        ax = plot_state_machine(language)
        texts = [t.get_text() for t in ax.texts]
        assert sum(t.startswith("reading") for t in texts) == states
        assert len(ax.patches) == states + len(state_machine(language)) + 1  # circles, arcs, start arrow
        assert any("m -= 1" in t for t in texts)
        plt.close(ax.figure)
    with pytest.raises(ValueError, match="Unknown language"):
        plot_state_machine("anbncn")
