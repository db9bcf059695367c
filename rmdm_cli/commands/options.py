"""What several commands share: the console for everything but results, option types stated
once, and a task's options dataclasses offered as options."""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rmdm_cli.errors import UsageError
from rmdm_cli.settings import SEARCH_BUDGET

console = Console(stderr=True, soft_wrap=True)  # everything but results goes to stderr; messages stay one line


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
        " is asked again once another 1/steps of the blanks is filled (default: 1, once; Sudoku's search first"
        " asks after its rules have made 15 guesses, so most puzzles need no call).",
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
