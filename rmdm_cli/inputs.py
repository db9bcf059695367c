"""Reading puzzle input: numbered lines from a file, stdin or a command-line string."""

from __future__ import annotations

import codecs
import itertools
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from rmdm_cli.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from rmdm_cli.tasks import Task

UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for lines that are neither blank nor `#` comments.

    Bytes are decoded per line with replacement, so binary garbage becomes a bad line that is
    reported, not an exception that loses the good lines around it. A byte-order mark is
    dropped; a UTF-16 file (as some Windows editors save) is decoded whole.
    """
    lines: Iterable[bytes] = stream
    first = stream.readline()
    if first.startswith(UTF16_BOMS):
        text = (first + stream.read()).decode("utf-16", errors="replace")
        lines = (line.encode() for line in text.splitlines())
    else:
        lines = itertools.chain([first.removeprefix(codecs.BOM_UTF8)] if first else [], stream)
    for line_no, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if text and not text.startswith("#"):
            yield line_no, text


def open_sources(sources: list[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines from [] or ['-'] (stdin), [FILE], or puzzle texts (numbered by position)."""
    if not sources or sources == ["-"]:
        return numbered_lines(sys.stdin.buffer)
    if len(sources) == 1:
        path = Path(sources[0])
        if _is_file(sources[0]):
            return _file_lines(path)
        if _looks_like_a_path(sources[0]):  # a mistyped file name, not a puzzle
            raise UsageError(f"{sources[0]}: " + ("a folder, not a file" if path.is_dir() else "no such file"))
    for source in sources:
        if source == "-" or _is_file(source):
            raise UsageError("give either one FILE, -, or one or more puzzles, not a mix")
    # An argument may hold several lines (a grid pasted as `"$(cat grid.txt)"`): each is numbered
    # by its argument's position, so the task can join them as it joins a file's lines.
    return ((position, line.strip()) for position, source in enumerate(sources, 1) for line in source.splitlines())


def _is_file(source: str) -> bool:
    """Whether the argument names a file; a text no file name can be (too long, a NUL byte) does not."""
    try:
        return Path(source).is_file()
    except (OSError, ValueError):
        return False


def count_puzzles(task: Task, sources: list[str]) -> int | None:
    """How many puzzles the sources hold, where that is known before solving (None for stdin)."""
    if not sources or sources == ["-"]:
        return None
    return sum(1 for _ in task.records(open_sources(sources)))


def _looks_like_a_path(source: str) -> bool:
    """A folder separator or a puzzle file's extension: no puzzle has either (a puzzle with a
    stray letter, like `...8.a79`, stays a puzzle and gets its own error)."""
    return "/" in source or Path(source).suffix.lower() in {".txt", ".csv", ".json", ".jsonl"}


def _file_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        yield from numbered_lines(handle)


def read_puzzle_file(task: Task, path: Path, limit: int | None, console: Console) -> list:
    """Every puzzle of a benchmark file (the first `limit`); a bad line is a usage error."""
    from rmdm_cli.tasks import PuzzleError

    puzzles, bad = [], 0
    for line_no, text in itertools.islice(task.records(_file_lines(path)), limit):  # limit None: all
        try:
            puzzles.append(task.parse(text))
        except PuzzleError as error:
            console.print(f"[bold red]error:[/] line {line_no}: {error}", highlight=False)
            bad += 1
    if bad:
        raise UsageError(f"{path}: {bad} bad lines")
    return puzzles
