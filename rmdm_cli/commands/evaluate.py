"""`rmdm eval TASK FILE...`: solved % per file, depth and steps, the model alone and with search."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.commands.options import (
    AdaptiveDepth,
    Budget,
    Device,
    DeviceChoice,
    Fixed,
    GiveUp,
    Retries,
    Threshold,
    Weights,
    console,
    int_list,
)
from rmdm_cli.devices import use_threads
from rmdm_cli.display import Progress, print_rows
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SEARCH_BUDGET, SamplerSettings, SearchSettings
from rmdm_cli.tasks import get_task


def make_eval(task_name: str):
    def evaluate(
        files: Annotated[list[Path], typer.Argument(help="Puzzle files.", exists=True, dir_okay=False)],
        depth: Annotated[str | None, typer.Option(help="Depths, comma-separated (default: from the weights).")] = None,
        steps: Annotated[str | None, typer.Option(help="Steps, comma-separated (default: from the weights).")] = None,
        limit: Annotated[int | None, typer.Option(min=1, help="Only the first N puzzles of each file.")] = None,
        device: Device = DeviceChoice.auto,
        weights: Weights = None,
        threshold: Threshold = None,
        adaptive_depth: AdaptiveDepth = False,
        fixed: Fixed = False,
        give_up: GiveUp = False,
        retries: Retries = 0,
        with_search: Annotated[
            bool,
            typer.Option(
                "--search/--no-search",
                help="Also solve every puzzle with the verified search, its columns beside the model alone's"
                " (--no-search: the model alone).",
            ),
        ] = True,
        budget: Budget = SEARCH_BUDGET,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
        threads: Annotated[int, typer.Option(min=1, help="CPU threads for the model.")] = 1,
    ) -> None:
        from rmdm_cli.settings import SamplerSettings, SearchSettings

        depths = int_list(depth, "--depth") if depth else None
        steps_list = int_list(steps, "--steps") if steps else None
        run_eval(
            task_name,
            files,
            depths,
            steps_list,
            limit,
            device.value,
            weights,
            SamplerSettings(
                threshold=threshold,
                adaptive_depth=adaptive_depth,
                fixed=fixed,
                give_up=give_up,
                retries=retries,
            ),
            SearchSettings(budget=budget) if with_search else None,
            as_json,
            console,
            threads,
        )

    evaluate.__doc__ = (
        f"Solve every {task_name} puzzle of the files at each depth "
        "x steps; report solved %, forward passes and puzzles/s, the model alone and beside it with search."
    )
    return evaluate


def run_eval(
    task_name,
    files: list[Path],
    depths,
    steps_list,
    limit,
    device,
    weights,
    sampler: SamplerSettings,
    search: SearchSettings | None,
    as_json: bool,
    console: Console,
    threads: int,
) -> None:
    """Solved % per file x depth x steps for the model alone and, given `search` settings,
    with the verified search beside it (at the listed depths and steps where they are given,
    else at the search's own defaults)."""
    from rmdm_cli.solving import measure  # NumPy: imported only when measuring

    task = get_task(task_name)
    model, header = load_model(task_name, weights, device)
    use_threads(threads)
    sampler = sampler.with_defaults(header["defaults"])
    search = search and search.with_defaults(header["defaults"])
    given_depths, given_steps = bool(depths), bool(steps_list)
    depths = depths or [sampler.depth]
    steps_list = steps_list or [sampler.steps]
    rows = []
    for path in files:
        puzzles = read_puzzle_file(task, path, limit, console)
        for depth, steps in itertools.product(depths, steps_list):
            row = {
                "set": path.name,
                "puzzles": len(puzzles),
                "depth": depth,
                "steps": steps,
                "threshold": sampler.threshold,
                "adaptive_depth": sampler.adaptive_depth,
                "give_up": sampler.give_up,
                "retries": sampler.retries,
            }
            label = f"{path.name} · depth {depth} · steps {steps}"
            with Progress(console, label, len(puzzles), logged=True) as progress:
                row.update(
                    measure(model, task, puzzles, replace(sampler, depth=depth, steps=steps), on_done=progress.update)
                )
            if search:  # the same puzzles with verified search, side by side
                searched = replace(
                    search, depth=depth if given_depths else search.depth, steps=steps if given_steps else search.steps
                )
                row.update(search_depth=searched.depth, search_steps=searched.steps)
                label = f"{path.name} · depth {searched.depth} · search"
                with Progress(console, label, len(puzzles), logged=True) as progress:
                    measured = measure(model, task, puzzles, searched, on_done=progress.update)
                row.update({f"search_{key}": value for key, value in measured.items()})
            if as_json:
                print_rows([row], "", True)
            rows.append(row)
    if not as_json:
        print_rows(rows, f"{task_name} · {model.parameter_count():,} parameters", False)
