"""The verified search against a classical solver, in one run on the same puzzles: puzzles/s,
nodes (the search's commitments, the classical solver's guesses) and model calls per puzzle,
for the model-guided search at each depth asked for, the same search on uniform predictions
(the rules alone), and benchmarks/classical_sudoku.py. Every answer is checked.

    python benchmarks/search_speed.py FILE... [--limit N] [--depths 1,2,4,12] [--steps S] [--threads 1]
"""

from __future__ import annotations

import argparse
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


def row(name: str, depth, solved: int, count: int, nodes: list[int], calls, seconds: float) -> str:
    cells = [name, depth, f"{100 * solved / count:.1f}", f"{statistics.mean(nodes):.1f}", calls]
    return "| " + " | ".join(map(str, cells + [f"{count / seconds:.1f}"])) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--depths", help="comma-separated depths of the model's calls (default: the weights')")
    parser.add_argument("--steps", type=int, help="the search's steps (default: the weights')")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--weights", type=Path)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    print(f"{args.threads} thread(s)")
    depths = [int(value) for value in args.depths.split(",")] if args.depths else None
    compare(args.files, args.limit, depths, args.steps, args.weights)


def compare(files: list[Path], limit: int | None, depths: list[int] | None, steps: int | None, weights) -> None:
    """The tables, one a file: the search at each depth (default: the weights'), the rules
    alone, the classical solver."""
    task = get_task("sudoku")
    model, header = load_model("sudoku", weights, "cpu")
    searched = SearchSettings(steps=steps).with_defaults(header["defaults"])
    depths = depths or [searched.depth]
    print(f"search steps {searched.steps}")
    for path in files:
        puzzles = read_puzzle_file(task, path, limit, Console(stderr=True))
        print(f"\n{path.name}, {len(puzzles)} puzzles\n")
        print("| solver | depth | solved % | mean nodes | model calls a puzzle | puzzles/s |")
        print("|---|---|---|---|---|---|")
        for name, uniform, depth in [
            *(("search, model-guided", False, d) for d in depths),
            ("search, rules alone", True, 1),
        ]:
            decoding = SearchSettings(depth, searched.steps, searched.budget, uniform)
            started = time.perf_counter()
            answers = solve_all(model, task, puzzles, decoding)
            seconds = time.perf_counter() - started
            solved = sum(task.check(puzzle, answer.answer) for puzzle, answer in zip(puzzles, answers))
            calls = "-" if uniform else f"{statistics.mean(a.forward_passes for a in answers) / depth:.2f}"
            print(
                row(name, "-" if uniform else depth, solved, len(puzzles), [a.nodes for a in answers], calls, seconds)
            )
        texts = [task.format_puzzle(puzzle) for puzzle in puzzles]
        started = time.perf_counter()
        guesses, found = [], []
        for text in texts:
            counter = [0]
            found.append(solve_text(text, counter))
            guesses.append(counter[0])
        seconds = time.perf_counter() - started
        solved = sum(task.check(puzzle, answer or "") for puzzle, answer in zip(puzzles, found))
        print(row("classical (benchmarks/classical_sudoku.py)", "-", solved, len(texts), guesses, "-", seconds))


if __name__ == "__main__":
    main()
