"""The verified search against a classical solver, in one run on the same puzzles: puzzles/s,
nodes (the search's commitments, the classical solver's guesses) and model calls per puzzle,
for the model-guided search at each depth and patience asked for (the rule guesses it makes
before it asks the model), the same search on uniform predictions (the rules alone), and
benchmarks/classical_sudoku.py. Every answer is checked. Each solver goes over the whole set
--repeat times (default: until about 200 puzzles are solved), one pass after the other, so a
set of a few puzzles is timed over more than a few milliseconds without batching its copies.

    python benchmarks/search_speed.py FILE... [--limit N] [--depths 1,2,4,12] [--patience 0,15]
        [--steps S] [--repeat R] [--threads 1]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from pathlib import Path

from classical_sudoku import solve_text
from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SearchSettings
from rmdm_cli.solving import solve_all
from rmdm_cli.tasks import get_task


def row(cells: list, solved: int, count: int, nodes: list[int], seconds: float) -> str:
    cells = [*cells[:-1], f"{100 * solved / count:.1f}", f"{statistics.mean(nodes):.1f}", cells[-1]]
    return "| " + " | ".join(map(str, cells + [f"{count / seconds:.1f}"])) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--depths", help="comma-separated depths of the model's calls (default: the weights')")
    parser.add_argument("--patience", help="comma-separated rule guesses before the model is asked (default: task)")
    parser.add_argument("--steps", type=int, help="the search's steps (default: the weights')")
    parser.add_argument("--repeat", type=int, help="passes over each set (default: about 200 puzzles' worth)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s)")
    depths = [int(value) for value in args.depths.split(",")] if args.depths else None
    patience = [int(value) for value in args.patience.split(",")] if args.patience else None
    compare(args.files, args.limit, depths, patience, args.steps, args.repeat, args.weights)


def compare(
    files: list[Path],
    limit: int | None = None,
    depths: list[int] | None = None,
    patience: list[int] | None = None,
    steps: int | None = None,
    repeat: int | None = None,
    weights: Path | None = None,
) -> None:
    """The tables, one a file: the search at each depth (default: the weights') and patience
    (default: the task's), the rules alone, the classical solver."""
    task = get_task("sudoku")
    model, header = load_model("sudoku", weights, "cpu")
    searched = SearchSettings(steps=steps).with_defaults(header["defaults"])
    depths = depths or [searched.depth]
    patience = patience or [task.search_patience]
    print(f"search steps {searched.steps}")
    for path in files:
        puzzles = read_puzzle_file(task, path, limit, Console(stderr=True))
        passes = repeat or max(1, math.ceil(200 / len(puzzles)))
        print(f"\n{path.name}, {len(puzzles)} puzzles, {passes} pass(es)\n")
        print("| solver | depth | patience | solved % | mean nodes | model calls a puzzle | puzzles/s |")
        print("|---|---|---|---|---|---|---|")
        runs = [("search, model-guided", False, d, p) for d in depths for p in patience]
        for name, uniform, depth, rule_guesses in [*runs, ("search, rules alone", True, 1, 0)]:
            task.search_patience = rule_guesses
            decoding = SearchSettings(depth, searched.steps, searched.budget, uniform)
            started = time.perf_counter()
            for _ in range(passes):
                answers = solve_all(model, task, puzzles, decoding)
            seconds = (time.perf_counter() - started) / passes
            solved = sum(task.check(puzzle, answer.answer) for puzzle, answer in zip(puzzles, answers))
            calls = "-" if uniform else f"{statistics.mean(a.forward_passes for a in answers) / depth:.2f}"
            cells = [name, "-", "-", calls] if uniform else [name, depth, rule_guesses, calls]
            print(row(cells, solved, len(puzzles), [a.nodes for a in answers], seconds))
        texts = [task.format_puzzle(puzzle) for puzzle in puzzles]
        started = time.perf_counter()
        for _ in range(passes):
            guesses, found = [], []
            for text in texts:
                counter = [0]
                found.append(solve_text(text, counter))
                guesses.append(counter[0])
        seconds = (time.perf_counter() - started) / passes
        solved = sum(task.check(puzzle, answer or "") for puzzle, answer in zip(puzzles, found))
        print(row(["classical (benchmarks/classical_sudoku.py)", "-", "-", "-"], solved, len(texts), guesses, seconds))


if __name__ == "__main__":
    main()
