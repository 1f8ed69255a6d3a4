"""Counting languages, streams, the SRN and LSTM models and the state and accuracy helpers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch

from nnutils.recurrent import (
    SRN,
    LSTMNet,
    alphabet,
    chance_accuracy,
    in_language,
    make_stream,
    make_string,
    plot_probabilities,
    plot_states,
    predictable_correct,
    prediction_table,
    random_stream,
    run_stream,
    sequence_loss,
    stream_batch,
)


@pytest.mark.parametrize("language", ["anbn", "anb2n", "anb2nc3n"])
def test_every_generated_string_belongs_to_its_language(language):
    for n in range(1, 9):
        assert in_language(make_string(language, n), language)
    assert make_string("anb2nc3n", 2) == "aabbbbcccccc"


def test_strings_outside_the_language_are_rejected():
    for s in ["", "ab", "abbb", "aabbb", "ba", "abbabb", "bba"]:
        assert not in_language(s, "anb2n")
    assert not in_language("abbcc", "anb2nc3n")
    with pytest.raises(ValueError, match="choose one of"):
        make_string("anbncn", 2)
    with pytest.raises(ValueError, match="at least 1"):
        make_string("anb2n", 0)


def test_random_stream_splits_into_strings_of_the_language():
    stream = random_stream("anb2nc3n", 20, (1, 4), seed=3)
    starts = np.flatnonzero((stream.block == 0) & (stream.count == 1))
    pieces = [stream.text[a:b] for a, b in zip(starts, [*starts[1:], len(stream)])]
    assert len(pieces) == 20 and all(in_language(p, "anb2nc3n") for p in pieces)
    assert set(stream.n) <= {1, 2, 3, 4}
    with pytest.raises(ValueError, match="n_range"):
        random_stream("anb2n", 3, (0, 4))


def test_labels_count_up_on_a_and_down_on_b():
    stream = make_stream("anb2n", [2, 1])
    assert stream.text == "aabbbbabb"
    assert stream.labels() == ["a1", "a2", "b3", "b2", "b1", "b0", "a1", "b1", "b0"]
    # after an a the next symbol is open; after a b it is determined
    assert stream.predictable().tolist() == [False, False, True, True, True, True, False, True]


def test_tensors_and_batches_have_the_expected_shapes():
    x, y = make_stream("anb2nc3n", [1, 2]).tensors()
    assert x.shape == (1, 17, 3) and y.shape == (1, 17, 2)
    assert torch.equal(x[0].argmax(1), torch.tensor([0, 1, 1, 2, 2, 2, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2]))
    assert y[0, :, 0].tolist()[:6] == [1, 1, 2, 2, 2, 0]
    xb, yb = stream_batch("anb2n", 5, 30, (1, 3), seed=1)
    assert xb.shape == (5, 30, 2) and yb.shape == (5, 30, 2)


@pytest.mark.parametrize("model_class, hidden", [(SRN, 2), (LSTMNet, 3)])
def test_models_output_logits_and_states_of_the_right_shapes(model_class, hidden):
    torch.manual_seed(0)
    model = model_class(3, hidden)
    x, y = make_stream("anb2nc3n", [1, 3]).tensors()
    out = model(x)
    assert out.shape == (1, x.shape[1], 3)
    states = model.states(x)
    assert states["hidden"].shape == (1, x.shape[1], hidden)
    assert torch.allclose(model.out(states["hidden"]), out, atol=1e-5), "states must be the ones the forward pass uses"
    if model_class is LSTMNet:
        assert states["cell"].shape == (1, x.shape[1], hidden)
    assert sequence_loss(out, y).ndim == 0


def test_predictable_correct_scores_only_predictable_positions():
    x, y = make_stream("anb2n", [1]).tensors()  # a -> b (open), b -> b, b (last) has no successor here
    perfect = torch.nn.functional.one_hot(y[..., 0], 2).float() * 10
    assert predictable_correct(perfect, y).item() == 1.0
    wrong_open = perfect.clone()
    wrong_open[0, 0] = torch.tensor([10.0, 0.0])  # miss the unpredictable one only
    assert predictable_correct(wrong_open, y).item() == 1.0
    assert predictable_correct(-perfect, y).item() == 0.0


def test_chance_accuracy_of_the_bigram_guess():
    # after b the most common next symbol is b: right on all b's but the last of each string
    stream = make_stream("anb2n", [2, 2, 2])
    assert chance_accuracy(stream) == pytest.approx(9 / 11)  # 11 predictable b's (the last has no successor)


def test_run_stream_and_prediction_table_and_plots():
    torch.manual_seed(0)
    model = SRN(2)
    frame = run_stream(model, make_stream("anb2n", [1, 2]))
    assert {"hidden1", "hidden2", "p(a)", "p(b)", "label", "predictable"} <= set(frame.columns)
    assert np.allclose(frame[["p(a)", "p(b)"]].sum(axis=1), 1, atol=1e-5)
    table = prediction_table(model, "anb2n", [1, 2, 5], train_range=(1, 4))
    assert list(table.index) == [1, 2, 5] and table.loc[5, "in training range"] == False  # noqa: E712
    assert table.loc[2, "b's right"].endswith("/3")
    plot_states(frame, "hidden1", "hidden2")
    plot_probabilities(frame)
    assert alphabet("anb2nc3n") == "abc"
