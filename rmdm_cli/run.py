"""What the commands do, kept apart from argument parsing in cli.py."""

from __future__ import annotations

import itertools
import json
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import typer
from rich.console import Console, Group
from rich.text import Text

from rmdm_cli.cli import load_model
from rmdm_cli.errors import UsageError
from rmdm_cli.inputs import numbered_lines, open_sources
from rmdm_cli.solving import Decoding, solve_batch
from rmdm_cli.tasks import PuzzleError, Task, get_task


def parsed_batches(task: Task, records, batch_size: int, console: Console, bad: list[int]) -> Iterator[list[tuple[int, object]]]:
    """Batches of (line number, puzzle) from (line number, text) records; bad lines are
    reported as met and counted in `bad`."""
    batch = []
    for line_no, text in records:
        try:
            batch.append((line_no, task.parse(text)))
        except PuzzleError as error:
            console.print(f"[bold red]error:[/] line {line_no}: {error}", highlight=False)
            bad.append(line_no)
            continue
        if len(batch) == batch_size:
            yield batch
            batch = []
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


def run_solve(task_name, sources: list[str], decoding: Decoding, weights, device, output_format, live, batch_size, console: Console) -> int:
    task = get_task(task_name)
    if live is None:
        live = sys.stdout.isatty() and console.is_terminal
    lines = open_sources(sources)
    bad: list[int] = []
    unsolved = 0
    total = 0
    batches = parsed_batches(task, task.records(lines), batch_size, console, bad)
    first = next(batches, [])
    second = next(batches, None)
    single = len(first) == 1 and second is None
    # One puzzle: importing torch would take longer than the solve, so the CPU runs the NumPy copy.
    model, header = load_model(task_name, weights, device, torch_free=single)
    decoding = decoding.with_defaults(header["defaults"])
    progress = None
    if not single and console.is_terminal:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(SpinnerColumn(), TextColumn("solved {task.fields[solved]}/{task.completed} puzzles"), TimeElapsedColumn(), console=console, transient=True)
        progress_id = progress.add_task("solve", total=None, solved=0)
        progress.start()
    try:
        for batch in itertools.chain([first] if first else [], [second] if second else [], batches):
            puzzles = [puzzle for _, puzzle in batch]
            if single and live:
                answers = solve_live(model, task, puzzles[0], decoding, console)
            else:
                answers = solve_batch(model, task, puzzles, decoding)
            out = []
            for (line_no, puzzle), answer in zip(batch, answers):
                solvable = None
                if not answer.solved:
                    unsolved += 1
                    solvable = task.solvable(puzzle)
                    if solvable is not None:
                        reason = "a solution exists" if solvable else "the problem has no solution"
                        beyond = task.beyond_training(puzzle) if solvable else None
                        reason += f"; {beyond}" if beyond else ""
                        console.print(f"line {line_no}: not solved ({reason})", highlight=False)
                if output_format == "jsonl":
                    record = {
                        "line": line_no,
                        task.input_field: task.format_puzzle(puzzle),
                        task.output_field: answer.answer,
                        "solved": answer.solved,
                    }
                    if solvable is not None:
                        record["solvable"] = solvable
                    record.update(depth=decoding.depth, steps=decoding.steps, forward_passes=answer.forward_passes, attempts=answer.attempts, seconds=round(answer.seconds, 4))
                    out.append(json.dumps(record) + "\n")
                else:
                    out.append(answer.answer + "\n")
            with interrupts_held():  # a batch is written and counted whole, or not at all
                sys.stdout.write("".join(out))
                sys.stdout.flush()
                total += len(batch)
            if progress:
                progress.update(progress_id, advance=len(batch), solved=total - unsolved)
    except KeyboardInterrupt:  # what was finished is already printed and flushed
        console.print(f"interrupted after {total} puzzles", highlight=False)
        return 130
    finally:
        if progress:
            progress.stop()
    if total == 0 and not bad:
        raise UsageError("no puzzles in the input")
    if bad:
        return 2
    return 1 if unsolved else 0


def solve_live(model, task: Task, puzzle, decoding: Decoding, console: Console):
    """Solve one puzzle while showing every denoising step; the final view stays on screen."""
    from rich.live import Live

    tokens = task.encode(puzzle)
    mask_token = model.config.mask_token
    to_fill = [token == mask_token for token in tokens]

    def view(tokens_row, confidence_row, caption: str):
        return Group(task.render(puzzle, tokens_row, confidence_row), Text(caption, style="dim"))

    with Live(view(tokens, [0.0] * len(tokens), f"step 0/{decoding.steps} · depth {decoding.depth}"), console=console, refresh_per_second=20) as screen:

        def show(state) -> None:
            row, confidence = state.tokens[0].tolist(), state.confidence[0].tolist()
            filled = [c for c, free, token in zip(confidence, to_fill, row) if free and token != mask_token]
            mean = sum(filled) / max(1, len(filled))
            caption = f"step {state.step}/{decoding.steps} · depth {decoding.depth} · {row.count(mask_token)} open · mean confidence {mean:.3f}"
            screen.update(view(row, confidence, caption))

        answers = solve_batch(model, task, [puzzle], decoding, on_state=show)
    (answer,) = answers
    outcome = "[green]solved[/]" if answer.solved else "[red]not solved[/] (the answer breaks a rule)"
    console.print(outcome, f"· {answer.forward_passes} forward passes · {answer.seconds:.2f} s", highlight=False)
    return answers


def read_puzzle_file(task: Task, path: Path, limit: int | None, console: Console) -> list:
    """Every puzzle of a benchmark file (the first `limit`); a bad line is a usage error."""
    with path.open("rb") as handle:
        bad: list[int] = []
        records = itertools.islice(task.records(numbered_lines(handle)), limit)  # limit None: all
        puzzles = [puzzle for batch in parsed_batches(task, records, 1 << 30, console, bad) for _, puzzle in batch]
    if bad:
        raise UsageError(f"{path}: {len(bad)} bad lines")
    return puzzles


def measure(model, task: Task, puzzles: list, decoding: Decoding) -> dict:
    """Solved %, mean forward passes and puzzles/s of one decoding over the puzzles."""
    from rmdm_cli.solving import solve_all

    started = time.perf_counter()
    answers = solve_all(model, task, puzzles, decoding)
    seconds = time.perf_counter() - started
    return {
        "solved_pct": round(100 * sum(a.solved for a in answers) / max(1, len(answers)), 2),
        "mean_forward_passes": round(sum(a.forward_passes for a in answers) / max(1, len(answers)), 1),
        "puzzles_per_s": round(len(answers) / seconds, 2),
    }


def print_rows(rows: list[dict], title: str, as_json: bool) -> None:
    """JSON lines, or one Rich table on stdout (full width when piped: no truncated names)."""
    from rich.table import Table

    if as_json:
        for row in rows:
            print(json.dumps(row), flush=True)
        return
    table = Table(title=title, title_justify="left")
    for column in rows[0]:
        table.add_column(column.replace("_", " ").replace(" pct", " %"), justify="left" if column in ("set", "settings") else "right")
    for row in rows:
        table.add_row(*("-" if value is None else str(value) for value in row.values()))
    Console(width=None if sys.stdout.isatty() else 140).print(table)


def run_eval(task_name, files: list[Path], depths, steps_list, limit, device, weights, decoding: Decoding, as_json: bool, console: Console) -> None:
    task = get_task(task_name)
    model, header = load_model(task_name, weights, device)
    depths = depths or [header["defaults"]["depth"]]
    steps_list = steps_list or [header["defaults"]["steps"]]
    rows = []
    for path in files:
        puzzles = read_puzzle_file(task, path, limit, console)
        for depth, steps in itertools.product(depths, steps_list):
            row = {
                "set": path.name, "puzzles": len(puzzles), "depth": depth, "steps": steps, "threshold": decoding.threshold,
                "adaptive_depth": decoding.adaptive_depth, "give_up": decoding.give_up, "retries": decoding.retries,
            }
            row.update(measure(model, task, puzzles, replace(decoding, depth=depth, steps=steps)))
            if as_json:
                print_rows([row], "", True)
            rows.append(row)
    if not as_json:
        print_rows(rows, f"{task_name} · {model.parameter_count():,} parameters", False)


def run_bench(task_name, files: list[Path], limit, device, weights, threshold: float, adaptive_steps: int | None, adaptive_depth: bool, give_up: bool, retries: int, as_json: bool, console: Console) -> None:
    """Shipped fixed defaults, adaptive settings, adaptive with retries and the exact solver,
    measured in one run so their ratios hold on a noisy machine."""
    task = get_task(task_name)
    model, header = load_model(task_name, weights, device)
    fixed = Decoding().with_defaults(header["defaults"])
    adaptive = replace(fixed, steps=adaptive_steps or fixed.steps, threshold=threshold, adaptive_depth=adaptive_depth, give_up=give_up)
    depth = f"adaptive depth ≤ {fixed.depth}" if adaptive_depth else f"depth {fixed.depth}"
    settings = [
        (f"fixed: depth {fixed.depth}, steps {fixed.steps}", fixed),
        (f"adaptive: threshold {threshold}, steps ≤ {adaptive.steps}, {depth}{', give up' if give_up else ''}", adaptive),
    ]
    if retries:
        settings.append((f"adaptive + {retries} verified retries", replace(adaptive, retries=retries)))
    rows = []

    def add(row: dict) -> None:
        rows.append(row)
        if as_json:  # streamed as measured
            print_rows([row], "", True)

    for path in files:
        puzzles = read_puzzle_file(task, path, limit, console)
        for name, decoding in settings:
            add({"set": path.name, "puzzles": len(puzzles), "settings": name, **measure(model, task, puzzles, decoding)})
        started = time.perf_counter()
        solved = sum(task.check(puzzle, task.exact_answer(puzzle) or "") for puzzle in puzzles)
        seconds = time.perf_counter() - started
        add({
            "set": path.name, "puzzles": len(puzzles), "settings": "exact solver (no model)",
            "solved_pct": round(100 * solved / max(1, len(puzzles)), 2), "mean_forward_passes": None,
            "puzzles_per_s": round(len(puzzles) / seconds, 2),
        })
    if not as_json:
        import torch

        print_rows(rows, f"{task_name} · {model.parameter_count():,} parameters · {torch.get_num_threads()} threads", False)


def run_train(task_name, config, out: Path, state_path: Path, eval_count: int, console: Console, init_from: Path | None = None, device: str = "cpu", workers: int = 0, average_with_init: bool = False) -> None:
    if average_with_init and init_from is None:  # an argument error: before the imports and the data
        raise UsageError("--average-with-init needs --init-from: there are no starting weights to average with")
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from rmdm_cli.checkpoint import save_weights
    from rmdm_cli.solving import solve_all
    from rmdm_cli.train import progress as run_progress
    from rmdm_cli.train import average_with, total_cost, train

    task = get_task(task_name)
    default_steps = task.seq_len  # at most one token committed per step: the most careful schedule
    init, parent = None, None
    if init_from is not None:
        init, header = load_model(task_name, init_from, "cpu")
        parent = {"weights": str(init_from), "training": header["training"]}
    console.print(f"training data: {task.data_recipe(config)}", highlight=False)  # making it can take minutes before the first step
    with Progress(
        TextColumn("training"), BarColumn(), TextColumn("step {task.fields[step]}"), TextColumn("loss {task.fields[loss]:.4f}"),
        TimeElapsedColumn(), TimeRemainingColumn(), console=console,
    ) as bar_view:
        bar = bar_view.add_task("train", total=1.0, step=0, loss=float("nan"))

        def on_progress(step: int, loss: float, seconds: float) -> None:
            bar_view.update(bar, completed=run_progress(config, step, seconds), step=step, loss=loss)
            if not console.is_terminal and step % 100 == 0:
                console.print(f"step {step} loss {loss:.4f} {seconds:.0f} s", highlight=False)

        try:
            model, metadata = train(task, config, state_path, on_progress=on_progress, init=init, device=device, workers=workers)
        except ValueError as error:
            raise UsageError(str(error)) from None
        except KeyboardInterrupt:
            console.print(f"interrupted: training state saved to {state_path}; run the same command to resume", highlight=False)
            raise typer.Exit(130) from None
    if average_with_init:  # after training, so the resumable state keeps the trained weights
        average_with(model, init)
        metadata["averaged_with_init"] = True
    metadata["parameters"] = model.parameter_count()
    if parent:
        metadata["init_from"] = parent
    metadata.update(total_cost(parent["training"] if parent else {}, metadata))
    defaults = {"depth": config.depth, "steps": default_steps}
    save_weights(out, model, task_name, metadata, defaults)  # written before the held-out check too, so a failure there keeps the training
    if eval_count:
        puzzles = [task.parse(text) for text in task.generate(eval_count, seed=10_000 + config.seed, **task.held_out_options(config))]
        answers = solve_all(model, task, puzzles, Decoding(config.depth, default_steps))
        solved = sum(answer.solved for answer in answers) / len(answers)
        metadata["held_out"] = {"puzzles": eval_count, "generator_seed": 10_000 + config.seed, "depth": config.depth, "steps": default_steps, "solved_pct": round(100 * solved, 2)}
        console.print(f"held-out generated puzzles: {100 * solved:.1f}% solved", highlight=False)
        save_weights(out, model, task_name, metadata, defaults)
    console.print(f"wrote {out}", highlight=False)
