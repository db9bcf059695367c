"""How quickly a small Sudoku cell of the scaling study leaves the initial loss plateau under
a training recipe: blank-cell accuracy in one pass and solved % as training goes on.

    python benchmarks/study_plateau.py                                  # the study's masks (5-50% open)
    python benchmarks/study_plateau.py --mask-min 0.1 --mask-max 0.85   # the shipped Sudoku masks

Trains a width-64, 2-block cell (depth 1 unless --depth) for --steps steps of 64 on one thread,
from 2,000 generated grids, and every --every steps prints, on the first 150 puzzles of the
study's held-out set (45-55 clues), the share of blanks whose one-pass argmax is right and the
solved % with one cell committed per step.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.sampler import unmask
from rmdm_cli.study import EVAL_SEED, EVAL_SETS, STUDY_RECIPE
from rmdm_cli.tasks import get_task
from rmdm_cli.tasks.sudoku import parse_grid, solve_exact
from rmdm_cli.train import TrainConfig, learning_rate, mask_batch, supervised_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=1, help="trained recursion depth (loss on every iteration)")
    parser.add_argument("--mask-min", type=float, default=STUDY_RECIPE["sudoku"]["mask_min"])
    parser.add_argument("--mask-max", type=float, default=STUDY_RECIPE["sudoku"]["mask_max"])
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--every", type=int, default=250)
    args = parser.parse_args()

    torch.set_num_threads(1)
    config = TrainConfig(width=args.width, depth=args.depth, grad_iterations=args.depth, batch_size=64, train_steps=args.steps,
                         warmup_steps=args.steps // 10, lr=args.lr, mask_min=args.mask_min, mask_max=args.mask_max, threads=1)
    task = get_task("sudoku")
    puzzles = np.array([parse_grid(text) for text in task.generate(150, seed=EVAL_SEED, **EVAL_SETS["sudoku"])])  # (P, 81)
    solutions = np.array([solve_exact(row)[0] for row in puzzles.tolist()])
    blank = puzzles == task.mask_token

    torch.manual_seed(config.seed)
    model = RecursiveDenoiser(config.model_config(task))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.95))
    generator = torch.Generator().manual_seed(config.seed)
    task.prepare_training(config.seed, 2000)
    started = time.monotonic()
    for step in range(1, config.train_steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step - 1)
        targets, maskable = task.training_batch(config.batch_size, generator)
        inputs, masked = mask_batch(targets, maskable, config, task.mask_token, generator)
        loss = supervised_loss(model, inputs, targets, masked, config.depth, config.grad_iterations)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if step % args.every:
            continue
        model.eval()
        with torch.no_grad():
            guess = model(torch.as_tensor(puzzles), config.depth)[..., 1:].argmax(-1).numpy() + 1  # (P, 81) digits
        *_, final = unmask(model, puzzles, int(blank.sum(1).max()), config.depth)
        model.train()
        print(json.dumps({
            "step": step, "examples": step * config.batch_size, "minutes": round((time.monotonic() - started) / 60, 1),
            "blank_accuracy": round(float((guess == solutions)[blank].mean()), 3),
            "solved_pct": round(100 * float((final.tokens == solutions).all(1).mean()), 1),
        }), flush=True)


if __name__ == "__main__":
    main()
