"""Puzzle tasks by name. Task modules are imported on demand to keep start-up fast."""

from __future__ import annotations

from importlib import import_module

from rmdm_cli.tasks.base import PuzzleError, Task

TASK_CLASSES = {"sudoku": "rmdm_cli.tasks.sudoku:Sudoku", "countdown": "rmdm_cli.tasks.countdown:Countdown"}
TASK_NAMES = tuple(TASK_CLASSES)


def get_task_class(name: str) -> type[Task]:
    if name not in TASK_CLASSES:
        raise ValueError(f"unknown task {name!r}")
    module, _, attribute = TASK_CLASSES[name].partition(":")
    return getattr(import_module(module), attribute)


def get_task(name: str) -> Task:
    return get_task_class(name)()


__all__ = ["PuzzleError", "Task", "TASK_NAMES", "get_task", "get_task_class"]
