"""`rmdm bench TASK FILE...`: every way of solving, and the exact solver, in one run."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.commands.options import Budget, Device, DeviceChoice, Weights, console
from rmdm_cli.devices import use_threads
from rmdm_cli.display import Progress, print_rows
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SEARCH_BUDGET, SamplerSettings, SearchSettings, Settings
from rmdm_cli.tasks import Task, get_task


def make_bench(task_name: str):
    def bench(
        files: Annotated[list[Path], typer.Argument(help="Puzzle files.", exists=True, dir_okay=False)],
        limit: Annotated[int | None, typer.Option(min=1, help="Only the first N puzzles of each file.")] = None,
        # The adaptive row's settings: named apart from solve's flags, whose defaults differ.
        adaptive_threshold: Annotated[
            float | None,
            typer.Option(
                min=0.0, max=1.0, help="The adaptive row's confidence threshold (default: the weights', else 0.99)."
            ),
        ] = None,
        adaptive_steps: Annotated[
            int | None,
            typer.Option(min=1, help="The adaptive row's most steps (default: the weights' steps)."),
        ] = None,
        adaptive_recursion: Annotated[
            bool | None,
            typer.Option(
                help="Whether the adaptive row stops recursing once predictions settle (default: as the weights store)."
            ),
        ] = None,
        adaptive_give_up: Annotated[
            bool, typer.Option(help="Whether the adaptive row stops a puzzle whose commits break a rule.")
        ] = True,
        retries: Annotated[int, typer.Option(min=0, help="Verified retries for the retry row (0: no such row).")] = 8,
        budget: Budget = SEARCH_BUDGET,
        device: Device = DeviceChoice.auto,
        weights: Weights = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
        threads: Annotated[int, typer.Option(min=1, help="CPU threads for the model.")] = 1,
    ) -> None:

        run_bench(
            task_name,
            files,
            limit,
            device.value,
            weights,
            adaptive_threshold,
            adaptive_steps,
            adaptive_recursion,
            adaptive_give_up,
            retries,
            as_json,
            console,
            budget,
            threads,
        )

    bench.__doc__ = (
        f"Solved %, mean forward passes and puzzles/s on {task_name} files for the weights' fixed settings, "
        "adaptive settings, adaptive with verified retries, verified search guided by the model and by the rules "
        "alone, and the exact solver, in one run."
    )
    return bench


def run_bench(
    task_name,
    files: list[Path],
    limit,
    device,
    weights,
    threshold: float | None,
    adaptive_steps: int | None,
    adaptive_depth: bool | None,
    give_up: bool,
    retries: int,
    as_json: bool,
    console: Console,
    search_budget: int,
    threads: int,
) -> None:
    """Shipped fixed defaults, adaptive settings, adaptive with retries, verified search guided
    by the model and by the rules alone, and the exact solver, measured in one run so their
    ratios hold on a noisy machine."""
    from rmdm_cli.solving import measure  # NumPy: imported only when measuring

    task = get_task(task_name)
    model, header = load_model(task_name, weights, device)
    use_threads(threads)
    stored = header["defaults"]
    fixed = SamplerSettings(fixed=True).with_defaults(stored)
    threshold = stored.get("threshold", 0.99) if threshold is None else threshold
    adaptive_depth = stored.get("adaptive_depth", False) if adaptive_depth is None else adaptive_depth
    adaptive = replace(
        fixed, steps=adaptive_steps or fixed.steps, threshold=threshold, adaptive_depth=adaptive_depth, give_up=give_up
    )
    depth = f"adaptive depth ≤ {fixed.depth}" if adaptive_depth else f"depth {fixed.depth}"
    ways: list[tuple[str, Settings]] = [
        (f"fixed: depth {fixed.depth}, steps {fixed.steps}", fixed),
        (
            f"adaptive: threshold {threshold}, steps ≤ {adaptive.steps}, {depth}{', give up' if give_up else ''}",
            adaptive,
        ),
    ]
    if retries:
        ways.append((f"adaptive + {retries} verified retries", replace(adaptive, retries=retries)))
    searched = SearchSettings(budget=search_budget).with_defaults(stored)
    ways += [
        (f"search, model-guided: depth {searched.depth}", searched),
        ("search, rules alone (uniform predictions)", replace(searched, uniform=True)),
    ]
    rows = []

    def add(row: dict) -> None:
        rows.append(row)
        if as_json:  # streamed as measured
            print_rows([row], "", True)

    for path in files:
        puzzles = read_puzzle_file(task, path, limit, console)
        for name, settings in ways:
            with Progress(console, f"{path.name} · {name.split(':')[0]}", len(puzzles), logged=True) as progress:
                add(
                    {
                        "set": path.name,
                        "puzzles": len(puzzles),
                        "settings": name,
                        "mean_nodes": None,
                        **measure(model, task, puzzles, settings, on_done=progress.update),
                    }
                )
        add(exact_solver_row(task, path.name, puzzles, console))
    if not as_json:
        print_rows(rows, f"{task_name} · {model.parameter_count():,} parameters · {threads} threads", False)


def exact_solver_row(task: Task, name: str, puzzles: list, console: Console) -> dict:
    """The task's exact solver on the puzzles, as a row of `rmdm bench`."""
    started = time.perf_counter()
    solved, nodes = 0, [0]
    with Progress(console, f"{name} · exact solver", len(puzzles), logged=True) as progress:
        for done, puzzle in enumerate(puzzles, 1):
            solved += task.check(puzzle, task.exact_answer(puzzle, nodes) or "")
            progress.update(done)
    seconds = time.perf_counter() - started
    return {
        "set": name,
        "puzzles": len(puzzles),
        "settings": "exact solver (no model)",
        "mean_nodes": round(nodes[0] / max(1, len(puzzles)), 1),
        "solved_pct": round(100 * solved / max(1, len(puzzles)), 2),
        "mean_forward_passes": None,
        "median_forward_passes": None,
        "puzzles_per_s": round(len(puzzles) / seconds, 2),
    }
