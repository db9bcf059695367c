"""How soon a piped file's first answer reaches stdout, and what the growing batches cost in
throughput: `rmdm solve sudoku FILE | head -1` against the whole file, with the shipped batch
schedule (4, 8, 16, ... up to --batch-size) and with full batches from the start, for the
search (the default) and the plain sampler (`--no-search`).

    python benchmarks/first_answer.py [--lines 200] [--repeats 3]

Start-up (importing torch and loading the weights) is measured apart, as the time to the first
answer of a one-line file run on torch (two copies of one puzzle: one puzzle alone runs on NumPy).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(path: Path, first_batch: int | None, extra: tuple[str, ...] = ()) -> tuple[float, float]:
    """(seconds to the first answer, seconds to the last) of one fresh process."""
    setup = (
        "" if first_batch is None else f"import rmdm_cli.commands.solve as solve; solve.FIRST_BATCH = {first_batch}; "
    )
    code = setup + "import sys; from rmdm_cli.cli import main; sys.argv[0] = 'rmdm'; main()"
    command = [sys.executable, "-c", code, "solve", "sudoku", str(path), *extra]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()
    first = time.perf_counter() - started
    process.stdout.read()
    process.wait()
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    easy = [line for line in (ROOT / "data/sudoku/easy50.txt").read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as folder:
        many, two = Path(folder) / "many.txt", Path(folder) / "two.txt"
        many.write_text("\n".join(easy[i % len(easy)] for i in range(args.lines)) + "\n")
        two.write_text(f"{easy[0]}\n{easy[0]}\n")
        start_up = statistics.median(timed(two, None)[0] for _ in range(args.repeats))
        print(f"start-up and two puzzles on torch: {start_up:.2f} s")
        for solver, extra in (("search", ()), ("--no-search", ("--no-search",))):
            for name, first_batch in (("growing batches (shipped)", None), ("full batches from the start", 256)):
                runs = [timed(many, first_batch, extra) for _ in range(args.repeats)]
                first = statistics.median(run[0] for run in runs)
                total = statistics.median(run[1] for run in runs)
                rate = args.lines / total
                print(
                    f"{solver:12s} {name:28s} first answer {first:6.2f} s   all {total:6.1f} s ({rate:.2f} puzzles/s)"
                )


if __name__ == "__main__":
    main()
