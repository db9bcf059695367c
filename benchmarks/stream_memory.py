"""Peak memory and time to first answer of `rmdm solve sudoku` on a large input file.

    python benchmarks/stream_memory.py --lines 100000

Writes a file of easy50 puzzles repeated to --lines lines, solves it with a tiny random-weight
model at one step and depth 1 (the model is not what is measured: the input/output path is),
and prints the peak RSS of the solving process, the seconds until its first answer line and
the total seconds, for the given size and for 1/10 of it. Bounded memory shows as a peak
RSS that does not grow with the input.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(puzzles: Path, weights: Path) -> tuple[float, float, float]:
    command = [
        sys.executable,
        "-m",
        "rmdm_cli",
        "solve",
        "sudoku",
        str(puzzles),
        "--weights",
        str(weights),
        "--steps",
        "1",
        "--depth",
        "1",
    ]
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    first = None
    for _ in process.stdout:
        first = first or time.perf_counter() - started
    process.wait()
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(peak_kib, before) / 1024, first or float("nan"), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import torch

    from rmdm_cli.checkpoint import save_weights
    from rmdm_cli.model import ModelConfig, RecursiveDenoiser
    from rmdm_cli.tasks.sudoku import Sudoku

    easy = [line.strip() for line in (ROOT / "data/sudoku/easy50.txt").read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as folder:
        weights = Path(folder) / "tiny.safetensors"
        torch.manual_seed(0)
        model = RecursiveDenoiser(
            ModelConfig(10, 81, width=16, heads=2, n_layers=1, depth=1, position_groups=Sudoku.position_groups)
        )
        save_weights(weights, model, "sudoku", {}, {"depth": 1, "steps": 1})
        # Smaller run first: RUSAGE_CHILDREN keeps the largest peak seen so far.
        for lines in (args.lines // 10, args.lines):
            puzzles = Path(folder) / f"{lines}.txt"
            puzzles.write_text("".join(easy[i % len(easy)] + "\n" for i in range(lines)))
            peak_mib, first_s, total_s = measure(puzzles, weights)
            print(
                (
                    f"{lines:>7} lines: peak RSS {peak_mib:6.0f} MiB, first "
                    f"answer after {first_s:5.2f} s, all {total_s:6.1f} s"
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
