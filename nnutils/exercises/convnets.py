"""Exercise checks for chapter 4 (MLP vs CNN): a convolution's output size, LeNet-5's parameter count."""

from __future__ import annotations

from collections.abc import Callable

from nnutils.exercises import Feedback, check_function, check_parameter_count


def reference_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Side of the output of a convolution or pooling on a square input: (size + 2 padding - kernel) // stride + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def check_output_size(fn: Callable[..., int]) -> Feedback:
    """Does ``fn(size, kernel, stride, padding)`` give the output side of a convolution?"""
    cases = [(28, 5, 1, 0), (24, 2, 2, 0), (28, 3, 1, 1), (28, 4, 1, 1), (13, 2, 2, 0), (28, 24, 1, 0)]
    hint = (
        "Count the positions where the kernel fits: the padded input has size + 2 x padding pixels, the kernel "
        "takes kernel of them, and it moves stride pixels at a time (round down)."
    )
    return check_function(fn, reference_output_size, cases, name="your output-size function", hint=hint)


def check_lenet_parameters(answer: int) -> Feedback:
    """Is ``answer`` the number of LeNet-5's parameters?"""
    hint = (
        "Convolutions: 6 filters of 1 x 5 x 5, then 16 of 6 x 5 x 5, each with a bias; dense layers 256 -> 120 "
        "-> 84 -> 10 with biases (256 = 16 maps of 4 x 4). Pooling and dropout have no parameters."
    )
    from nnutils.convnets import LeNet5

    return check_parameter_count(answer, LeNet5(), hint=hint)
