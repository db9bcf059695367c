"""What a person sees on stderr: per-puzzle progress, the live view of one solve, result tables.

Results never pass through here: stdout carries answers only, whatever stderr is, so nothing
here redirects stdout (Rich's progress display does by default, which sent answers to the
terminal instead of a `> file` redirect while stderr was a terminal).
"""

from __future__ import annotations

import json
import sys
import textwrap
import time
from typing import Any

from rich.console import Console, Group
from rich.text import Text

# Each word in the style it names; without colour, the marks the views then draw.
LEGEND = (("given", "bold"), ("green sure (≥ 0.9)", "green"), ("yellow unsure", "yellow"), ("red breaks a rule", "red"))
PLAIN_LEGEND = "[5] given · 5 the model's · (5) breaks a rule · dots open"


class Progress:
    """Items done out of a total (None: unknown), with a rate and an ETA, on a terminal stderr.
    Elsewhere silent, or with `logged` a plain line every LOG_EVERY seconds and one at the end,
    for long measurements left running into a file. Redrawn only from `update`, never from a
    thread, so `write_stdout` can clear the line before answers go to a stdout that shares the
    terminal."""

    LOG_EVERY = 30.0

    def __init__(
        self,
        console: Console,
        label: str,
        total: float | None,
        unit: str = "puzzles",
        shown: bool = True,
        logged: bool = False,
    ):
        self.progress = None
        self.last_draw = self.started = time.monotonic()
        self.console, self.label, self.total, self.unit, self.completed = console, label, total, unit, 0.0
        self.logged = logged and shown and not console.is_terminal
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
        if self.logged and exc[0] is None:
            self.log()

    def log(self) -> None:
        total = f"/{self.total:.0f}" if self.total else ""
        seconds = time.monotonic() - self.started
        self.console.print(f"{self.label}: {self.completed:.0f}{total} {self.unit} · {seconds:.0f} s", highlight=False)

    def update(self, completed: float, note: str | None = None, force: bool = False) -> None:
        self.completed = completed
        if self.logged and time.monotonic() - self.last_draw > self.LOG_EVERY:
            self.log()
            self.last_draw = time.monotonic()
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


def legend(plain: bool) -> Text:
    if plain:
        return Text(PLAIN_LEGEND)
    text = Text()
    for words, style in LEGEND:
        text.append(words, style=style)
        text.append(" · ", style="dim")
    text.append("dots open", style="dim")
    return text


class LiveView:
    """One puzzle's refinement on stderr, drawn from what the solver reports: each sampler
    state or search step as it comes, and at the end the answer itself, which stays on screen."""

    def __init__(self, console: Console, task, puzzle, settings):
        from rich.live import Live

        from rmdm_cli.settings import SearchSettings

        self.console, self.task, self.puzzle, self.settings = console, task, puzzle, settings
        self.searching = isinstance(settings, SearchSettings)
        self.plain = console.no_color or console.color_system is None
        self.mask_token = task.mask_token
        self.tokens = task.encode(puzzle)
        self.to_fill = [token == self.mask_token for token in self.tokens]
        mode = "search" if self.searching else f"step 0/{settings.steps}"
        self.live = Live(
            self.view(self.tokens, [0.0] * len(self.tokens), f"{mode} · depth {settings.depth}"),
            console=console,
            refresh_per_second=20,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> LiveView:
        self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        self.live.stop()
        if not self.console.is_terminal:  # Rich ends the last frame's line only on a terminal
            self.console.line()

    def view(self, tokens, confidence, caption: str) -> Group:
        board = self.task.render(self.puzzle, tokens, confidence, plain=self.plain)
        return Group(board, Text(caption, style="dim"), legend(self.plain))

    def show_state(self, state) -> None:
        """A sampler state (one puzzle's batch)."""
        row, confidence = state.tokens[0].tolist(), state.confidence[0].tolist()
        filled = [c for c, free, token in zip(confidence, self.to_fill, row) if free and token != self.mask_token]
        mean = sum(filled) / max(1, len(filled))
        caption = (
            f"step {state.step}/{self.settings.steps} · depth {self.settings.depth} "
            f"· {row.count(self.mask_token)} open · mean confidence {mean:.3f}"
        )
        self.live.update(self.view(row, confidence, caption))

    def show_trace(self, _, trace) -> None:
        """A search's step: the committed state it last showed the model."""
        if trace.tokens is None:
            return
        row = [int(token) for token in trace.tokens]
        confidence = [1.0 if token != self.mask_token else 0.0 for token in row]
        caption = (
            f"search · depth {self.settings.depth} · {row.count(self.mask_token)} open "
            f"· {trace.nodes} commitments tried · {trace.backtracks} backtracks"
        )
        self.live.update(self.view(row, confidence, caption))

    def finish(self, answer) -> None:
        """The last frame: the answer the solver reports, and how it went."""
        outcome = "solved" if answer.solved else "not solved"
        searched = f" · {answer.nodes} commitments tried · {answer.backtracks} backtracks" if self.searching else ""
        caption = f"{outcome} · {answer.forward_passes} forward passes{searched} · {answer.seconds:.2f} s"
        confidence = [1.0] * len(answer.tokens)
        self.live.update(self.view(answer.tokens, confidence, caption), refresh=True)


# Short column heads, each word on a line of its own, so that tables fit 80 columns.
HEADS = {
    "puzzles": "puzzles",
    "solved_pct": "solved %",
    "mean_forward_passes": "mean passes",
    "median_forward_passes": "median passes",
    "puzzles_per_s": "puzzles/s",
    "mean_nodes": "mean nodes",
}
SETTINGS_WIDTH = 26  # bench's settings column wraps at this width


def print_rows(rows: list[dict[str, Any]], title: str, as_json: bool) -> None:
    """JSON lines; else on a terminal a table per mode (the model alone, with search), the
    settings every row shares said once above them, so they fit 80 columns; else (a file, a
    pipe) tab-separated values under a header."""
    if as_json:
        for row in rows:
            print(json.dumps(row), flush=True)
        return
    if not sys.stdout.isatty():
        print(f"# {title}")
        print("\t".join(rows[0]))
        for row in rows:
            print("\t".join("" if value is None else str(value) for value in row.values()))
        return
    measured = [key for key in rows[0] if key.removeprefix("search_") in HEADS and key != "puzzles"]
    labels = [key for key in rows[0] if key not in measured and (key == "set" or len({row[key] for row in rows}) > 1)]
    shared = [f"{key.replace('_', ' ')} {rows[0][key]}" for key in rows[0] if key not in measured + labels]
    print(textwrap.fill(" · ".join([title, *shared]), 80))
    groups = {"": [key for key in measured if not key.startswith("search_")]}
    if searched := [key for key in measured if key.startswith("search_")]:
        groups = {"the model alone": groups[""], "with search": searched}
    for name, keys in groups.items():
        if name:
            print(f"\n{name}")
        print(text_table(rows, labels, keys))


def text_table(rows: list[dict[str, Any]], labels: list[str], keys: list[str]) -> str:
    """Columns two spaces apart, labels left and numbers right, heads a word a line."""
    columns = labels + keys
    heads = [HEADS.get(key.removeprefix("search_"), key.replace("_", " ")).split() for key in columns]
    cells = [
        [
            textwrap.wrap(text, SETTINGS_WIDTH) if key == "settings" else [text]
            for key, text in ((key, "-" if row[key] is None else str(row[key])) for key in columns)
        ]
        for row in rows
    ]
    widths = [
        max(len(line) for lines in [head, *(row[i] for row in cells)] for line in lines) for i, head in enumerate(heads)
    ]

    def lines(parts: list[list[str]], top: bool) -> list[str]:
        height = max(len(part) for part in parts)
        out = []
        for n in range(height):
            texts = []
            for i, part in enumerate(parts):
                at = n - (height - len(part)) if top else n  # heads sit on the rule, cells hang from the top
                text = part[at] if 0 <= at < len(part) else ""
                texts.append(text.ljust(widths[i]) if columns[i] in labels else text.rjust(widths[i]))
            out.append("  ".join(texts).rstrip())
        return out

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([*lines(heads, top=True), rule, *(line for row in cells for line in lines(row, top=False))])
