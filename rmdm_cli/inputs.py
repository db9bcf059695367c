"""Reading puzzle input: numbered lines from a file, stdin or a command-line string."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Iterator

from rmdm_cli.errors import UsageError


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for lines that are neither blank nor `#` comments.

    Bytes are decoded per line with replacement, so binary garbage becomes a bad line that is
    reported, not an exception that loses the good lines around it.
    """
    for line_no, raw in enumerate(stream, start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if text and not text.startswith("#"):
            yield line_no, text


def open_sources(sources: list[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines from [] or ['-'] (stdin), [FILE], or puzzle texts (numbered by position)."""
    if not sources or sources == ["-"]:
        return numbered_lines(sys.stdin.buffer)
    if len(sources) == 1:
        path = Path(sources[0])
        if path.is_file():
            return _file_lines(path)
        if _looks_like_a_path(sources[0]):  # a mistyped file name, not a puzzle
            raise UsageError(f"{sources[0]}: " + ("a folder, not a file" if path.is_dir() else "no such file"))
    for source in sources:
        if source == "-" or Path(source).is_file():
            raise UsageError("give either one FILE, -, or one or more puzzles, not a mix")
    return iter(enumerate((source.strip() for source in sources), start=1))


def _looks_like_a_path(source: str) -> bool:
    """A folder separator or a puzzle file's extension: no puzzle has either (a puzzle with a
    stray letter, like `...8.a79`, stays a puzzle and gets its own error)."""
    return "/" in source or Path(source).suffix.lower() in {".txt", ".csv", ".json", ".jsonl"}


def _file_lines(path: Path) -> Iterator[tuple[int, str]]:
    with path.open("rb") as handle:
        yield from numbered_lines(handle)
