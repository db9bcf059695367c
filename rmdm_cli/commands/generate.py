"""`rmdm generate TASK`: puzzles from the project's generator, one a line."""

from __future__ import annotations

from typing import Annotated

import typer

from rmdm_cli.commands.options import with_task_options
from rmdm_cli.errors import UsageError
from rmdm_cli.tasks import get_task_class


def make_generate(task_name: str):
    def generate(
        count: Annotated[int, typer.Option(min=1, help="Puzzles to generate.")] = 100,
        seed: Annotated[int, typer.Option(help="Generator seed (training data uses streams of its own).")] = 1,
        **options,
    ) -> None:
        task = get_task_class(task_name)()
        try:
            settings = task.GenerateOptions(**options)
        except ValueError as error:
            raise UsageError(str(error)) from None
        for puzzle in task.generate(count, seed, settings):
            print(puzzle, flush=True)

    generate.__doc__ = f"Print {task_name} puzzles from the project's generator, one a line (held out from training)."
    return with_task_options(generate, get_task_class(task_name).GenerateOptions)
