"""Training throughput on this CPU: examples/s for each deep-supervision setting, with and
without bf16 autocast.

    python benchmarks/train_speed.py [--threads 1]

Sudoku, d=128, 2 layers, batch 128; timed over 5 optimizer steps after one warm-up step.
"""

from __future__ import annotations

import argparse
import time

import torch

from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.tasks import get_task
from rmdm_cli.train import TrainConfig, mask_batch, supervised_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    task = get_task("sudoku")
    task.prepare_training(seed=0, pool_size=200)
    generator = torch.Generator().manual_seed(0)
    for depth, grad_iterations, bf16 in [(4, 1, False), (4, 4, False), (8, 1, False), (8, 2, False), (8, 8, False), (4, 1, True)]:
        config = TrainConfig(depth=depth, grad_iterations=grad_iterations)
        model = RecursiveDenoiser(config.model_config(task))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

        def step() -> None:
            targets, maskable = task.training_batch(config.batch_size, generator)
            inputs, masked = mask_batch(targets, maskable, config, task.mask_token, generator)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = supervised_loss(model, inputs, targets, masked, depth, grad_iterations)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        step()
        started = time.perf_counter()
        for _ in range(args.repeats):
            step()
        seconds = (time.perf_counter() - started) / args.repeats
        print(f"depth {depth} grad_iterations {grad_iterations} bf16 {bf16!s:5}: {1000 * seconds:6.0f} ms/step, {config.batch_size / seconds:5.0f} examples/s", flush=True)


if __name__ == "__main__":
    main()
