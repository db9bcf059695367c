"""Where the wall time of a single-puzzle solve goes: interpreter, imports, loading, solving.

One puzzle on the CPU runs on the NumPy copy of the model (no torch import); two or more run
on torch.

    python benchmarks/startup.py [--repeats 3]

Each figure is the median wall time of fresh processes, so it includes what a shell user waits for.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EASY = "003020600900305001001806400008102900700000008006708200002609500800203009005010300"


def wall(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=False, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    python = sys.executable
    load = (
        "from pathlib import Path; from rmdm_cli.checkpoint import {}; {}(Path('weights/sudoku.safetensors'), 'sudoku')"
    )
    solve = [python, "-m", "rmdm_cli", "solve", "sudoku", "--no-live"]
    rows = [
        ("python -c pass", [python, "-c", "pass"]),
        ("rmdm --help", [python, "-m", "rmdm_cli", "--help"]),
        ("load weights into the NumPy copy", [python, "-c", load.format("load_numpy_weights", "load_numpy_weights")]),
        ("import torch", [python, "-c", "import torch"]),
        ("import torch + load weights", [python, "-c", load.format("load_weights", "load_weights")]),
        ("rmdm solve sudoku EASY (the defaults: search; NumPy)", [*solve, EASY]),
        ("rmdm solve sudoku EASY --no-search (the stored settings)", [*solve, EASY, "--no-search"]),
        ("rmdm solve sudoku EASY --no-search --fixed", [*solve, EASY, "--no-search", "--fixed"]),
        ("rmdm solve sudoku EASY EASY (a batch of two; torch)", [*solve, EASY, EASY]),
    ]
    for name, command in rows:
        print(f"{name:58s} {wall(command, args.repeats):6.2f} s")


if __name__ == "__main__":
    main()
