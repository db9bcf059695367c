"""How hard Countdown problem sets are, by how many answers each problem has.

    python benchmarks/countdown_difficulty.py FILE... [--limit 200]

FILE is a benchmark file (JSON Lines) or `rmdm generate countdown` output. An answer is one
sequence of equations the exact solver's search can take (a pair of available numbers, the
larger first, one operator). A problem with many answers lets a model reach the target by
many plans; the benchmark's problems have few, so a generator whose problems have many
teaches an easier task than the one the benchmark measures (docs/training.md).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from pathlib import Path

from rmdm_cli.inputs import numbered_lines
from rmdm_cli.tasks.countdown import MAX_VALUE, OPS, Countdown, apply


def answer_count(pool: list[int], target: int) -> int:
    if len(pool) == 1:
        return int(pool[0] == target)
    count = 0
    for i, j in itertools.combinations(range(len(pool)), 2):
        rest = [value for index, value in enumerate(pool) if index not in (i, j)]
        for op in OPS:
            result = apply(max(pool[i], pool[j]), op, min(pool[i], pool[j]))
            if result is not None and result <= MAX_VALUE:  # the solver's bound: results fit the answer's 4 digits
                count += answer_count(rest + [result], target)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--limit", type=int, default=200, help="problems read from the start of each file")
    args = parser.parse_args()
    task = Countdown()
    for path in args.files:
        with path.open("rb") as handle:
            texts = itertools.islice(task.records(numbered_lines(handle)), args.limit)
            problems = [task.parse(text) for _, text in texts]
        counts = [answer_count(list(problem.numbers), problem.target) for problem in problems]
        few = sum(count <= 2 for count in counts) / len(counts)
        print(
            f"{path.name}: {len(counts)} problems, median {statistics.median(counts):g} answers, "
            f"{100 * few:.0f}% with at most 2, mean target {statistics.mean(p.target for p in problems):.1f}"
        )


if __name__ == "__main__":
    main()
