"""Training throughput: examples/s for each deep-supervision setting, with and without bf16
autocast, on the CPU or a CUDA GPU.

    python benchmarks/train_speed.py [--threads 1]
    python benchmarks/train_speed.py --device cuda --batch-size 1024

Sudoku, d=128, 2 layers; timed over --repeats optimizer steps after two warm-up steps, batches
made up front so only the model's work is timed.
"""

from __future__ import annotations

import argparse
import time

import torch

from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.tasks import get_task
from rmdm_cli.train import TrainConfig, supervised_loss, training_example


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    task = get_task("sudoku")
    data = task.training_data(task.DataOptions(pool_size=200), seed=0)
    settings = [(4, 1, False), (4, 4, False), (8, 1, False), (8, 2, False), (8, 8, False), (4, 1, True)]
    if device.type == "cuda":  # bf16 with full backpropagation too: minutes per setting on the CPU
        settings += [(4, 4, True), (8, 8, True)]
    for depth, grad_iterations, bf16 in settings:
        config = TrainConfig(depth=depth, grad_iterations=grad_iterations, batch_size=args.batch_size)
        model = RecursiveDenoiser(config.model_config(task)).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        examples = [
            [
                item.to(device) if isinstance(item, torch.Tensor) else item
                for item in training_example(data, task.mask_token, config, step)
            ]
            for step in range(2 + args.repeats)
        ]

        def step(example) -> None:
            inputs, targets, masked, depth = example
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                loss = supervised_loss(model, inputs, targets, masked, depth, grad_iterations)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # waits for the GPU

        for example in examples[:2]:
            step(example)
        started = time.perf_counter()
        for example in examples[2:]:
            step(example)
        seconds = (time.perf_counter() - started) / args.repeats
        print(
            (
                f"depth {depth} grad_iterations {grad_iterations} bf16 {bf16!s:5}: "
                f"{1000 * seconds:7.1f} ms/step, {config.batch_size / seconds:8.0f} examples/s"
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
