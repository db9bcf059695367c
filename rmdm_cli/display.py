"""What a person sees on stderr: per-puzzle progress, the live view of one solve, result tables.

Results never pass through here: stdout carries answers only, whatever stderr is, so nothing
here redirects stdout (Rich's progress display does by default, which sent answers to the
terminal instead of a `> file` redirect while stderr was a terminal).
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from rich.console import Console, Group
from rich.text import Text

LEGEND = "bold given · green sure (≥ 0.9) · yellow unsure · red breaks a rule · dots open"


class Progress:
    """Items done out of a total (None: unknown), with a rate and an ETA, on a terminal stderr;
    silent otherwise. Redrawn only from `update`, never from a thread, so `write_stdout` can
    clear the line before answers go to a stdout that shares the terminal."""

    def __init__(self, console: Console, label: str, total: float | None, unit: str = "puzzles", shown: bool = True):
        self.progress = None
        self.last_draw = 0.0
        if not (shown and console.is_terminal):
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as RichProgress,
        )

        class Rate(ProgressColumn):
            def render(self, task) -> Text:
                return Text(f"{task.speed:.1f} {unit}/s" if task.speed else "", style="cyan")

        columns = [TextColumn(label)]
        columns += (
            [BarColumn(), MofNCompleteColumn()]
            if total
            else [SpinnerColumn(), TextColumn(f"{{task.completed:.0f}} {unit}")]
        )
        columns += [TextColumn("{task.fields[note]}"), Rate(), TimeElapsedColumn()] + (
            [TimeRemainingColumn()] if total else []
        )
        self.progress = RichProgress(
            *columns, console=console, transient=True, auto_refresh=False, redirect_stdout=False, redirect_stderr=False
        )
        self.task = self.progress.add_task(label, total=total, note="")

    def __enter__(self) -> Progress:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress:
            self.progress.stop()

    def update(self, completed: float, note: str | None = None, force: bool = False) -> None:
        if not self.progress:
            return
        fields = {} if note is None else {"note": note}
        self.progress.update(self.task, completed=completed, **fields)
        now = time.monotonic()
        if force or now - self.last_draw > 0.1:
            self.progress.refresh()
            self.last_draw = now

    def write_stdout(self, text: str) -> None:
        """Answers to stdout, first clearing the progress line where stdout may share its terminal."""
        if self.progress and sys.stdout.isatty():
            self.progress.console.file.write("\r\x1b[2K")
            self.progress.console.file.flush()
        sys.stdout.write(text)
        sys.stdout.flush()
        if self.progress:
            self.progress.refresh()


def solve_live(model, task, puzzle, decoding, console: Console):
    """Solve one puzzle while showing every denoising step; the final view stays on screen."""
    from rich.live import Live

    from rmdm_cli.solving import solve_batch

    tokens = task.encode(puzzle)
    mask_token = model.config.mask_token
    to_fill = [token == mask_token for token in tokens]

    def view(tokens_row, confidence_row, caption: str):
        return Group(
            task.render(puzzle, tokens_row, confidence_row), Text(caption, style="dim"), Text(LEGEND, style="dim")
        )

    first = view(tokens, [0.0] * len(tokens), f"step 0/{decoding.steps} · depth {decoding.depth}")
    with Live(first, console=console, refresh_per_second=20, redirect_stdout=False, redirect_stderr=False) as screen:

        def show(state) -> None:
            row, confidence = state.tokens[0].tolist(), state.confidence[0].tolist()
            filled = [c for c, free, token in zip(confidence, to_fill, row) if free and token != mask_token]
            mean = sum(filled) / max(1, len(filled))
            caption = (
                f"step {state.step}/{decoding.steps} · depth {decoding.depth} "
                f"· {row.count(mask_token)} open · mean confidence {mean:.3f}"
            )
            screen.update(view(row, confidence, caption))

        def show_search(_, trace) -> None:
            if trace.tokens is None:
                return
            row = [int(token) for token in trace.tokens]
            confidence = [1.0 if token != mask_token else 0.0 for token in row]
            caption = (
                f"search · depth {decoding.depth} · {row.count(mask_token)} open · {trace.nodes} commitments tried "
                f"· {trace.backtracks} backtracks"
            )
            screen.update(view(row, confidence, caption))

        answers = solve_batch(model, task, [puzzle], decoding, on_state=show, on_trace=show_search)
    (answer,) = answers
    outcome = "[green]solved[/]" if answer.solved else "[red]not solved[/]"
    searched = f" · {answer.backtracks} backtracks" if decoding.search else ""
    console.print(
        outcome, f"· {answer.forward_passes} forward passes{searched} · {answer.seconds:.2f} s", highlight=False
    )
    return answers


def print_rows(rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    """JSON lines, or one Rich table on stdout (full width when piped: no truncated names)."""
    from rich.table import Table

    if as_json:
        for row in rows:
            print(json.dumps(row), flush=True)
        return
    table = Table(title=title, title_justify="left")
    for column in rows[0]:
        table.add_column(
            column.replace("_", " ").replace(" pct", " %"), justify="left" if column in ("set", "settings") else "right"
        )
    for row in rows:
        table.add_row(*("-" if value is None else str(value) for value in row.values()))
    Console(width=None if sys.stdout.isatty() else 240).print(table)
