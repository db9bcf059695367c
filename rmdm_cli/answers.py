"""What solving a puzzle gives back: the answer with its cost, and why an unsolved one failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rmdm_cli.tasks import Task


@dataclass
class Answer:
    answer: str  # decoded answer text
    tokens: list[int]  # the token row it was decoded from
    solved: bool  # decided by the task's exact checker
    forward_passes: int  # block-stack applications spent on this puzzle, all attempts
    seconds: float  # this puzzle's share of its batch's wall time, in proportion to its forward passes, all attempts
    attempts: int = 1  # 1 + retries used
    nodes: int = 0  # with search: commitments tried
    backtracks: int = 0  # with search: commitments undone after a dead end
    exhausted: bool = False  # with search: every possibility tried, so the puzzle has no solution


@dataclass(frozen=True)
class Failure:
    """Why a puzzle was not solved: "no solution" (the puzzle has none), "breaks a rule" (the
    model's answer does, though a solution exists) or "missed" (a solution exists; the answer
    breaks no rule the task can name)."""

    reason: str
    detail: str | None  # the first rule the answer breaks
    message: str  # one line for stderr


def diagnose(task: Task, puzzle: Any, answer: Answer) -> Failure:
    """The reason an answer the checker rejected is not a solution."""
    solvable = False if answer.exhausted else task.solvable(puzzle)
    if not solvable:
        return Failure("no solution", None, task.no_solution)
    detail = task.violation(puzzle, answer.answer)
    message = (
        f"a solution exists; the model's answer breaks a rule: {detail}"
        if detail
        else "a solution exists and the model missed it"
    )
    if beyond := task.beyond_training(puzzle):
        message += f"; {beyond}"
    return Failure("breaks a rule" if detail else "missed", detail, message)
