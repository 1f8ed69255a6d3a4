"""Recurrent nets that count: a^n b^2n (c^3n) streams, an Elman SRN and an LSTM, and how to read their states.

A stream is many strings of one language written back to back; the net reads one symbol at a time and
predicts the next. Only some next symbols are predictable: every b after the first, every c, and the
a that starts the next string; before the first b the net cannot know n.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from torch import nn

from .history import Run

# The languages and their streams live in nnutils.languages; the chapter reads them here too.
from .languages import (  # noqa: F401, E402
    LANGUAGES,
    Stream,
    alphabet,
    in_language,
    make_stream,
    make_string,
    predictable_correct,
    random_stream,
    sequence_loss,
    stream_batch,
)
from .metrics import first_epoch_at
from .models import device_of
from .training import Snapshots, StopAt, train_model


class SRN(nn.Module):
    """Elman simple recurrent net: one-hot symbol -> tanh hidden state (fed back) -> next-symbol logits."""

    def __init__(self, vocab: int, hidden: int = 2):
        super().__init__()
        self.rnn = nn.RNN(vocab, hidden, nonlinearity="tanh", batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    def states(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """The hidden state after every input: {'hidden': (B, T, H)}."""
        return {"hidden": self.rnn(x)[0]}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.rnn(x)[0])


class LSTMNet(nn.Module):
    """LSTM with a few units: one-hot symbol -> (hidden h, cell c) -> next-symbol logits from h."""

    def __init__(self, vocab: int, hidden: int = 3):
        super().__init__()
        self.lstm = nn.LSTM(vocab, hidden, batch_first=True)
        self.out = nn.Linear(hidden, vocab)

    @torch.no_grad()
    def states(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Hidden and cell state after every input: {'hidden': (B, T, H), 'cell': (B, T, H)}."""
        hs, cs, state = [], [], None
        for t in range(x.shape[1]):
            _, state = self.lstm(x[:, t : t + 1], state)
            hs.append(state[0][0])
            cs.append(state[1][0])
        return {"hidden": torch.stack(hs, 1), "cell": torch.stack(cs, 1)}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.lstm(x)[0])


def train_counter(
    name: str,
    build: Callable[[], nn.Module],
    train: tuple[torch.Tensor, torch.Tensor],
    test: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    lr: float,
    seed: int = 0,
    probe: Stream | None = None,
    frames_at: Sequence[int] = (),
    stop_when_perfect: bool = False,
) -> Run:
    """Seed, build and train a recurrent net on stream batches (full batch, Adam, next-symbol cross-entropy).

    ``train_acc`` / ``test_acc`` are the shares of predictable symbols predicted right; the test streams are watched
    only at the end. With a ``probe`` stream, ``run["snapshots"]`` holds ``run_stream`` of it at ``frames_at`` and
    after the last epoch; ``stop_when_perfect`` stops once every predictable training symbol is right.
    ``run["epochs_to_all_predictable"]`` is the first epoch with all of them right (None if never).
    """
    snaps = Snapshots(frames_at, lambda model: run_stream(model, probe)) if probe is not None else None
    callbacks = [cb for cb in (snaps, StopAt("train_acc", 1.0) if stop_when_perfect else None) if cb is not None]
    run = train_model(name, build, train, test=test, seed=seed, callbacks=callbacks, quiet=True, optimizer="adam",
                      lr=lr, loss=sequence_loss, metric=predictable_correct, batch_size=len(train[0]), epochs=epochs,
                      eval_every=0)  # fmt: skip
    run.info["epochs_to_all_predictable"] = first_epoch_at(run.history, "train_acc", 1.0)
    if snaps is not None:
        run.info["snapshots"] = {**snaps.frames, run.epochs: run_stream(run.model, probe)}
    return run


@torch.no_grad()
def run_stream(model: nn.Module, stream: Stream) -> pd.DataFrame:
    """Read a stream; one row per input position: symbol, state label, states, next-symbol probabilities."""
    model.eval()
    x = stream.tensors()[0].to(device_of(model))
    probs = torch.softmax(model(x), -1)[0].cpu().numpy()
    frame = pd.DataFrame({"symbol": list(stream.text[:-1]), "label": stream.labels()[:-1], "n": stream.n[:-1]})
    frame["block"] = stream.block[:-1]
    for name, values in model.states(x).items():
        for j in range(values.shape[-1]):
            frame[f"{name}{j + 1}"] = values[0, :, j].cpu().numpy()
    for j, symbol in enumerate(alphabet(stream.language)):
        frame[f"p({symbol})"] = probs[:, j]
    frame["next"] = list(stream.text[1:])
    frame["predicted"] = [alphabet(stream.language)[k] for k in probs.argmax(1)]
    frame["predictable"] = stream.predictable()
    return frame


def chance_accuracy(stream: Stream) -> float:
    """Accuracy on the predictable positions of the best history-free guess: the next symbol's most likely
    value given only the current symbol (a bigram model fitted on the stream itself)."""
    current, following, mask = np.array(list(stream.text[:-1])), np.array(list(stream.text[1:])), stream.predictable()
    right = 0
    for symbol in set(current[mask]):
        values, counts = np.unique(following[current == symbol], return_counts=True)
        right += int((following[mask & (current == symbol)] == values[counts.argmax()]).sum())
    return right / max(int(mask.sum()), 1)


def prediction_table(
    model: nn.Module, language: str, ns: Sequence[int], train_range: tuple[int, int], warmup: int = 1
) -> pd.DataFrame:
    """For each n: a string of n after a warm-up string, then the next a; which predictable symbols come out right."""
    rows = []
    for n in ns:
        frame = run_stream(model, make_stream(language, [warmup, n, 1]))
        start = len(make_string(language, warmup))
        part = frame.iloc[start : start + len(make_string(language, n))]
        part = part[part.predictable]
        right = part.next == part.predicted
        row = {"n": n, "in training range": train_range[0] <= n <= train_range[1]}
        for symbol in alphabet(language)[1:]:
            wanted = part.next == symbol
            row[f"{symbol}'s right"] = f"{int(right[wanted].sum())}/{int(wanted.sum())}"
        row["next a right"] = bool(right[part.next == "a"].all())
        row["all right"] = bool(right.all())
        rows.append(row)
    return pd.DataFrame(rows).set_index("n")


BLOCK_COLORS = ("tab:blue", "tab:red", "tab:green")


def plot_states(
    frame: pd.DataFrame, x: str, y: str, ax: plt.Axes | None = None, annotate: bool = True, title: str = ""
) -> plt.Axes:
    """The state trajectory in one 2-D plane, a dot per step coloured by block, labelled by its state name."""
    ax = ax or plt.subplots(figsize=(4.5, 4.5))[1]
    ax.plot(frame[x], frame[y], color="0.8", lw=0.8, zorder=1)
    for b, color in enumerate(BLOCK_COLORS[: frame.block.max() + 1]):
        part = frame[frame.block == b]
        ax.scatter(part[x], part[y], s=16, color=color, zorder=2, label=f"after reading {part.symbol.iloc[0]}")
    if annotate:
        for label, row in frame.groupby("label")[[x, y]].mean().iterrows():
            ax.annotate(label, (row[x], row[y]), xytext=(3, 3), textcoords="offset points", fontsize=7)
    ax.set(xlabel=x, ylabel=y, title=title)
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_states_3d(frame: pd.DataFrame, cols: Sequence[str], ax=None, title: str = ""):
    """The trajectory of three state components in 3-D, coloured by block."""
    ax = ax or plt.figure(figsize=(5, 5)).add_subplot(projection="3d")
    ax.plot(*(frame[c] for c in cols), color="0.8", lw=0.8)
    for b, color in enumerate(BLOCK_COLORS[: frame.block.max() + 1]):
        part = frame[frame.block == b]
        ax.scatter(*(part[c] for c in cols), s=12, color=color, label=f"after reading {part.symbol.iloc[0]}")
    ax.set(xlabel=cols[0], ylabel=cols[1], zlabel=cols[2], title=title)
    ax.legend(fontsize=7)
    return ax


def plot_series(
    frame: pd.DataFrame, columns: Sequence[str], ax: plt.Axes | None = None, ylabel: str = "", title: str = ""
) -> plt.Axes:
    """Columns of a run (states or probabilities) along the stream, with the input symbols on the x axis."""
    ax = ax or plt.subplots(figsize=(10, 3))[1]
    colors = plt.get_cmap("tab10")(np.arange(len(columns)))
    for column, color in zip(columns, colors):
        ax.plot(np.arange(len(frame)), frame[column], marker="o", ms=3, color=color, label=column)
    ax.set_xticks(np.arange(len(frame)), frame.symbol, fontsize=7)
    ax.set(xlabel="input symbol", ylabel=ylabel, title=title)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_probabilities(frame: pd.DataFrame, ax: plt.Axes | None = None, title: str = "") -> plt.Axes:
    """Predicted next-symbol probabilities along a stream; crosses mark predictable symbols it got wrong."""
    ax = plot_series(frame, [c for c in frame.columns if c.startswith("p(")], ax, "probability of next symbol", title)
    wrong = np.flatnonzero(frame.predictable & (frame.next != frame.predicted))
    ax.scatter(wrong, np.full(len(wrong), 1.05), marker="x", color="black", label="predictable, missed")
    ax.set_ylim(-0.05, 1.1)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def plot_state_snapshots(
    frames: Mapping[int, pd.DataFrame], panels: int = 5, x: str = "hidden1", y: str = "hidden2", size: float = 3.3
) -> plt.Figure:
    """State trajectories on the probe stream at a few epochs, evenly picked with the first and last kept."""
    epochs = sorted(frames)
    if panels < len(epochs):
        epochs = [epochs[i] for i in np.unique(np.linspace(0, len(epochs) - 1, panels).round().astype(int))]
    fig, axes = plt.subplots(1, len(epochs), figsize=(size * len(epochs), size + 0.1), squeeze=False)
    for ax, epoch in zip(axes[0], epochs):
        plot_states(frames[epoch], x, y, ax, annotate=False, title=f"epoch {epoch}")
        ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05))
    fig.tight_layout()
    return fig


def missed_symbols(table: pd.DataFrame) -> pd.DataFrame:
    """Per n of a ``prediction_table``: how many of its predictable symbols (the next a included) came out wrong."""
    counts = [table[c].str.split("/", expand=True).astype(int) for c in table.columns if c.endswith("'s right")]
    predictable = sum(c[1] for c in counts) + 1
    missed = sum(c[1] - c[0] for c in counts) + (~table["next a right"].astype(bool)).astype(int)
    return pd.DataFrame({"missed": missed, "predictable": predictable})


def block_steps(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The mean change of each state column per symbol read inside a block (a counter's step), one column per
    symbol; the step into a new block is left out."""
    inside = frame.block.to_numpy()[1:] == frame.block.to_numpy()[:-1]
    symbol = frame.symbol.to_numpy()[1:]
    rows = {}
    for col in columns:
        change = np.diff(frame[col].to_numpy())
        rows[col] = {f"per {s}": change[inside & (symbol == s)].mean() for s in dict.fromkeys(frame.symbol)}
    return pd.DataFrame(rows).T


def count_reading(frame: pd.DataFrame, x: str = "hidden1", y: str = "hidden2") -> dict:
    """What a 2-D state trajectory on a^n b^kn strings shows: ``unit``, the component whose mean differs most
    after an a and after a b (``means``: those two); ``a_steps``, the distances between successive a-states (by
    their mean position); ``first_b``, the other component after each string's first b, by n."""
    blocks = frame.groupby("block")[[x, y]].mean()
    unit = x if abs(blocks.loc[0, x] - blocks.loc[1, x]) >= abs(blocks.loc[0, y] - blocks.loc[1, y]) else y
    means = frame.groupby("label")[[x, y]].mean()
    a_states = means.loc[[f"a{k}" for k in range(1, frame[frame.block == 0].label.str[1:].astype(int).max() + 1)]]
    starts = frame[(frame.block == 1) & (frame.block.shift() != 1)]
    return {
        "unit": unit,
        "means": (float(blocks.loc[0, unit]), float(blocks.loc[1, unit])),
        "a_steps": np.linalg.norm(np.diff(a_states.to_numpy(), axis=0), axis=1).tolist(),
        "first_b": starts.set_index("n")[y if unit == x else x],
    }


def predictable_shares(table: pd.DataFrame) -> pd.Series:
    """Share of predictable symbols right in a ``prediction_table``, inside the training range and beyond it."""
    missed, inside = missed_symbols(table), table["in training range"].astype(bool)
    share = {}
    for name, rows in [("in training range", inside), ("beyond it", ~inside)]:
        part = missed[rows].sum()
        share[name] = 1 - part["missed"] / part["predictable"] if part["predictable"] else float("nan")
    return pd.Series(share)
