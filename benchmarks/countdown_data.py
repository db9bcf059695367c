"""Milliseconds of one core per Countdown training example, by how a drawn problem is judged
solvable: by the exact solver's search (which must exhaust every order of steps to say no) or
by `can_reach` (the values each subset of the numbers makes). Both keep the same problems and
the same canonical answers, since the answer is the search's first solution either way.

    python benchmarks/countdown_data.py [--count 300]
"""

from __future__ import annotations

import argparse
import random
import time

from rmdm_cli.tasks.countdown import TRAIN_NUMBERS, TRAIN_TARGETS, benchmark_targets, can_reach, solve_exact


def milliseconds_per_example(numbers: int, count: int, by_search: bool) -> float:
    rng = random.Random(numbers)
    excluded = benchmark_targets()
    targets = [target for target in range(TRAIN_TARGETS[0], TRAIN_TARGETS[1] + 1) if target not in excluded]
    start, made = time.perf_counter(), 0
    while made < count:
        drawn = [rng.randint(*TRAIN_NUMBERS) for _ in range(numbers)]
        target = rng.choice(targets)
        if by_search:
            made += solve_exact(drawn, target) is not None
        elif can_reach(drawn, target):
            solve_exact(drawn, target)  # the canonical answer
            made += 1
    return 1000 * (time.perf_counter() - start) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="solvable problems made per row")
    count = parser.parse_args().count
    print("| numbers | solvable by search, ms/example | by can_reach, ms/example | speed-up |")
    print("|---|---|---|---|")
    for numbers in (3, 4, 5):
        search, reach = (milliseconds_per_example(numbers, count, by_search) for by_search in (True, False))
        print(f"| {numbers} | {search:.2f} | {reach:.2f} | {search / reach:.1f}x |")


if __name__ == "__main__":
    main()
