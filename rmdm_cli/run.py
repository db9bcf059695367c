"""What the commands do, kept apart from argument parsing in cli.py."""

from __future__ import annotations

import itertools
import json
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from rmdm_cli.answers import diagnose
from rmdm_cli.checkpoint import load_model
from rmdm_cli.display import LiveView, Progress, print_rows
from rmdm_cli.errors import UsageError
from rmdm_cli.inputs import count_puzzles, open_sources, read_puzzle_file
from rmdm_cli.settings import SamplerSettings, SearchSettings, Settings
from rmdm_cli.solving import measure, solve_batch
from rmdm_cli.tasks import PuzzleError, Task, get_task

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


def use_threads(threads: int) -> None:
    """Torch's CPU threads for this process (the NumPy model always runs on one)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def run_solve(
    task_name,
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
    task = get_task(task_name)
    started = time.perf_counter()
    bad: list[int] = []
    batches = parsed_batches(task, task.records(open_sources(sources)), batch_size, console, bad)
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
    model, header = load_model(task_name, weights, device, torch_free=single and threads is None)
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
                    if failure:
                        unsolved += 1
                        console.print(f"line {line_no}: not solved: {failure.message}", highlight=False)
                    record = answer_record(task, line_no, puzzle, answer, failure, settings)
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


def run_train(
    task_name,
    config,
    out: Path,
    state_path: Path,
    eval_count: int,
    console: Console,
    init_from: Path | None = None,
    device: str = "cpu",
    workers: int = 0,
    average_with_init: bool = False,
    force: bool = False,
) -> None:
    # argument errors: before the imports and the data
    if average_with_init and init_from is None:
        raise UsageError("--average-with-init needs --init-from: there are no starting weights to average with")
    if out.exists() and not force:
        raise UsageError(f"{out} exists: choose another --out, or pass --force to replace it")
    from rmdm_cli.checkpoint import save_weights
    from rmdm_cli.train import average_with, start_ranks, total_cost, train

    rank, world, device = start_ranks(device)  # under torchrun: rank 0 speaks and writes, the others train
    if rank:
        console = Console(quiet=True)
    task = get_task(task_name)
    init, parent = None, None
    if init_from is not None:
        init, header = load_model(task_name, init_from, "cpu")
        parent = {"weights": str(init_from), "training": header["training"]}
    # said first: making the data can take minutes before the first step
    console.print(
        f"training data: {task.training_data(config.data_options(task), config.seed).recipe}", highlight=False
    )
    with Progress(console, "training", config.train_steps, unit="steps") as bar:
        on_progress = progress_reporter(bar, config, console)
        try:
            model, metadata = train(
                task, config, state_path, on_progress=on_progress, init=init, device=device, workers=workers
            )
        except ValueError as error:
            raise UsageError(str(error)) from None
        except KeyboardInterrupt:
            console.print(
                f"interrupted: training state saved to {state_path}; run the same command to resume", highlight=False
            )
            raise
    if world > 1:
        import torch.distributed

        torch.distributed.barrier()  # every rank done with the group before any tears it down
        torch.distributed.destroy_process_group()
    if rank:
        # The other ranks have nothing left to do. Leaving without the interpreter's teardown,
        # where gloo's native threads abort the process now and then (SIGABRT, "terminate
        # called without an active exception", torch 2.13), keeps their exit status clean.
        sys.stderr.flush()
        os._exit(0)
    if average_with_init:  # after training, so the resumable state keeps the trained weights
        average_with(model, init)
        metadata["averaged_with_init"] = True
    metadata["parameters"] = model.parameter_count()
    if parent:
        metadata["init_from"] = parent
    metadata.update(total_cost(parent["training"] if parent else {}, metadata))
    defaults = {"depth": config.depth, "steps": task.seq_len, **task.stored_defaults}
    save_weights(out, model, task_name, metadata, defaults)  # before the held-out check, which may fail
    if eval_count:
        metadata["held_out"] = held_out_score(model, task, config, eval_count, console)
        save_weights(out, model, task_name, metadata, defaults)
    console.print(f"wrote {out}", highlight=False)


def progress_reporter(bar: Progress, config, console: Console):
    """The training loop's `on_progress(step, loss, seconds)`: the bar, with a rate, and on a
    stderr that is no terminal a log line every 100 steps."""
    from rmdm_cli.train import progress as run_progress

    marks: list[tuple[int, float]] = []  # (step, seconds) a while back, for examples/s

    def on_progress(step: int, loss: float, seconds: float) -> None:
        marks.append((step, seconds))
        del marks[:-50]
        rate = (step - marks[0][0]) * config.batch_size / max(1e-9, seconds - marks[0][1])
        # by time when a --minutes budget ends the run before its steps
        at = max(step, round(run_progress(config, step, seconds) * config.train_steps))
        bar.update(at, note=f"step {step} · loss {loss:.4f} · {rate:.0f} examples/s")
        if not console.is_terminal and step % 100 == 0:  # a log for runs left in the background
            console.print(f"step {step} loss {loss:.4f} {seconds:.0f} s", highlight=False)

    return on_progress


def held_out_score(model, task: Task, config, count: int, console: Console) -> dict:
    """The model alone on `count` held-out generated puzzles like those it trained on, one token
    committed a step (the most careful schedule)."""
    from rmdm_cli.solving import solve_all

    seed = 10_000 + config.seed
    options = task.held_out_options(config.data_options(task))
    puzzles = [task.parse(text) for text in task.generate(count, seed, options)]
    answers = solve_all(model, task, puzzles, SamplerSettings(config.depth, task.seq_len))
    solved = sum(answer.solved for answer in answers) / len(answers)
    console.print(f"held-out generated puzzles: {100 * solved:.1f}% solved", highlight=False)
    return {
        "puzzles": count,
        "generator_seed": seed,
        "depth": config.depth,
        "steps": task.seq_len,
        "solved_pct": round(100 * solved, 2),
    }
