"""The `rmdm` command line: a verb per command module in `commands/`, a command per task under
each. Heavy imports (torch, NumPy) happen inside commands so `--help` is instant."""

from __future__ import annotations

import functools
import os
import signal
from typing import Annotated

# Before anything imports NumPy: the NumPy model's matrices are too small for BLAS threads to
# pay for themselves, and on a busy machine they slow a solve many times (docs/inference.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer  # noqa: E402

from rmdm_cli.checkpoint import weights_dir  # noqa: E402
from rmdm_cli.commands.bench import make_bench  # noqa: E402
from rmdm_cli.commands.evaluate import make_eval  # noqa: E402
from rmdm_cli.commands.generate import make_generate  # noqa: E402
from rmdm_cli.commands.options import console  # noqa: E402
from rmdm_cli.commands.solve import make_solve  # noqa: E402
from rmdm_cli.commands.study import study_report, study_train  # noqa: E402
from rmdm_cli.commands.train import make_train  # noqa: E402
from rmdm_cli.errors import UsageError  # noqa: E402
from rmdm_cli.tasks import task_names  # noqa: E402


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
