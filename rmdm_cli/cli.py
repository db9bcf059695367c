"""The `rmdm` command line. Heavy imports (torch) happen inside commands so `--help` is instant."""

from __future__ import annotations

import functools
import inspect
import os
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

# Before anything imports NumPy: the NumPy model's matrices are too small for BLAS threads to
# pay for themselves, and on a busy machine they slow a solve many times (docs/inference.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402

from rmdm_cli.checkpoint import default_weights, weights_dir  # noqa: E402
from rmdm_cli.config import TrainConfig  # noqa: E402
from rmdm_cli.errors import UsageError  # noqa: E402
from rmdm_cli.settings import SEARCH_BUDGET  # noqa: E402
from rmdm_cli.tasks import get_task_class, task_names  # noqa: E402

console = Console(stderr=True, soft_wrap=True)  # everything but results goes to stderr; messages stay one line


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("rmdm")
        except PackageNotFoundError:
            number = "(not installed)"
        print(f"rmdm {number}\nweights: {weights_dir()}")
        raise typer.Exit()


def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=show_version,
            is_eager=True,
            help="Print the version and the weights folder in use, and exit.",
        ),
    ] = False,
) -> None:
    """Solve puzzles with recursive masked diffusion models."""


def ends_with_exit_code(command):
    """Every command ends one way: the code it returns (None: 0), 2 with a one-line error for a
    UsageError, 130 after Ctrl-C (the command says first what it kept, where it kept anything)."""

    @functools.wraps(command)  # Typer reads the options from the wrapped command's signature
    def run(*args, **kwargs):
        try:
            code = command(*args, **kwargs)
        except UsageError as error:
            console.print(f"[bold red]error:[/] {error}", highlight=False)
            code = 2
        except KeyboardInterrupt:
            code = 130
        raise typer.Exit(code or 0)

    return run


def int_list(text: str, option: str, minimum: int = 1) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{option}: expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < minimum:
        raise UsageError(f"{option}: values must be integers of at least {minimum}, got {text!r}")
    return values


class DeviceChoice(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class FormatChoice(str, Enum):
    text = "text"
    jsonl = "jsonl"


Depth = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Recursion depth: block-stack applications per step or per search call (default: from the weights).",
    ),
]
Steps = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Denoising steps: the sampler's rounds of committing (default: from the weights); with search, the model"
        " is asked again once another 1/steps of the blanks is filled (default: 1, once).",
    ),
]
Device = Annotated[DeviceChoice, typer.Option(help="Where to run the model.")]
Weights = Annotated[
    Path | None,
    typer.Option(
        help="Weights file (default: TASK.safetensors in the weights folder that `rmdm --version` names).",
        dir_okay=False,
    ),
]
Threshold = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        max=1.0,
        help=(
            "Sampler: adaptive steps, also commit every cell this confident; --steps stays the upper bound "
            "(default: from the weights)."
        ),
        show_default=False,
    ),
]
AdaptiveDepth = Annotated[
    bool,
    typer.Option(
        "--adaptive-depth",
        help=(
            "Sampler: adaptive depth, stop recursing in a step once the "
            "predictions stop changing; --depth stays the upper bound (default: from the weights)."
        ),
    ),
]
Fixed = Annotated[
    bool,
    typer.Option(
        "--fixed",
        help=(
            "Sampler: ignore the threshold and adaptive depth the weights store, so every step commits its "
            "share and recurses --depth times (--threshold and --adaptive-depth still apply)."
        ),
    ),
]
GiveUp = Annotated[
    bool,
    typer.Option(
        "--give-up",
        help=(
            "Sampler: stop a puzzle once what it has committed breaks a rule (its answer "
            "cannot end right), filling the rest with the current predictions."
        ),
    ),
]
Search = Annotated[
    bool,
    typer.Option(
        "--search/--no-search",
        help="Verified search: backtrack from dead ends to the model's next choice, so every answer passes the "
        "checker; --no-search runs the plain sampler once (the options marked 'sampler' apply then).",
    ),
]
Budget = Annotated[
    int | None,
    typer.Option(
        min=1, help=f"With search: forward passes (block applications) a puzzle may spend (default: {SEARCH_BUDGET})."
    ),
]
Threads = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="CPU threads for the model (default: 1, so that runs side by side never slow each other down; one"
        " puzzle on the CPU runs on NumPy, on one thread, unless --threads is given).",
        show_default=False,
    ),
]
Retries = Annotated[
    int,
    typer.Option(
        min=0,
        help=(
            "Sampler: verified retries, re-run a puzzle the checker rejects with a "
            "sampled commit order and a new seed, up to this many times."
        ),
    ),
]


Sources = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[PUZZLE... | FILE | -]",
        help="Puzzles, one file of puzzles, or - for stdin (the default when stdin is piped).",
        show_default=False,
    ),
]
Seed = Annotated[int | None, typer.Option(help="Sampler: random seed of the retries' commit orders.")]
Format = Annotated[FormatChoice, typer.Option("--format", help="text: one answer a line; jsonl: one object a puzzle.")]
Live = Annotated[
    bool | None,
    typer.Option(
        "--live/--no-live",
        help="Live view of the refinement (default: when solving one puzzle on a terminal).",
        show_default=False,
    ),
]


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
    ) -> None:
        from rmdm_cli.run import run_solve

        task = get_task_class(task_name)()
        if (given := task.puzzle_from_options(task.SolveOptions(**options), sources or [])) is not None:
            sources = given
        elif not sources and sys.stdin.isatty():
            raise UsageError(
                f"no puzzle given: pass a puzzle, a file, or pipe puzzles on stdin (see rmdm solve {task_name} --help)"
            )
        settings = solve_settings(
            search, depth, steps, threshold, adaptive_depth, fixed, give_up, retries, seed, budget
        )
        return run_solve(
            task_name,
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
    from rmdm_cli.settings import SamplerSettings, SearchSettings

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
        search: Search = True,
        budget: Budget = SEARCH_BUDGET,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of a table.")] = False,
        threads: Annotated[int, typer.Option(min=1, help="CPU threads for the model.")] = 1,
    ) -> None:
        from rmdm_cli.run import run_eval
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
            SearchSettings(budget=budget) if search else None,
            as_json,
            console,
            threads,
        )

    evaluate.__doc__ = (
        f"Solve every {task_name} puzzle of the files at each depth "
        "x steps; report solved %, forward passes and puzzles/s, the model alone and beside it with search."
    )
    return evaluate


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
        from rmdm_cli.run import run_bench

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


def with_task_options(command, *options_classes, defaults: dict | None = None):
    """`command` taking, besides its own parameters, every field of the options dataclasses
    that has a `help` in its metadata as an option (its `flag`, `min` and `max` there too) in
    **options; `defaults` replace the fields' defaults (a task's recipe)."""
    from dataclasses import MISSING, fields
    from typing import get_type_hints

    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    extra = []
    for options_class in options_classes:
        hints = get_type_hints(options_class)
        for option in fields(options_class):
            if "help" not in option.metadata:
                continue
            settings = {key: option.metadata[key] for key in ("min", "max") if key in option.metadata}
            flags = [option.metadata["flag"]] if "flag" in option.metadata else []
            default = option.default if option.default is not MISSING else None
            flag = typer.Option(*flags, help=option.metadata["help"], **settings)
            extra.append(
                inspect.Parameter(
                    option.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=(defaults or {}).get(option.name, default),
                    annotation=Annotated[hints[option.name], flag],
                )
            )
    command.__signature__ = signature.replace(parameters=[*own, *extra])
    return command


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

        from rmdm_cli.run import run_train

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


StudyDir = Annotated[Path, typer.Option("--dir", help="Where the study's weights live.")]


def study_train(
    task: Annotated[str, typer.Argument(help="Task: sudoku, countdown, or another registered one.")],
    widths: Annotated[str, typer.Option(help="Widths, comma-separated.")] = "32,64,128",
    depths: Annotated[str, typer.Option(help="Trained recursion depths L, comma-separated.")] = "1,2,4,8",
    seeds: Annotated[str, typer.Option(help="Seeds, comma-separated.")] = "0,1",
    variants: Annotated[
        str, typer.Option(help="Cell variants, comma-separated: base, no-reinject (claim 3a), random-depth (claim 3c).")
    ] = "base",
    train_steps: Annotated[
        int,
        typer.Option(
            min=1, help="Optimizer steps per cell (300 x 64 left every Sudoku cell on the initial plateau: 0% solved)."
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
    """Solve the held-out set with every cell at several steps and depths; write docs/study.md."""
    from rmdm_cli.study import measure_cells, write_report

    say = lambda text: console.print(text, highlight=False)  # noqa: E731
    measurements = {name: rows for name in task_names() if (rows := measure_cells(directory, name, count, say))}
    if not measurements:
        raise UsageError(f"{directory}: no study weights (run rmdm study train TASK first)")
    path = write_report(measurements, docs, f"rmdm study report --count {count}", count)
    console.print(f"wrote {path}", highlight=False)


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


def make_app() -> typer.Typer:
    """The `rmdm` command line, a command per registered task under each verb."""
    app = typer.Typer(
        no_args_is_help=True, add_completion=False, help="Solve puzzles with recursive masked diffusion models."
    )
    app.callback()(main_options)
    verbs = {
        "solve": ("Solve puzzles: results on stdout, progress and errors on stderr.", make_solve),
        "eval": ("Measure solved % over puzzle files at several depths and steps.", make_eval),
        "bench": ("Compare fixed and adaptive decoding, retries, search and the exact solver in one run.", make_bench),
        "train": ("Train a model from scratch on generated data.", make_train),
        "generate": ("Generate puzzles with the project's own generator.", make_generate),
    }
    for verb, (help_text, make_command) in verbs.items():
        verb_app = typer.Typer(no_args_is_help=True, help=help_text)
        for name in task_names():
            verb_app.command(name)(ends_with_exit_code(make_command(name)))
        app.add_typer(verb_app, name=verb)
    study_app = typer.Typer(
        no_args_is_help=True, help="The scaling study: recursion depth vs parameters vs denoising steps."
    )
    study_app.command("train")(ends_with_exit_code(study_train))
    study_app.command("report")(ends_with_exit_code(study_report))
    app.add_typer(study_app, name="study")
    return app


app = make_app()


def main() -> None:
    if hasattr(signal, "SIGPIPE"):
        # A reader that closes the pipe (`| head -1`) ends rmdm the way it ends `cat` or `grep`:
        # quietly, with the shell's status 141, instead of Python's BrokenPipeError.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    app()
