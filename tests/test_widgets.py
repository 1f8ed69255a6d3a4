"""Each live view driven without a browser: set its controls, click its buttons, check that its picture changes."""

import ipywidgets as widgets
import numpy as np
import pytest
import torch

from nnutils import autoencoders as ae
from nnutils import convnets as cn
from nnutils import encoders as enc
from nnutils import recurrent as rnn
from nnutils import spirals as sp
from nnutils.widgets import (
    code_explorer,
    confusion_explorer,
    encoder_snapshots,
    feature_map_viewer,
    find_widget,
    snapshot_slider,
    spirals_playground,
    state_snapshots,
)

PNG = b"\x89PNG"


def picture(view):
    """The PNG the view shows now (checked to be one)."""
    value = bytes(find_widget(view, widgets.Image).value)
    assert value.startswith(PNG), "the view should show a PNG"
    return value


def text(view):
    return " ".join(w.value for w in find_widget_all(view, widgets.HTML))


def find_widget_all(view, kind):
    from nnutils.widgets.render import walk

    return [w for w in walk(view) if isinstance(w, kind)]


def test_confusion_explorer_shows_the_images_of_the_chosen_cell():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 0])
    predictions = torch.tensor([0, 1, 1, 1, 2, 0, 2, 1])
    images = torch.rand(len(labels), 1, 6, 6)
    confusion = np.zeros((3, 3), dtype=int)
    np.add.at(confusion, (labels.numpy(), predictions.numpy()), 1)
    view = confusion_explorer(confusion, ["a", "b", "c"], images, labels, predictions)
    caption = find_widget_all(view, widgets.HTML)[-1]
    assert "<b>a</b> taken for b: 2 in the matrix, 2 among these images" in caption.value  # the largest mistake
    buttons = find_widget_all(view, widgets.Button)
    assert [b.description for b in buttons] == [str(n) for n in confusion.ravel()]
    before = picture(view)
    buttons[3 * 2 + 2].click()  # true c, predicted c
    assert "<b>c</b> read right: 2 in the matrix" in caption.value
    assert picture(view) != before
    buttons[3 * 1 + 0].click()  # an empty cell
    assert "0 among these images" in caption.value
    with pytest.raises(ValueError, match="3 x 3"):
        confusion_explorer(confusion[:2], ["a", "b", "c"], images, labels, predictions)


def test_spirals_playground_trains_and_restarts():
    x, y = sp.two_spirals(n_per_spiral=12)
    view = spirals_playground((x, y), hidden=2, epochs_per_click=50, redraw_every=25, resolution=12)
    status = find_widget_all(view, widgets.HTML)[0]
    assert "RawNet 2-2-2-1 (tanh, seed 0): epoch 0" in status.value
    untrained = picture(view)
    train = find_widget(view, widgets.Button, "Train")
    train.click()
    assert "epoch 50," in status.value
    trained = picture(view)
    assert trained != untrained
    find_widget(view, widgets.IntSlider, "hidden units").value = 3
    assert "RawNet 2-3-3-1 (tanh, seed 0): epoch 0" in status.value
    find_widget(view, widgets.ToggleButtons).value = "PolarNet"
    find_widget(view, widgets.Dropdown, "activation").value = "relu"
    assert "PolarNet 2-3-1 (relu, seed 0): epoch 0" in status.value
    find_widget(view, widgets.Button, "New weights").click()
    assert "seed 1" in status.value
    find_widget(view, widgets.FloatLogSlider, "learning rate").value = 0.05
    train.click()
    train.click()
    assert "epoch 100," in status.value and picture(view) != trained


def encoder_run(epochs=20):
    return enc.train_encoder(enc.encoder_targets("identity"), epochs, 0.05, [0, 5, epochs], name="9-2-9")


def test_encoder_snapshots_step_through_epochs_and_runs():
    runs = {"9-2-9": encoder_run(20), "short": encoder_run(10)}
    view = encoder_snapshots(runs)
    slider = find_widget(view, widgets.SelectionSlider)
    assert list(slider.options) == [0, 5, 20]
    first = picture(view)
    slider.value = 20
    last = picture(view)
    assert last != first
    find_widget(view, widgets.Dropdown).value = "short"
    assert list(slider.options) == [0, 5, 10] and find_widget(view, widgets.Play).max == 2
    assert picture(view) != last


def test_state_snapshots_step_through_the_srn_training():
    x, y = rnn.stream_batch("anb2n", 4, 20, (1, 3), seed=0)
    probe = rnn.make_stream("anb2n", [1, 2])
    run = rnn.train_counter("SRN", lambda: rnn.SRN(vocab=2, hidden=2), (x, y), (x, y), epochs=10, lr=0.05,
                            probe=probe, frames_at=[0, 5])  # fmt: skip
    view = state_snapshots(run["snapshots"])
    slider = find_widget(view, widgets.SelectionSlider)
    assert list(slider.options) == [0, 5, 10]
    assert not find_widget_all(view, widgets.Dropdown), "one run needs no run chooser"
    first = picture(view)
    slider.value = 10
    assert picture(view) != first


def test_a_broken_draw_fails_the_slider():
    def draw(frame, ax, title):
        if frame == "bad":
            raise RuntimeError("broken callback")
        ax.plot([0, frame])

    view = snapshot_slider({"run": {0: 1, 1: "bad"}}, draw)
    with pytest.raises(RuntimeError, match="broken callback"):
        find_widget(view, widgets.SelectionSlider).value = 1
    with pytest.raises(ValueError, match="at least one snapshot"):
        snapshot_slider({"run": {}}, draw)


def test_feature_map_viewer_follows_model_image_and_layer():
    torch.manual_seed(0)
    models = {"small": cn.SmallCNN(3), "lenet": cn.LeNet5()}
    images = torch.rand(3, 1, 28, 28)
    view = feature_map_viewer(models, {"small": images, "lenet": 2 * images - 1}, labels=torch.tensor([4, 1, 7]))
    layer = find_widget(view, widgets.Dropdown, "layer")
    assert layer.options[0] == "first-layer filters" and layer.value == layer.options[1]
    caption = find_widget_all(view, widgets.HTML)[0]
    shown = picture(view)
    find_widget(view, widgets.IntSlider, "image").value = 2
    assert "image 2 (a 7)" in caption.value and picture(view) != shown
    shown = picture(view)
    layer.value = "first-layer filters"
    assert picture(view) != shown
    find_widget(view, widgets.Dropdown, "model").value = "lenet"
    assert "relu2" in layer.options and layer.value == "first-layer filters"
    layer.value = "pool2"
    assert "pool2 of lenet" in caption.value
    with pytest.raises(ValueError, match="No images for"):
        feature_map_viewer(models, {"small": images})


def test_code_explorer_edits_one_code_unit():
    torch.manual_seed(0)
    model = ae.DenseAutoencoder(code_size=4)
    images = torch.rand(5, 1, 28, 28)
    codes = ae.encode(model, images)
    view = code_explorer(model, images)
    value, unit = find_widget(view, widgets.FloatSlider), find_widget(view, widgets.IntSlider, "code unit")
    assert value.value == pytest.approx(float(codes[0, 0]), abs=value.step)
    shown = picture(view)
    value.value = value.max
    assert picture(view) != shown and f"set to {value.max:.2f}" in text(view)
    unit.value = 2
    assert value.value == pytest.approx(float(codes[0, 2]), abs=value.step), "a new unit starts at its own value"
    find_widget(view, widgets.IntSlider, "image").value = 4
    assert value.value == pytest.approx(float(codes[4, 2]), abs=value.step)
    value.value = value.max
    find_widget(view, widgets.Button, "Its own code").click()
    assert value.value == pytest.approx(float(codes[4, 2]), abs=value.step)


def test_feature_map_viewer_draws_once_per_change(monkeypatch):
    import nnutils.widgets.feature_maps as viewer

    drawn = []
    monkeypatch.setattr(viewer, "png", lambda fig, dpi=72: drawn.append(fig) or PNG)
    view = feature_map_viewer({"small": cn.SmallCNN(3), "lenet": cn.LeNet5()}, torch.rand(2, 1, 28, 28))
    assert len(drawn) == 1
    find_widget(view, widgets.Dropdown, "model").value = "lenet"
    assert len(drawn) == 2, "a new model should redraw once"
    find_widget(view, widgets.IntSlider, "image").value = 1
    assert len(drawn) == 3
