"""Inference speed of the shipped Sudoku model on this CPU: one forward pass over a batch of
top95 puzzles under no_grad, inference_mode, bf16 autocast and torch.compile, and on the
NumPy copy of the model that `rmdm solve` uses for one puzzle on the CPU.

    python benchmarks/inference_speed.py [--threads 1] [--batch 95] [--depth 4]

Prints milliseconds per forward pass (median of --repeats after a warm-up) and the largest
difference in probabilities against the fp32 eager result.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the CLI sets it (rmdm_cli/cli.py)

import torch  # noqa: E402

from rmdm_cli.checkpoint import load_numpy_weights, load_weights  # noqa: E402
from rmdm_cli.tasks import get_task

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=95)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    task = get_task("sudoku")
    lines = [line.strip() for line in (ROOT / "data/sudoku/top95.txt").read_text().splitlines() if line.strip()]
    tokens = torch.tensor([task.encode(task.parse(line)) for line in lines[: args.batch]])
    model, _ = load_weights(ROOT / "weights/sudoku.safetensors", "sudoku")
    copy, _ = load_numpy_weights(ROOT / "weights/sudoku.safetensors", "sudoku")
    reference = None

    def numpy_copy(tokens: torch.Tensor, depth: int) -> torch.Tensor:
        x, h = copy.start(tokens.numpy())
        return torch.from_numpy(copy.advance(x, h, None, depth))

    def bf16():
        return torch.autocast("cpu", dtype=torch.bfloat16)

    variants = [
        ("no_grad, fp32", model, torch.no_grad, contextlib.nullcontext),
        ("inference_mode, fp32", model, torch.inference_mode, contextlib.nullcontext),
        ("inference_mode, bf16 autocast", model, torch.inference_mode, bf16),
        ("inference_mode, torch.compile", torch.compile(model), torch.inference_mode, contextlib.nullcontext),
        ("NumPy copy, fp32", numpy_copy, contextlib.nullcontext, contextlib.nullcontext),
    ]
    for name, network, grad_mode, precision in variants:
        try:
            with grad_mode(), precision():
                probs = network(tokens, args.depth).float().softmax(-1)  # warm-up (compiles)
                times = []
                for _ in range(args.repeats):
                    started = time.perf_counter()
                    network(tokens, args.depth)
                    times.append(time.perf_counter() - started)
        except Exception as error:  # torch.compile needs a working C++ toolchain
            print(f"{name:32s} failed: {type(error).__name__}: {str(error).splitlines()[0][:100]}")
            continue
        reference = probs if reference is None else reference
        print(
            f"{name:32s} {1000 * statistics.median(times):8.1f} ms/forward "
            f"  max |Δp| {float((probs - reference).abs().max()):.4f}"
        )


if __name__ == "__main__":
    main()
