"""How well rmdm uses the CPU, in one run, as ratios to what the same threads can do: the fp32
matmul peak (1024 x 1024), training of the shipped Sudoku shape (examples/s, GFLOP/s counted
from the config, share of the peak), inference of a batch of 256 at depth 12 the same way, and
the verified search beside the classical solver on top95 and hardest.

    python benchmarks/cpu_use.py [--threads 1] [--compile-blocks] [--skip-search]

FLOPs count the matmuls (ModelConfig.forward_flops): per token and block 24 d^2 (qkv,
projection, MLP) plus 4 T d (attention scores and values), per token and supervised iteration
2 d V (the head); a backward pass costs twice its forward.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from rmdm_cli.checkpoint import load_weights
from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.tasks import get_task
from rmdm_cli.train import LossOfShare, TrainConfig, new_optimizer, optimizer_step, training_example

ROOT = Path(__file__).resolve().parent.parent


def matmul_peak(repeats: int = 50) -> float:
    """GFLOP/s of a 1024 x 1024 fp32 matmul on this process's threads, its fastest of `repeats`
    (a virtual machine's neighbours slow some)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - started)
    return 2 * 1024**3 / min(times) / 1e9


def training_speed(steps: int, compile_blocks: bool) -> tuple[float, float]:
    """(examples/s, GFLOP/s) of the shipped shape: width 128, 2 blocks, depth 4, loss on all 4
    iterations, batch 128; with `compile_blocks` each block through torch.compile (inductor)."""
    task = get_task("sudoku")
    config = TrainConfig(depth=4, grad_iterations=4, batch_size=128)
    data = task.training_data(task.DataOptions(pool_size=200), seed=0)
    model = RecursiveDenoiser(config.model_config(task))
    if compile_blocks:
        for block in model.blocks:
            block.compile()
    optimizer = new_optimizer(model, config)
    step_loss = LossOfShare(model, 1)
    examples = [training_example(data, task.mask_token, config, step) for step in range(steps + 3)]
    for example in examples[:3]:  # warm-up (and compilation)
        optimizer_step(step_loss, optimizer, config, example, 1e-4)
    started = time.perf_counter()
    for example in examples[3:]:
        optimizer_step(step_loss, optimizer, config, example, 1e-4)
    rate = steps * config.batch_size / (time.perf_counter() - started)
    flops = 3 * model.config.forward_flops(config.depth, config.grad_iterations)
    return rate, rate * flops / 1e9


def inference_speed(repeats: int) -> tuple[float, float]:
    """(puzzles/s, GFLOP/s) of the shipped Sudoku model on 256 puzzles at depth 12."""
    task = get_task("sudoku")
    model, _ = load_weights(ROOT / "weights" / "sudoku.safetensors", "sudoku")
    text = (ROOT / "data" / "sudoku" / "17clue-1000.txt").read_text()
    lines = [line for line in text.split("\n") if line and not line.startswith("#")][:256]
    tokens = torch.tensor([task.encode(task.parse(line)) for line in lines])
    depth = 12
    with torch.inference_mode():
        model(tokens, depth)
        started = time.perf_counter()
        for _ in range(repeats):
            model(tokens, depth)
    rate = repeats * len(lines) / (time.perf_counter() - started)
    return rate, rate * model.config.forward_flops(depth) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    parser.add_argument("--compile-blocks", action="store_true", help="time training with compiled blocks")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    before = matmul_peak()
    training = training_speed(args.steps, args.compile_blocks)
    inference = inference_speed(3)
    after = matmul_peak()
    peak = max(before, after)
    print(f"{args.threads} thread(s): fp32 matmul peak {peak:.1f} GFLOP/s (before {before:.1f}, after {after:.1f})")
    for name, (rate, achieved), unit in (("training", training, "examples"), ("inference", inference, "puzzles")):
        print(f"{name}: {rate:.1f} {unit}/s, {achieved:.1f} GFLOP/s, {100 * achieved / peak:.0f}% of the peak")
    if not args.skip_search:
        from search_speed import compare

        compare([ROOT / "data/sudoku/top95.txt", ROOT / "data/sudoku/hardest.txt"])


if __name__ == "__main__":
    main()
