"""Every exercise check, given the student edition's ``...`` (or a function whose body is ``...``), says "not answered
yet" instead of raising or calling it wrong."""

import importlib
import inspect
import math
import pkgutil

import pytest
from torch import nn

import nnutils.exercises as core


def blank_function(*args):
    """A student's function whose body is still ``...``."""
    ...


# Each chapter check's arguments besides the answer; a new check must be added here (the last test says so).
OTHER_ARGUMENTS = {
    "check_netconv_parameters": {},
    "check_accuracy_from_confusion": {},
    "check_rawnet_parameters": {"hidden": 12},
    "check_polar_switch_radius": {"w_radius": 0.5, "w_angle": -1.0, "bias": 0.2, "angle": math.pi / 2},
    "check_lstm_parameters": {},
    "check_srn_step": {},
    "check_dense_backward": {},
    "check_numerical_gradient": {},
    "check_cnn_b_parameters": {},
    "check_output_size": {},
    "check_lenet_parameters": {},
    "check_autoencoder_parameters": {},
    "check_pca_reconstruction": {},
}
FUNCTION_CHECKS = {
    "check_accuracy_from_confusion",
    "check_srn_step",
    "check_dense_backward",
    "check_numerical_gradient",
    "check_output_size",
    "check_pca_reconstruction",
}


def chapter_checks():
    """Every ``check_*`` function of the chapters' exercise modules, by name."""
    found = {}
    for info in pkgutil.iter_modules(core.__path__):
        module = importlib.import_module(f"nnutils.exercises.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("check_") and fn.__module__ == module.__name__:
                found[name] = fn
    return found


CHECKS = chapter_checks()


def assert_not_answered(feedback):
    assert isinstance(feedback, core.Feedback)
    assert not feedback and feedback.answered is False
    assert core.NOT_ANSWERED in feedback.message and "..." in feedback.message


@pytest.mark.parametrize("name", sorted(OTHER_ARGUMENTS))
def test_ellipsis_is_not_answered_yet(name):
    assert_not_answered(CHECKS[name](..., **OTHER_ARGUMENTS[name]))


@pytest.mark.parametrize("name", sorted(FUNCTION_CHECKS))
def test_a_function_whose_body_is_ellipsis_is_not_answered_yet(name):
    feedback = CHECKS[name](blank_function)
    assert_not_answered(feedback)
    assert "returns None" in feedback.message


def test_the_plus_design_with_its_four_blanks_is_not_answered_yet():
    assert_not_answered(CHECKS["check_plus_design"](..., ..., ..., ...))
    assert_not_answered(CHECKS["check_plus_design"]([[1, 0]], [0.0], [1.0], ...))


def test_the_core_checks_say_not_answered_yet():
    assert_not_answered(core.check_value(..., 3))
    assert_not_answered(core.check_value((..., ...), (1, 2)))
    assert_not_answered(core.check_function(..., abs, [(1,)]))
    assert_not_answered(core.check_function(blank_function, abs, [(1,)]))
    assert_not_answered(core.check_parameter_count(..., nn.Linear(2, 1)))


def test_an_answer_is_answered():
    assert core.check_value(3, 3).answered and core.check_value(4, 3).answered
    assert core.check_function(lambda x: -x, abs, [(1,)]).answered


def test_every_check_is_covered():
    assert set(CHECKS) == set(OTHER_ARGUMENTS) | {"check_plus_design"}, "add the new check to OTHER_ARGUMENTS"
    assert FUNCTION_CHECKS <= set(CHECKS)
