"""Puzzle tasks by name."""

from __future__ import annotations

from rmdm_cli.tasks.base import PuzzleError, Task

TASK_NAMES = ("sudoku", "countdown")


def get_task(name: str) -> Task:
    if name == "sudoku":
        from rmdm_cli.tasks.sudoku import Sudoku

        return Sudoku()
    if name == "countdown":
        from rmdm_cli.tasks.countdown import Countdown

        return Countdown()
    raise ValueError(f"unknown task {name!r}")


__all__ = ["PuzzleError", "Task", "TASK_NAMES", "get_task"]
