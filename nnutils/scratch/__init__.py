"""Neural networks from scratch in NumPy, without torch: layers whose backward sits beside their forward,
activations, losses, a sequential network with its own mini-batch SGD loop, and gradient checks (``gradcheck``,
which imports torch only for its comparison). Chapter 4a's experiments and figures are in ``nnutils.backprop``.

    from nnutils.scratch import mlp, fit
    net = mlp((784, 64, 10), act="sigmoid")
    history = fit(net, (x_train, y_train), (x_val, y_val), lr=0.5, lr_decay=0.97, l2=1e-4, epochs=10)
    history.val_acc[-1]
"""

from .activations import ACTIVATIONS, Identity, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh, make_activation
from .layers import Conv2D, Dense, Flatten, Layer, col2im, im2col, init_weights
from .losses import LOSSES, MeanSquaredError, SoftmaxCrossEntropy, make_loss, one_hot
from .network import Network, cnn, first_of, mlp
from .sgd import SGD, EarlyStopping, confusion_matrix, evaluate, fit

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Conv2D",
    "Dense",
    "EarlyStopping",
    "Flatten",
    "Identity",
    "Layer",
    "LeakyReLU",
    "MeanSquaredError",
    "Network",
    "ReLU",
    "SGD",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "cnn",
    "col2im",
    "confusion_matrix",
    "evaluate",
    "first_of",
    "fit",
    "im2col",
    "init_weights",
    "make_activation",
    "make_loss",
    "mlp",
    "one_hot",
]
