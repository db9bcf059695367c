"""Training examples/s of the shipped Sudoku recipe on this machine's cores: one process with
one thread, one process with two threads, and two torchrun ranks with one thread each.

    python benchmarks/train_parallel.py [--steps 40]

Each run trains a fresh model for --steps steps (batches of 128, depth 4, loss on all 4
iterations) and reads the training time from the weights it writes, so data making and
start-up are left out.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RECIPE = ["--depth", "4", "--grad-iterations", "4", "--batch-size", "128", "--pool-size", "2000", "--eval-count", "0"]


def examples_per_second(folder: Path, name: str, launcher: list[str], threads: int, steps: int) -> float:
    from safetensors import safe_open

    out = folder / f"{name}.safetensors"
    command = [*launcher, "-m", "rmdm_cli", "train", "sudoku", *RECIPE, "--train-steps", str(steps),
               "--threads", str(threads), "--out", str(out), "--state", str(folder / f"{name}.pt")]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    with safe_open(str(out), framework="numpy") as handle:
        training = json.loads(handle.metadata()["rmdm"])["training"]
    return training["examples"] / training["train_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    settings = [("1 process x 1 thread", [sys.executable], 1), ("1 process x 2 threads", [sys.executable], 2),
                ("2 ranks x 1 thread (torchrun)", torchrun, 1)]  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        for index, (name, launcher, threads) in enumerate(settings):
            rate = examples_per_second(Path(folder), f"run{index}", launcher, threads, args.steps)
            print(f"{name:32s} {rate:7.1f} examples/s", flush=True)


if __name__ == "__main__":
    main()
