"""`rmdm solve TASK`: answers on stdout in input order, everything else on stderr."""

from __future__ import annotations

import itertools
import json
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

from rmdm_cli.checkpoint import default_weights, load_model
from rmdm_cli.commands.options import (
    AdaptiveDepth,
    Budget,
    Depth,
    Device,
    DeviceChoice,
    Fixed,
    Format,
    FormatChoice,
    GiveUp,
    Live,
    Retries,
    Search,
    Seed,
    Sources,
    Steps,
    Threads,
    Threshold,
    Weights,
    console,
    with_task_options,
)
from rmdm_cli.devices import use_threads
from rmdm_cli.display import LiveView, Progress
from rmdm_cli.errors import UsageError
from rmdm_cli.inputs import count_puzzles, open_sources
from rmdm_cli.settings import SEARCH_BUDGET, SamplerSettings, SearchSettings, Settings
from rmdm_cli.tasks import PuzzleError, Task, get_task_class


def make_solve(task_name: str):
    def solve(
        sources: Sources = None,
        depth: Depth = None,
        steps: Steps = None,
        device: Device = DeviceChoice.auto,
        seed: Seed = None,
        weights: Weights = None,
        output_format: Format = FormatChoice.text,
        live: Live = None,
        threshold: Threshold = None,
        adaptive_depth: AdaptiveDepth = False,
        fixed: Fixed = False,
        give_up: GiveUp = False,
        retries: Retries = 0,
        search: Search = True,
        budget: Budget = None,
        batch_size: Annotated[int, typer.Option(min=1, help="Puzzles solved together.")] = 256,
        threads: Threads = None,
        **options,
    ) -> int:
        task = get_task_class(task_name)()
        solve_options = task.SolveOptions(**options)
        if (given := task.puzzle_from_options(solve_options, sources or [])) is not None:
            sources = given
        elif not sources and sys.stdin.isatty():
            raise UsageError(
                f"no puzzle given: pass a puzzle, a file, or pipe puzzles on stdin (see rmdm solve {task_name} --help)"
            )
        settings = solve_settings(
            search, depth, steps, threshold, adaptive_depth, fixed, give_up, retries, seed, budget
        )
        return run_solve(
            task,
            solve_options,
            sources or [],
            settings,
            weights,
            device.value,
            output_format.value,
            live,
            batch_size,
            threads,
            console,
        )

    solve.__doc__ = (
        f"Solve {task_name} puzzles with the model: answers to stdout in input order, one line a puzzle (an empty"
        " line for a puzzle not solved); exit 0 all solved, 1 some unsolved, 2 bad input.\n\n"
        f"{get_task_class(task_name).rules}\n\nDefault weights: {default_weights(task_name)}"
    )
    return with_task_options(solve, get_task_class(task_name).SolveOptions)


def solve_settings(search: bool, depth, steps, threshold, adaptive_depth, fixed, give_up, retries, seed, budget):
    """The search's or the sampler's settings from solve's options; every option given changes
    what happens, or is refused here."""
    if search:
        given = {
            "--threshold": threshold is not None,
            "--adaptive-depth": adaptive_depth,
            "--fixed": fixed,
            "--give-up": give_up,
            "--retries": retries > 0,
            "--seed": seed is not None,
        }
        if names := [name for name, passed in given.items() if passed]:
            raise UsageError(f"{', '.join(names)}: the sampler's options; add --no-search to run the sampler")
    elif budget is not None:
        raise UsageError("--budget bounds the search; it means nothing with --no-search")
    elif seed is not None and retries == 0:
        raise UsageError("--seed draws the commit orders of retries; without --retries it changes nothing")
    if search:
        return SearchSettings(depth, steps, budget or SEARCH_BUDGET)
    settings = {"threshold": threshold, "adaptive_depth": adaptive_depth, "fixed": fixed, "give_up": give_up}
    return SamplerSettings(depth, steps, retries=retries, seed=seed or 0, **settings)


FIRST_BATCH = 4  # batches grow from this size to --batch-size, so a piped file's first answers come at once


def parsed_batches(
    task: Task, records, batch_size: int, console: Console, bad: list[int]
) -> Iterator[list[tuple[int, object]]]:
    """Batches of (line number, puzzle) from (line number, text) records, doubling in size up to
    `batch_size`; bad lines are reported as met and counted in `bad`."""
    batch: list[tuple[int, object]] = []
    size = min(FIRST_BATCH, batch_size)
    for line_no, text in records:
        try:
            batch.append((line_no, task.parse(text)))
        except PuzzleError as error:
            console.print(f"[bold red]error:[/] line {line_no}: {error}", highlight=False)
            bad.append(line_no)
            continue
        if len(batch) == size:
            yield batch
            batch = []
            size = min(2 * size, batch_size)
    if batch:
        yield batch


@contextmanager
def interrupts_held():
    """Hold Ctrl-C until the block ends, then raise it."""
    received = []
    previous = signal.signal(signal.SIGINT, lambda *_: received.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def run_solve(
    task: Task,
    solve_options,
    sources: list[str],
    settings: Settings,
    weights,
    device,
    output_format,
    live,
    batch_size,
    threads: int,
    console: Console,
) -> int:
    from rmdm_cli.answers import diagnose
    from rmdm_cli.solving import solve_batch  # NumPy: imported only when solving

    started = time.perf_counter()
    bad: list[int] = []
    records = task.records(open_sources(sources))
    if (opening := next(records, None)) is not None:  # the first puzzle may call for a variant's rules
        task = task.playing(opening[1], solve_options)
        records = itertools.chain([opening], records)
    batches = parsed_batches(task, records, batch_size, console, bad)
    first = next(batches, [])
    if not first:  # every line bad, or none: said without loading a model
        if not bad:
            raise UsageError("no puzzles in the input")
        if len(bad) > 1:
            summarize(console, 0, 0, len(bad), started)
        return 2
    second = next(batches, None)
    single = len(first) == 1 and second is None
    if live and not single:
        raise UsageError("--live draws one puzzle; give just one")
    if live is None:
        live = single and sys.stdout.isatty() and console.is_terminal
    # One puzzle: importing torch would take longer than the solve, so the CPU runs the NumPy copy.
    model, header = load_model(task.name, weights, device, torch_free=single and threads is None)
    use_threads(threads or 1)
    settings = settings.with_defaults(header["defaults"])
    progress = Progress(console, "solving", count_puzzles(task, sources), shown=not single)
    total = unsolved = 0
    try:
        with progress:
            for batch in itertools.chain([first], [second] if second else [], batches):
                puzzles = [puzzle for _, puzzle in batch]
                if single and live:
                    with LiveView(console, task, puzzles[0], settings) as view:
                        answers = solve_batch(model, task, puzzles, settings, view.show_state, view.show_trace)
                        view.finish(answers[0])
                else:

                    def on_state(state, done=total + len(bad), size=len(batch)):
                        progress.update(done + size * state.step / settings.steps)

                    answers = solve_batch(model, task, puzzles, settings, on_state)
                lines = []
                for (line_no, puzzle), answer in zip(batch, answers):
                    failure = None if answer.solved else diagnose(task, puzzle, answer)
                    record = answer_record(task, line_no, puzzle, answer, failure, settings)
                    if failure:
                        unsolved += 1
                        console.print(f"line {line_no}: not solved: {failure.message}", highlight=False)
                    elif "remark" in record:
                        console.print(f"line {line_no}: {record['remark']}", highlight=False)
                    lines.append(json.dumps(record) if output_format == "jsonl" else record["answer"] or "")
                with interrupts_held():  # a batch is written and counted whole, or not at all
                    progress.write_stdout("".join(line + "\n" for line in lines))
                    total += len(batch)
                progress.update(total + len(bad), note=f"{total - unsolved} solved", force=True)
    except KeyboardInterrupt:  # what was finished is already printed and flushed
        console.print(f"interrupted after {total} puzzles", highlight=False)
        return 130
    if total + len(bad) > 1:
        summarize(console, total, unsolved, len(bad), started)
    if bad:
        return 2
    return 1 if unsolved else 0


def answer_record(task: Task, line_no: int, puzzle, answer, failure, settings: Settings) -> dict:
    """A puzzle's JSON line. `answer` is null unless the checker accepts it: an unsolved
    puzzle's last attempt goes in `last_attempt`, so nothing reads it as an answer."""
    record = {"line": line_no, "puzzle": task.format_puzzle(puzzle), "answer": answer.answer if answer.solved else None}
    record["solved"] = answer.solved
    if answer.solved and (remark := task.remark(puzzle, answer.answer)):
        record["remark"] = remark
    if failure:
        record.update(last_attempt=answer.answer, solvable=failure.reason != "no solution", reason=failure.reason)
        if failure.detail:
            record["broken_rule"] = failure.detail
    record.update(
        mode="search" if isinstance(settings, SearchSettings) else "sampler",
        depth=settings.depth,
        steps=settings.steps,
        forward_passes=answer.forward_passes,
        attempts=answer.attempts,
        seconds=round(answer.seconds, 4),
    )
    if isinstance(settings, SearchSettings):
        record.update(budget=settings.budget, nodes=answer.nodes, backtracks=answer.backtracks)
    else:
        record.update(
            threshold=settings.threshold,
            adaptive_depth=settings.adaptive_depth,
            give_up=settings.give_up,
            retries=settings.retries,
        )
    return record


def summarize(console: Console, total: int, unsolved: int, bad: int, started: float) -> None:
    def plural(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"

    console.print(
        f"{plural(total, 'puzzle')}: {total - unsolved} solved, {unsolved} not solved, "
        f"{plural(bad, 'bad line')} · {time.perf_counter() - started:.1f} s",
        highlight=False,
    )
