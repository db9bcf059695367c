"""The TV game: the verified search against a plain exhaustive solver on the same games, and
the model alone. Every answer is judged by the game's rules (countdown_game.answer_error).

    python benchmarks/countdown_game.py [--games 200] [--seed 1] [--single 50] [--weights W] [--threads 1]

The games are `rmdm generate countdown-game --seed SEED` draws, held out from training. The
plain solver is written here as anyone would write one: for each subset of the numbers, every
value it makes with an expression for it, built from each split of the subset into two smaller
ones, then the value closest to the target, with no bound on intermediate results.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from pathlib import Path

from rmdm_cli.checkpoint import load_model
from rmdm_cli.settings import SamplerSettings, SearchSettings
from rmdm_cli.solving import solve_all
from rmdm_cli.tasks.countdown_game import SEARCH_NODES, CountdownGame, answer_error, best_answer


def plain_solve(numbers: list[int], target: int) -> tuple[int, str]:
    """(closest value, an expression for it) by building every subset's values from smaller subsets."""
    made: dict[int, dict[int, str]] = {1 << i: {n: str(n)} for i, n in enumerate(numbers)}
    for size in range(2, len(numbers) + 1):
        for members in itertools.combinations(range(len(numbers)), size):
            subset = sum(1 << i for i in members)
            values: dict[int, str] = {}
            part = (subset - 1) & subset
            while part:
                if part > subset ^ part:
                    for x, x_text in made[part].items():
                        for y, y_text in made[subset ^ part].items():
                            (a, a_text), (b, b_text) = sorted([(x, x_text), (y, y_text)], reverse=True)
                            options = [(a + b, "+"), (a - b, "-"), (a * b, "*")]
                            if a % b == 0:
                                options.append((a // b, "/"))
                            for value, op in options:
                                if value > 0 and value not in values:
                                    values[value] = f"({a_text}{op}{b_text})"
                part = (part - 1) & subset
            made[subset] = values
    value, text = min(
        ((v, t) for values in made.values() for v, t in values.items()), key=lambda item: abs(item[0] - target)
    )
    return value, text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--games", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--single", type=int, default=50, help="games solved one at a time, as `rmdm solve` does")
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    task = CountdownGame()
    games = [task.parse(text) for text in task.generate(args.games, args.seed)]
    best = [best_answer(game.numbers, game.target) for game in games]
    print(f"{len(games)} games (seed {args.seed}), {args.threads} thread(s)")
    print(f"exact answer exists: {100 * sum(answer.distance == 0 for answer in best) / len(games):.1f}%")

    started = time.perf_counter()
    plain = [plain_solve(list(game.numbers), game.target) for game in games]
    plain_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for game in games:
        best_answer(game.numbers, game.target)
    exhaustive_seconds = time.perf_counter() - started
    unbounded_better = sum(abs(value - game.target) < b.distance for (value, _), game, b in zip(plain, games, best))
    print(f"games whose best answer needs a result above 99,999: {unbounded_better}")

    model, header = load_model(task.name, args.weights, "cpu")
    search = SearchSettings().with_defaults(header["defaults"])
    started = time.perf_counter()
    answers = solve_all(model, task, games, search)
    search_seconds = time.perf_counter() - started
    right = sum(answer_error(game.numbers, game.target, answer.answer) is None for game, answer in zip(games, answers))
    nodes = statistics.mean(answer.nodes for answer in answers)
    missed = sum(b.distance == 0 and a.nodes >= SEARCH_NODES for a, b in zip(answers, best))
    calls = statistics.mean(answer.forward_passes for answer in answers) / search.depth

    numpy_model, _ = load_model(task.name, args.weights, "cpu", torch_free=True)
    alone = []
    for game in games[: args.single]:
        started = time.perf_counter()
        solve_all(numpy_model, task, [game], search)
        alone.append(time.perf_counter() - started)

    sampler = SamplerSettings().with_defaults(header["defaults"])
    model_only = solve_all(model, task, games, sampler)
    at_best = sum(answer.solved for answer in model_only)

    print("\n| solver | best answers | games/s | median s, one game alone | mean nodes | model calls a game |")
    print("|---|---|---|---|---|---|")
    print(f"| plain exhaustive (Python) | {len(games)}/{len(games)} | {len(games) / plain_seconds:.1f} | - | - | - |")
    exhaustive_rate = len(games) / exhaustive_seconds
    print(f"| rmdm's exhaustive solver alone | {len(games)}/{len(games)} | {exhaustive_rate:.1f} | - | - | - |")
    print(
        f"| search, depth {search.depth} | {right}/{len(games)} | {len(games) / search_seconds:.1f} |"
        f" {statistics.median(alone):.4f} | {nodes:.1f} | {calls:.2f} |"
    )
    exact = sum(b.distance == 0 for b in best)
    print(
        f"\nof the {exact} games with an exact answer, the search's model-guided part found {exact - missed}"
        f" within {SEARCH_NODES} commitments; the exhaustive solver settled the rest and the {len(games) - exact}"
        " without one"
    )
    print(
        f"\nmodel alone (depth {sampler.depth}, steps {sampler.steps}): {at_best}/{len(games)}"
        f" ({100 * at_best / len(games):.1f}%) at the best distance"
    )


if __name__ == "__main__":
    main()
