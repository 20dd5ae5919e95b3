# Copyright (c) mmw2s contributors. All rights reserved.
"""Performance gap recovered (Burns et al., 2023)."""


def performance_gap_recovered(student_acc: float, weak_acc: float,
                              ceiling_acc: float) -> float:
    """PGR = (acc_student - acc_weak) / (acc_ceiling - acc_weak).

    1 means the student reached the strong ceiling, 0 that it only matched
    its weak supervisor; it can be negative or above 1.

    Args:
        student_acc (float): Accuracy of the weakly supervised student.
        weak_acc (float): Accuracy of the weak supervisor.
        ceiling_acc (float): Accuracy of the strong model trained on ground
            truth.

    Returns:
        float: The performance gap recovered.
    """
    gap = ceiling_acc - weak_acc
    if gap == 0:
        raise ValueError(
            f'PGR is undefined when the ceiling accuracy ({ceiling_acc}) '
            f'equals the weak accuracy ({weak_acc}).')
    return (student_acc - weak_acc) / gap
