"""`rmdm study train|report`: the scaling study's grid of cells, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rmdm_cli.commands.options import console, int_list
from rmdm_cli.errors import UsageError
from rmdm_cli.tasks import task_names

StudyDir = Annotated[Path, typer.Option("--dir", help="Where the study's weights live.")]


def study_train(
    task: Annotated[str, typer.Argument(help="A registered task's name.")],
    widths: Annotated[str, typer.Option(help="Widths, comma-separated.")] = "64,96,112,128",
    depths: Annotated[str, typer.Option(help="Trained recursion depths L, comma-separated.")] = "1,2,4,8",
    seeds: Annotated[str, typer.Option(help="Seeds, comma-separated.")] = "0,1,2",
    variants: Annotated[
        str, typer.Option(help="Cell variants, comma-separated: base, no-reinject (claim 3a), random-depth (claim 3c).")
    ] = "base",
    train_steps: Annotated[
        int,
        typer.Option(
            min=1,
            help="Optimizer steps per cell (too few leave every cell on the loss plateau: docs/scaling-study.md).",
        ),
    ] = 1500,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per step.")] = 64,
    threads: Annotated[int, typer.Option(min=0, help="CPU threads (0: torch's default).")] = 1,
    directory: StudyDir = Path("weights/study"),
) -> None:
    """Train the grid's cells that are not in --dir yet (rerun to continue after an interruption)."""
    from rmdm_cli.study import VARIANTS, grid, train_cells

    if task not in task_names():
        raise UsageError(f"unknown task {task!r} (choose from {', '.join(task_names())})")
    variant_names = tuple(name.strip() for name in variants.split(","))
    if unknown := [name for name in variant_names if name not in VARIANTS]:
        raise UsageError(f"--variants: unknown {', '.join(unknown)} (choose from {', '.join(VARIANTS)})")
    cells = grid(
        task,
        int_list(widths, "--widths"),
        int_list(depths, "--depths"),
        int_list(seeds, "--seeds", minimum=0),
        variant_names,
    )
    try:
        train_cells(
            cells, directory, train_steps, batch_size, threads, lambda text: console.print(text, highlight=False)
        )
    except KeyboardInterrupt:  # the cell in progress saved its state: the same command resumes it
        console.print("interrupted: rerun the same command to continue the study", highlight=False)
        raise


def study_report(
    count: Annotated[int, typer.Option(min=1, help="Held-out generated puzzles per task.")] = 100,
    directory: StudyDir = Path("weights/study"),
    docs: Annotated[Path, typer.Option(help="Where study.md and the figures go.")] = Path("docs"),
) -> None:
    """Solve the held-out sets with every cell at several steps and depths; write docs/study.md.
    Cells measured by an earlier report (its study-measurements.jsonl in --docs) keep their rows."""
    import json

    from rmdm_cli.study import measure_cells, write_report

    say = lambda text: console.print(text, highlight=False)  # noqa: E731
    earlier = docs / "study-measurements.jsonl"
    known = [json.loads(line) for line in earlier.read_text().splitlines()] if earlier.exists() else []
    measurements = {name: rows for name in task_names() if (rows := measure_cells(directory, name, count, say, known))}
    if not measurements:
        raise UsageError(f"{directory}: no study weights (run rmdm study train TASK first)")
    path = write_report(measurements, docs, f"rmdm study report --count {count}", count)
    console.print(f"wrote {path}", highlight=False)
