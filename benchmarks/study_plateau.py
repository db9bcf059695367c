"""How quickly a small Sudoku cell of the scaling study leaves the initial loss plateau under
a training recipe: blank-cell accuracy in one pass and solved % as training goes on.

    python benchmarks/study_plateau.py                                  # the study's masks (5-50% open)
    python benchmarks/study_plateau.py --mask-min 0.1 --mask-max 0.85   # the shipped Sudoku masks

Trains a width-64, 2-block cell (depth 1 unless --depth) for --steps steps of 64 on one thread,
from 2,000 generated grids, and every --every steps prints, on the first 150 puzzles of the
study's held-out set (45-55 clues), the share of blanks whose one-pass argmax is right and the
solved % (the rules checker's) with one cell committed per step.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.settings import SamplerSettings
from rmdm_cli.solving import measure
from rmdm_cli.study import EVAL_SEED, EVAL_SETS, STUDY_RECIPE
from rmdm_cli.tasks import get_task
from rmdm_cli.tasks.sudoku import parse_grid, solve_exact
from rmdm_cli.train import LossOfShare, TrainConfig, learning_rate, new_optimizer, optimizer_step, training_example


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
    config = TrainConfig(
        width=args.width,
        depth=args.depth,
        grad_iterations=args.depth,
        batch_size=64,
        train_steps=args.steps,
        warmup_steps=args.steps // 10,
        lr=args.lr,
        mask_min=args.mask_min,
        mask_max=args.mask_max,
        data={"pool_size": 2000},
        threads=1,
    )
    task = get_task("sudoku")
    puzzles = np.array(
        [parse_grid(text) for text in task.generate(150, EVAL_SEED, task.GenerateOptions(**EVAL_SETS["sudoku"]))]
    )  # (P, 81)
    solutions = np.array([solve_exact(row)[0] for row in puzzles.tolist()])
    blank = puzzles == task.mask_token

    torch.manual_seed(config.seed)
    model = RecursiveDenoiser(config.model_config(task))
    optimizer = new_optimizer(model, config)
    data = task.training_data(config.data_options(task), config.seed)
    decoding = SamplerSettings(config.depth, int(blank.sum(1).max()))  # one cell committed per step
    started = time.monotonic()
    for step in range(1, config.train_steps + 1):
        optimizer_step(
            LossOfShare(model, 1),
            optimizer,
            config,
            training_example(data, task.mask_token, config, step - 1),
            learning_rate(config, step - 1),
        )
        if step % args.every:
            continue
        model.eval()
        with torch.no_grad():
            guess = model(torch.as_tensor(puzzles), config.depth)[..., 1:].argmax(-1).numpy() + 1  # (P, 81) digits
        solved_pct = measure(model, task, puzzles.tolist(), decoding)["solved_pct"]
        model.train()
        print(
            json.dumps(
                {
                    "step": step,
                    "examples": step * config.batch_size,
                    "minutes": round((time.monotonic() - started) / 60, 1),
                    "blank_accuracy": round(float((guess == solutions)[blank].mean()), 3),
                    "solved_pct": solved_pct,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
