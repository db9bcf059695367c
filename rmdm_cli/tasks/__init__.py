"""Puzzle tasks by name. Task modules are imported on demand to keep start-up fast."""

from __future__ import annotations

from importlib import import_module

from rmdm_cli.tasks.base import PuzzleError, Task

# name -> "module:class", or the class itself for a task registered at run time
TASK_CLASSES: dict[str, str | type[Task]] = {
    "sudoku": "rmdm_cli.tasks.sudoku:Sudoku",
    "countdown": "rmdm_cli.tasks.countdown:Countdown",
    "countdown-game": "rmdm_cli.tasks.countdown_game:CountdownGame",
}


def task_names() -> tuple[str, ...]:
    return tuple(TASK_CLASSES)


def register_task(task_class: type[Task]) -> None:
    """Add a task under its `name`; commands made afterwards (cli.make_app) offer it."""
    TASK_CLASSES[task_class.name] = task_class


def get_task_class(name: str) -> type[Task]:
    if name not in TASK_CLASSES:
        raise ValueError(f"unknown task {name!r}")
    where = TASK_CLASSES[name]
    if not isinstance(where, str):
        return where
    module, _, attribute = where.partition(":")
    return getattr(import_module(module), attribute)


def get_task(name: str) -> Task:
    return get_task_class(name)()


__all__ = ["PuzzleError", "Task", "get_task", "get_task_class", "register_task", "task_names"]
