"""`rmdm train TASK`: a model from scratch (or from --init-from) on generated data, written with
the recipe, the cost and a held-out score in its header; Ctrl-C saves, the same command resumes."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.commands.options import Device, DeviceChoice, console, with_task_options
from rmdm_cli.config import TrainConfig
from rmdm_cli.display import Progress
from rmdm_cli.errors import UsageError
from rmdm_cli.settings import SamplerSettings
from rmdm_cli.tasks import Task, get_task, get_task_class


def make_train(task_name: str):
    def train_task(
        device: Device = DeviceChoice.auto,
        workers: Annotated[
            int, typer.Option(min=0, help="Processes making training batches ahead (0: the training process does).")
        ] = 0,
        out: Annotated[
            Path, typer.Option(help="Where to write the final weights (never the shipped ones unless asked).")
        ] = Path(f"runs/{task_name}.safetensors"),
        force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
        state: Annotated[
            Path | None,
            typer.Option(
                help="Resumable training state (default: runs/<out name>.state.pt); an existing one is resumed.",
                show_default=False,
            ),
        ] = None,
        eval_count: Annotated[
            int,
            typer.Option(
                min=0, help="Held-out generated puzzles solved after training; the result goes into the metadata."
            ),
        ] = 200,
        init_from: Annotated[
            Path | None,
            typer.Option(
                help="Start from these weights instead of random ones (same architecture; the depth may differ).",
                show_default=False,
            ),
        ] = None,
        average_with_init: Annotated[
            bool, typer.Option(help="With --init-from: write the mean of the starting and the trained weights.")
        ] = False,
        **options,
    ) -> None:
        from dataclasses import fields

        data_names = {option.name for option in fields(get_task_class(task_name).DataOptions)}
        data = {name: value for name, value in options.items() if name in data_names}
        try:
            get_task_class(task_name).DataOptions(**data)  # checked before training prints or makes anything
        except ValueError as error:
            raise UsageError(str(error)) from None
        config = TrainConfig(**{name: value for name, value in options.items() if name not in data_names}, data=data)
        from rmdm_cli.devices import pick_device

        run_train(
            task_name,
            config,
            out,
            state or Path("runs") / f"{out.stem}.state.pt",
            eval_count,
            console,
            init_from,
            pick_device(device.value),
            workers,
            average_with_init,
            force,
        )

    train_task.__doc__ = (
        f"Train a {task_name} model from scratch on generated data and "
        "write self-describing weights (Ctrl-C saves; rerun to resume)."
    )
    task_class = get_task_class(task_name)
    return with_task_options(train_task, TrainConfig, task_class.DataOptions, defaults=task_class.train_defaults)


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
