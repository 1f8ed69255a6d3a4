"""The torch-free run record: History columns, put, best, Run, and the callback caller."""

import math
import subprocess
import sys

import pytest

from nnutils.history import EvalResult, History, Run, call_callbacks


def test_append_backfills_and_put_sets_the_latest_row():
    h = History()
    h.append(epoch=1, train_loss=2.0)
    h.append(epoch=2, train_loss=1.0, val_acc=0.5)
    h.put("lr", 0.1)
    assert len(h) == 2 and h.epoch == [1, 2]
    assert math.isnan(h.val_acc[0]) and h.val_acc[1] == 0.5
    assert math.isnan(h.lr[0]) and h.last("lr") == 0.1
    assert "val_acc" in h and "test_acc" not in h
    with pytest.raises(ValueError, match="no row yet"):
        History().put("x", 1)


def test_best_finds_the_best_measured_epoch():
    h = History()
    for epoch, acc in enumerate([0.2, float("nan"), 0.9, 0.7], 1):
        h.append(epoch=epoch, val_acc=acc, val_loss=1 - acc)
    assert h.best("val_acc") == (3, 0.9)
    assert h.best("val_loss", mode="min") == (3, pytest.approx(0.1))
    h.append(epoch=5)
    with pytest.raises(ValueError, match="no measured value"):
        History(["x"]).best("x")


def test_run_exposes_info_and_timing():
    h = History()
    h.append(epoch=1, seconds=2.0)
    h.append(epoch=2, seconds=4.0)
    run = Run("net", None, h, EvalResult(0.1, 0.9), 6.5, {"solved": True})
    assert run.epochs == 2 and run.seconds_per_epoch == 3.0 and run["solved"] and run["epochs"] == 2
    with pytest.raises(KeyError, match="no 'missing'"):
        _ = run["missing"]


def test_call_callbacks_calls_hooks_and_plain_functions():
    seen = []

    class Cb:
        def on_epoch_end(self, loop):
            seen.append(("obj", loop))

    call_callbacks([Cb(), lambda loop: seen.append(("fn", loop))], "on_epoch_end", "L")
    call_callbacks([Cb(), lambda loop: seen.append(("fn", loop))], "on_train_begin", "L")
    assert seen == [("obj", "L"), ("fn", "L")]


def test_history_imports_without_torch():
    code = "import sys; sys.modules['torch'] = None; from nnutils.history import History; History().append(epoch=1)"
    subprocess.run([sys.executable, "-c", code], check=True)
