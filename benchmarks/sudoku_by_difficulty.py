"""The Sudoku model alone, set by set and by difficulty: solved % of each weights file at its
stored defaults (as `rmdm eval sudoku --no-search` runs it) on each puzzle file, and over all
the files by the guesses a solver that propagates naked and hidden singles needs
(`rule_guesses`, the rating `rmdm generate sudoku --guesses` filters by).

    python benchmarks/sudoku_by_difficulty.py --weights A.safetensors [--weights B ...] FILE... [--limit N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from rmdm_cli.checkpoint import load_model
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SamplerSettings
from rmdm_cli.solving import solve_all
from rmdm_cli.tasks import get_task
from rmdm_cli.tasks.sudoku import rule_guesses

BUCKETS = ((0, 0), (1, 9), (10, 39), (40, None))  # rule guesses, inclusive; None: no upper bound


def bucket_name(low: int, high: int | None) -> str:
    return f"{low}+" if high is None else str(low) if low == high else f"{low}-{high}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--weights", type=Path, action="append", required=True)
    parser.add_argument("--limit", type=int, help="puzzles read from the start of each file")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    task = get_task("sudoku")
    sets = {path.name: read_puzzle_file(task, path, args.limit, Console(stderr=True)) for path in args.files}
    rating = {name: [rule_guesses(puzzle) for puzzle in puzzles] for name, puzzles in sets.items()}
    columns = list(sets) + [f"{bucket_name(*bucket)} guesses" for bucket in BUCKETS]
    counts = [len(puzzles) for puzzles in sets.values()] + [
        sum(low <= g and (high is None or g <= high) for guesses in rating.values() for g in guesses)
        for low, high in BUCKETS
    ]
    print("| weights | " + " | ".join(f"{column} ({count})" for column, count in zip(columns, counts)) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for weights in args.weights:
        model, header = load_model("sudoku", weights, "cpu")
        settings = SamplerSettings().with_defaults(header["defaults"])
        solved_by_set, per_bucket = [], [[0, 0] for _ in BUCKETS]
        for name, puzzles in sets.items():
            answers = solve_all(model, task, puzzles, settings)
            solved_by_set.append(sum(answer.solved for answer in answers) / len(puzzles))
            for guesses, answer in zip(rating[name], answers):
                for index, (low, high) in enumerate(BUCKETS):
                    if low <= guesses and (high is None or guesses <= high):
                        per_bucket[index][0] += answer.solved
                        per_bucket[index][1] += 1
        cells = [f"{100 * share:.1f}" for share in solved_by_set]
        cells += [f"{100 * solved / total:.1f}" if total else "-" for solved, total in per_bucket]
        print(f"| {weights} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
