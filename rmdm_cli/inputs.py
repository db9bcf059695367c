"""Reading puzzle input: numbered lines from a file, stdin or a command-line string."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Iterator


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """Yield (line number, text) for lines that are neither blank nor `#` comments.

    Bytes are decoded per line with replacement, so binary garbage becomes a bad line that is
    reported, not an exception that loses the good lines around it.
    """
    for line_no, raw in enumerate(stream, start=1):
        text = raw.decode("utf-8", errors="replace").strip()
        if text and not text.startswith("#"):
            yield line_no, text


def open_source(source: str | None) -> tuple[str, Iterator[tuple[int, str]]]:
    """Resolve PUZZLE | FILE | '-' | None (stdin) into (description, numbered lines)."""
    if source is None or source == "-":
        return "stdin", numbered_lines(sys.stdin.buffer)
    path = Path(source)
    if path.is_file():
        def lines() -> Iterator[tuple[int, str]]:
            with path.open("rb") as handle:
                yield from numbered_lines(handle)

        return str(path), lines()
    return "argument", iter([(1, source.strip())])
