"""What the model is worth to the verified search: the same search with the model's predictions
and with uniform ones (the rules alone), and the project's exact solver, on the same puzzles in
one run: solved %, commitments tried (nodes), forward passes and puzzles/s. With `--steps`,
the model-guided search at each of those steps (how often it asks the model), for the trade of
forward passes against nodes.

    python benchmarks/search_worth.py TASK FILE... [--limit N] [--weights W] [--steps 1,2,4,8]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SearchSettings
from rmdm_cli.solving import solve_batch
from rmdm_cli.tasks import get_task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--steps", help="comma-separated steps for the model-guided search (default: the task's)")
    args = parser.parse_args()
    task = get_task(args.task)
    model, header = load_model(args.task, args.weights, "cpu")
    searched = SearchSettings().with_defaults(header["defaults"])
    steps = [int(value) for value in args.steps.split(",")] if args.steps else [searched.steps]
    print("| set | puzzles | search | solved % | mean nodes | median nodes | mean forward passes | puzzles/s |")
    print("|---|---|---|---|---|---|---|---|")
    for path in args.files:
        puzzles = read_puzzle_file(task, path, args.limit, Console(stderr=True))
        settings = [(f"model-guided, steps {value}", replace(searched, steps=value)) for value in steps]
        for name, decoding in [*settings, ("rules alone", replace(searched, uniform=True))]:
            started = time.perf_counter()
            answers = []
            for start in range(0, len(puzzles), 256):
                answers += solve_batch(model, task, puzzles[start : start + 256], decoding)
            seconds = time.perf_counter() - started
            nodes = [answer.nodes for answer in answers]
            passes = [answer.forward_passes for answer in answers]
            solved = 100 * sum(answer.solved for answer in answers) / len(answers)
            row = [path.name, len(puzzles), name, f"{solved:.1f}", f"{statistics.mean(nodes):.1f}"]
            row += [
                f"{statistics.median(nodes):.0f}",
                f"{statistics.mean(passes):.1f}",
                f"{len(puzzles) / seconds:.1f}",
            ]
            print("| " + " | ".join(map(str, row)) + " |", flush=True)
        counts, solved = [], 0
        started = time.perf_counter()
        for puzzle in puzzles:
            nodes = [0]
            solved += task.check(puzzle, task.exact_answer(puzzle, nodes) or "")
            counts.append(nodes[0])
        seconds = time.perf_counter() - started
        row = [path.name, len(puzzles), "exact solver", f"{100 * solved / len(puzzles):.1f}"]
        row += [
            f"{statistics.mean(counts):.1f}",
            f"{statistics.median(counts):.0f}",
            "–",
            f"{len(puzzles) / seconds:.1f}",
        ]
        print("| " + " | ".join(map(str, row)) + " |", flush=True)


if __name__ == "__main__":
    main()
