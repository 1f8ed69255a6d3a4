"""Counting languages, streams, the SRN and LSTM models and the state and accuracy helpers."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import torch

from nnutils.recurrent import (
    SRN,
    LSTMNet,
    alphabet,
    block_steps,
    chance_accuracy,
    count_reading,
    in_language,
    make_stream,
    make_string,
    missed_symbols,
    plot_probabilities,
    plot_state_snapshots,
    plot_states,
    predictable_correct,
    prediction_table,
    random_stream,
    run_stream,
    sequence_loss,
    stream_batch,
    train_counter,
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


def _one_hot(symbols: list[list[int]], vocab: int) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(symbols), vocab).float()


@pytest.mark.parametrize("model_class, hidden", [(SRN, 2), (LSTMNet, 3)])
def test_the_output_at_step_t_depends_on_the_input_at_step_t_minus_1(model_class, hidden):
    """A net whose state is reset every step would give the same output at t whatever came before."""
    torch.manual_seed(0)
    model = model_class(3, hidden)
    with torch.no_grad():
        for p in model.parameters():  # weights large enough that the past shows clearly in the output
            p.uniform_(-2, 2)
    x = _one_hot([[0, 1, 2, 1, 0], [0, 1, 0, 1, 0]], 3)  # the two streams differ only at step 2
    with torch.no_grad():
        out, states = model(x), model.states(x)["hidden"]
    for values in (out, states):
        assert torch.allclose(values[0, :2], values[1, :2]), "the output before step 2 cannot know step 2"
        assert not torch.allclose(values[0, 3], values[1, 3], atol=1e-4), "step 3 must remember the input at step 2"
        assert not torch.allclose(values[0, 4], values[1, 4], atol=1e-5), "and step 4 still"


def _previous_symbol_task(n_streams: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random binary streams; the target at step t is the input at step t-1 (step 0 has none: not scored)."""
    g = torch.Generator().manual_seed(seed)
    symbols = torch.randint(0, 2, (n_streams, length), generator=g)
    target = torch.cat([symbols[:, :1], symbols[:, :-1]], 1)
    scored = torch.ones_like(symbols)
    scored[:, 0] = 0
    return _one_hot(symbols.tolist(), 2), torch.stack([target, scored], -1)


@pytest.mark.parametrize("model_class", [SRN, LSTMNet])
def test_a_task_that_needs_memory_is_learnt(model_class):
    """Predicting the previous symbol is at chance (50%) without memory; a recurrent net learns it."""
    train, test = _previous_symbol_task(16, 24, seed=0), _previous_symbol_task(16, 24, seed=1)
    run = train_counter("memory", lambda: model_class(2, 4), train, test, epochs=150, lr=0.05, stop_when_perfect=True)
    assert run.result.accuracy > 0.95, f"{model_class.__name__}: {run.result.accuracy:.2f} of previous symbols right"


def test_train_counter_returns_a_run_with_snapshots_of_the_probe():
    x, y = stream_batch("anb2n", 4, 20, (1, 3), seed=0)
    probe = make_stream("anb2n", [1, 2])
    run = train_counter("SRN", lambda: SRN(2), (x, y), (x, y), epochs=5, lr=0.01, probe=probe, frames_at=[0, 2])
    assert run.name == "SRN" and run.epochs == 5 and run.info["epochs_to_all_predictable"] in (None, *range(1, 6))
    assert sorted(run["snapshots"]) == [0, 2, 5] and len(run["snapshots"][5]) == len(probe) - 1
    assert run.result.accuracy == pytest.approx(run.history.last("test_acc"))
    assert len(plot_state_snapshots(run["snapshots"], panels=2).axes) == 2
    assert len(plot_state_snapshots(run["snapshots"]).axes) == 3


def _frame(stream, **columns):
    """A run_stream-like frame of a stream (its last symbol left out), with the given state columns."""
    frame = pd.DataFrame({"symbol": list(stream.text[:-1]), "label": stream.labels()[:-1], "n": stream.n[:-1]})
    frame["block"] = stream.block[:-1]
    for name, values in columns.items():
        frame[name] = np.asarray(values, dtype=float)[:-1]
    return frame


def test_block_steps_reads_a_counters_step_per_symbol():
    stream = make_stream("anb2nc3n", [1, 3, 2])
    step = {"a": 1.0, "b": -0.5, "c": 0.0}
    counter = np.cumsum([step[s] for s in stream.text])
    flag = (stream.block == 2).astype(float)  # 0 during the a's and b's, 1 during the c's: no step inside a block
    steps = block_steps(_frame(stream, cell1=counter, cell2=flag), ["cell1", "cell2"])
    assert steps.columns.tolist() == ["per a", "per b", "per c"]
    assert steps.loc["cell1"].tolist() == [1.0, -0.5, 0.0]
    assert steps.loc["cell2"].tolist() == [0.0, 0.0, 0.0], "the steps into a new block are left out"


def test_count_reading_finds_the_unit_that_separates_the_blocks_and_the_a_steps():
    stream = make_stream("anb2n", [1, 2, 3])
    side = np.where(stream.block == 0, -0.9, 0.8)  # hidden2: which block
    count = np.where(stream.block == 0, 1 - 0.5**stream.count, -0.1 * stream.n)  # hidden1: shrinking steps
    reading = count_reading(_frame(stream, hidden1=count, hidden2=side))
    assert reading["unit"] == "hidden2" and reading["means"] == pytest.approx((-0.9, 0.8))
    assert reading["a_steps"] == pytest.approx([0.25, 0.125])
    assert reading["first_b"].to_dict() == pytest.approx({1: -0.1, 2: -0.2, 3: -0.3})


def test_missed_symbols_counts_the_wrong_predictable_symbols_and_the_next_a():
    table = pd.DataFrame(
        {"n": [1, 5], "b's right": ["1/1", "7/9"], "c's right": ["3/3", "15/15"], "next a right": [True, False]}
    ).set_index("n")
    missed = missed_symbols(table)
    assert missed["missed"].tolist() == [0, 3] and missed["predictable"].tolist() == [5, 25]


def test_predictable_shares_splits_at_the_training_range():
    from nnutils.recurrent import predictable_shares

    table = pd.DataFrame(
        {
            "n": [1, 5, 6],
            "in training range": [True, False, False],
            "b's right": ["1/1", "7/9", "11/11"],
            "next a right": [False, True, True],
        }
    ).set_index("n")
    shares = predictable_shares(table)
    assert shares["in training range"] == pytest.approx(1 / 2)  # b1 right, next a wrong
    assert shares["beyond it"] == pytest.approx(1 - 2 / 22)
    assert np.isnan(predictable_shares(table.iloc[:1])["beyond it"])
