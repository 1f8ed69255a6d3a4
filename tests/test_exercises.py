"""The chapters' exercise checks: a right answer passes, a wrong one fails with a message that helps."""

import numpy as np

from nnutils.exercises import autoencoders, convnets, hidden_dynamics, kmnist


def test_kmnist_checks():
    assert kmnist.check_netconv_parameters(56_426)
    wrong = kmnist.check_netconv_parameters(56_000)
    assert not wrong and "too low" in wrong.message and "2,304" in wrong.message
    assert not kmnist.check_netconv_parameters(...)
    assert kmnist.check_accuracy_from_confusion(lambda c: np.trace(c) / np.sum(c))
    wrong = kmnist.check_accuracy_from_confusion(lambda c: np.trace(c) / len(c))
    assert not wrong and "diagonal" in wrong.message


def test_hidden_dynamics_checks():
    assert hidden_dynamics.check_lstm_parameters(108)
    assert "two bias vectors" in hidden_dynamics.check_lstm_parameters(96).message
    assert hidden_dynamics.check_srn_step(lambda x, h, w_in, w_rec, b: np.tanh(w_in @ x + w_rec @ h + b))
    forgot_context = hidden_dynamics.check_srn_step(lambda x, h, w_in, w_rec, b: np.tanh(w_in @ x + b))
    assert not forgot_context and "context" in forgot_context.message


def test_convnets_checks():
    assert convnets.check_output_size(lambda n, k, s=1, p=0: (n + 2 * p - k) // s + 1)
    no_padding = convnets.check_output_size(lambda n, k, s=1, p=0: (n - k) // s + 1)
    assert not no_padding and "test case 3" in no_padding.message
    assert convnets.check_lenet_parameters(44_426)
    assert "too high" in convnets.check_lenet_parameters(50_890).message


def test_autoencoder_checks():
    assert autoencoders.check_autoencoder_parameters((25_120, 25_872))
    swapped = autoencoders.check_autoencoder_parameters((25_872, 25_120))
    assert not swapped and "index (0,)" in swapped.message
    assert autoencoders.check_pca_reconstruction(lambda x, m, c: (x - m) @ c.T @ c + m)
    no_mean = autoencoders.check_pca_reconstruction(lambda x, m, c: x @ c.T @ c)
    assert not no_mean and "mean" in no_mean.message
    broken = autoencoders.check_pca_reconstruction(lambda x, m, c: 1 / 0)
    assert not broken and "ZeroDivisionError" in broken.message


def test_parameter_count_check_counts_modules_and_scratch_nets():
    from torch import nn

    from nnutils.exercises import check_parameter_count
    from nnutils.scratch import cnn

    layer = nn.Linear(3, 2)  # 6 weights + 2 biases
    assert check_parameter_count(8, layer) and not check_parameter_count(9, layer)
    assert "too high" in check_parameter_count(9, layer, hint="count the biases").message
    assert check_parameter_count((8, 4), layer, nn.Linear(1, 2))
    assert not check_parameter_count(8, layer, nn.Linear(1, 2))  # a single number where two are asked for
    scratch = cnn(2, 3, hidden=4)
    assert check_parameter_count(scratch.count_parameters(), scratch)
