"""The sentence helpers the chapters use to write measured values into the text."""

from nnutils import prose


def test_say_joins_sentences_as_markdown():
    md = prose.say("NetConv reached 93.0%.", "", " It beat NetLin. ")
    assert md.data == "NetConv reached 93.0%. It beat NetLin."
    assert md._repr_markdown_() == md.data


def test_number_words():
    assert prose.pct(0.96261) == "96.3%" and prose.pct(0.5, 0) == "50%"
    assert prose.count(1, "seed") == "1 seed" and prose.count(7011, "image") == "7,011 images"
    assert prose.count(2, "index", "indices") == "2 indices"
    assert prose.of(2, 5, "seed") == "2 of 5 seeds" and prose.of(5, 5, "seed") == "all 5 seeds"
    assert prose.of(0, 4, "seed") == "no seed" and prose.of(2, 2, "run") == "both runs"
    assert prose.listing(["a", "b", "c"]) == "a, b and c" and prose.listing(["a"]) == "a"
    assert prose.listing(["a", "b"], "or") == "a or b"
    assert [prose.seconds(s) for s in (4.23, 210, 7200)] == ["4.2 s", "3.5 min", "2.0 h"]
    assert prose.compare_word(2, 1) == "higher" and prose.compare_word(1, 2, "faster", "slower") == "slower"
