"""How hard generated minimal Sudoku puzzles are for the rules, and what a hard one costs to
make: the guesses `rule_guesses` counts (the rating `rmdm generate sudoku --guesses` filters
by) over N fresh minimal puzzles, with the seconds each took to make and rate; the same rating
for puzzle files, for comparison.

    python benchmarks/sudoku_difficulty.py [--count 300] [--seed 7] [FILE...]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from rmdm_cli.tasks.sudoku import make_puzzle, parse_grid, rule_guesses


def describe(name: str, guesses: list[int]) -> str:
    hard = sum(g >= 10 for g in guesses) / len(guesses)
    return (
        f"{name}: {len(guesses)} puzzles, median {statistics.median(guesses):g} guesses, "
        f"mean {statistics.mean(guesses):.1f}, {100 * hard:.1f}% need 10 or more"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(f"sudoku-difficulty-{args.seed}")  # a stream neither training nor generate uses
    guesses, started = [], time.perf_counter()
    for _ in range(args.count):
        guesses.append(rule_guesses(make_puzzle(rng, 17, 17)[0]))
    seconds = time.perf_counter() - started
    hard = sum(g >= 10 for g in guesses)
    print(describe("generated minimal", guesses))
    print(f"  {seconds / args.count:.3f} s a puzzle made and rated; {seconds / max(1, hard):.2f} s a hard one (10+)")
    for path in args.files:
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        print(describe(path.name, [rule_guesses(parse_grid(line)) for line in lines]))


if __name__ == "__main__":
    main()
