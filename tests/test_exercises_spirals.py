"""Chapter 2's exercise checkers: right answers pass, wrong ones fail with a message that helps."""

import math

import pytest

from nnutils.exercises.spirals import (
    check_plus_design,
    check_polar_switch_radius,
    check_rawnet_parameters,
    plus_task,
    polar_switch_radius,
)

PLUS_WEIGHTS = ([[1, 0], [1, 0], [0, 1], [0, 1]], [-0.5, -1.5, -0.5, -1.5], [1, -1, 1, -1], -0.5)


def test_rawnet_parameter_count():
    assert check_rawnet_parameters(205)  # 2*12+12 + 12*12+12 + 12+1
    assert check_rawnet_parameters(205 + 156, depth=3)
    wrong = check_rawnet_parameters(192)
    assert not wrong and "too low" in wrong.message and "biases" in wrong.message


def test_polar_switch_radius():
    assert polar_switch_radius(0.5, -1.0, 0.2, math.pi / 2) == pytest.approx((math.pi / 2 - 0.2) / 0.5)
    assert check_polar_switch_radius(2.7416, 0.5, -1.0, 0.2, math.pi / 2)
    wrong = check_polar_switch_radius(3.54, 0.5, -1.0, 0.2, math.pi / 2)
    assert not wrong and "solve for r" in wrong.message
    with pytest.raises(ValueError, match="radius"):
        polar_switch_radius(0.0, 1.0, 0.0, 1.0)


def test_plus_task_and_design():
    x, y = plus_task()
    assert int(y.sum()) == 5 and y[4].item() == 1 and y[0].item() == 0
    assert check_plus_design(*PLUS_WEIGHTS)
    wrong = check_plus_design(PLUS_WEIGHTS[0], PLUS_WEIGHTS[1], [1, 1, 1, 1], -0.5)
    assert not wrong and "of 9 points are right" in wrong.message
    shapes = check_plus_design([[1, 0]], [0.0, 1.0], [1.0], 0.0)
    assert not shapes and "Shapes" in shapes.message
