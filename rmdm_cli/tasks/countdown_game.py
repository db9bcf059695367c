"""The TV show's numbers game: its rules, an exact solver and the show's draws.

Six numbers (on the show: a choice of 0-4 from 25, 50, 75, 100, the rest from two each of
1-10) and a target (101-999). Any subset of the numbers, each used at most once, is combined
with + - * / into the target, every intermediate result a positive whole number (here at most
99,999, a bound that changes no benchmark draw's best answer: docs/countdown-game.md); when
no combination reaches it, the closest value any combination reaches wins. An answer is its
equations, comma-separated (`75*6=450,450+2=452`), or a number alone when that number is
already the best there is.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rmdm_cli.tasks.base import NoOptions, PuzzleError, TrainingData
from rmdm_cli.tasks.countdown import (
    EQUATION,
    MASK,
    NUMBER_REF,
    NUMBER_WIDTH,
    OPS,
    PAD,
    Countdown,
    Layout,
    NumbersAndTarget,
    Problem,
    answer_lost,
    broken_equations,
    digits,
    equation_parts,
    equations_view,
    order_by_model,
    parse_problem,
    replay,
    used_slots,
    write_equations,
)

if TYPE_CHECKING:
    import numpy as np
    import torch
    from rich.console import RenderableType

GAME_NUMBERS = 6  # numbers in a game on the show
LARGE = (25, 50, 75, 100)
SMALL = tuple(range(1, 11))  # two of each on the show
GAME_TARGETS = (101, 999)
MAX_VALUE = 99_999  # the largest intermediate result: the answer's result slots have 5 digits


def values_by_subset(numbers: Sequence[int], bound: int = MAX_VALUE, stop: int | None = None) -> list[set[int]]:
    """For every subset of the numbers (a bitmask of their indices), every value an expression
    using exactly those numbers makes, every intermediate result from 1 to `bound`. Every
    expression splits at its last operation into two expressions over disjoint subsets, so
    building each subset from every split of it into two smaller ones, in order of size (and of
    bitmask within a size), finds every value. With `stop`, building ends at the first subset
    that makes that value (later subsets stay empty)."""
    made: list[set[int]] = [set() for _ in range(1 << len(numbers))]
    for index, number in enumerate(numbers):
        made[1 << index] = {number}
    for subset in sorted(range(1, 1 << len(numbers)), key=int.bit_count):
        if subset.bit_count() < 2:
            if stop in made[subset]:
                return made
            continue
        here = made[subset]
        part = (subset - 1) & subset
        while part:
            other = subset ^ part
            if part > other:  # each split once
                xs, ys = made[part], made[other]
                here.update(x + y for x in xs for y in ys)
                here.update(x * y for x in xs for y in ys)
                here.update(abs(x - y) for x in xs for y in ys)
                here.update(x // y for x in xs for y in ys if x % y == 0)
                here.update(y // x for x in xs for y in ys if y % x == 0)
            part = (part - 1) & subset
        here.discard(0)
        made[subset] = {value for value in here if value <= bound}
        if stop in made[subset]:
            return made
    return made


def recipe(made: list[set[int]], subset: int, value: int) -> tuple[int, int, str, int, int] | None:
    """How `subset` makes `value`: None for a given number, else (left subset, left value,
    operator, right subset, right value), the left value the larger; the first split in order of
    bitmask, and in it the smallest left-hand value, that makes it."""
    if subset.bit_count() == 1:
        return None
    part = (subset - 1) & subset
    while part:
        other = subset ^ part
        for x in sorted(made[part]):
            ys = made[other]
            for y, a, op, b in (
                (value - x, None, "+", None),
                (x - value, x, "-", None),
                (x + value, None, "-", x),
                (value // x if value % x == 0 else 0, None, "*", None),
                (x // value if x % value == 0 else 0, x, "/", None),
                (x * value, None, "/", x),
            ):
                if y in ys:
                    if op in "+*":
                        (a, sa), (b, sb) = sorted([(x, part), (y, other)], reverse=True)
                        return sa, a, op, sb, b
                    return (part, x, op, other, y) if a == x else (other, y, op, part, x)
        part = (part - 1) & subset
    raise ValueError(f"{value} is not made by subset {subset:b}")


@dataclass(frozen=True)
class GameAnswer:
    equations: tuple[str, ...]  # in the order they are worked out; empty when one given number is the answer
    value: int  # what the answer makes
    target: int

    @property
    def distance(self) -> int:
        return abs(self.value - self.target)

    @property
    def text(self) -> str:
        return ",".join(self.equations) if self.equations else str(self.value)


def best_answer(numbers: Sequence[int], target: int, bound: int = MAX_VALUE) -> GameAnswer:
    """The canonical answer: the value closest to the target (the target itself when it can be
    made), made with the fewest numbers, from the first such subset in order of size and then of
    bitmask (within it the smaller of two values as close), by `recipe`'s choice at every step."""
    made = values_by_subset(numbers, bound, stop=target)
    best = None  # (distance, numbers used, subset, value)
    for subset in sorted(range(1, len(made)), key=int.bit_count):
        if target in made[subset]:  # the first subset to make it: building stopped there
            best = (0, subset.bit_count(), subset, target)
            break
        if made[subset]:
            value = min(made[subset], key=lambda value: (abs(value - target), value))
            if best is None or (abs(value - target), subset.bit_count()) < best[:2]:
                best = (abs(value - target), subset.bit_count(), subset, value)
    _, _, subset, value = best
    equations: list[str] = []

    def write(subset: int, value: int) -> None:
        if (how := recipe(made, subset, value)) is not None:
            left, a, op, right, b = how
            write(left, a)
            write(right, b)
            equations.append(f"{a}{op}{b}={value}")

    write(subset, value)
    return GameAnswer(tuple(equations), value, target)


def apply(a: int, op: str, b: int) -> int | None:
    """`a op b` under the game's rules (a positive whole number up to MAX_VALUE), or None where
    they forbid it."""
    value = {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b and a % b == 0 else 0}[op]
    return value if 0 < value <= MAX_VALUE else None


def answer_error(numbers: Sequence[int], target: int, answer: str) -> str | None:
    """Where an answer breaks the game's rules, or None when it is a best answer: every operand
    one of the numbers or an earlier result, each used once, the arithmetic right, and its
    value (the last result, or the one number given alone) as close to the target as any
    combination gets."""
    answer = answer.strip()
    if answer.isdigit():  # one number alone
        value = int(answer)
        if value not in numbers:
            return f"{value} is not one of the numbers"
    else:
        error, value = replay(
            numbers, answer.split(","), apply, f"the result is not a whole number from 1 to {MAX_VALUE:,}"
        )
        if error:
            return error
    if value == target:
        return None
    best = best_answer(numbers, target)
    if abs(value - target) > best.distance:
        return f"makes {value}, {abs(value - target)} away; {best.value} is {best.distance} away"
    return None


def show_draw(rng: random.Random) -> tuple[list[int], int]:
    """A game as the show deals it: 0-4 large numbers, the rest small, a target in 101-999."""
    large = rng.randint(0, len(LARGE))
    numbers = rng.sample(LARGE, large) + rng.sample(SMALL * 2, GAME_NUMBERS - large)
    rng.shuffle(numbers)
    return numbers, rng.randint(*GAME_TARGETS)


# Six number slots, results of up to 5 digits, and an answer slot: any subset may make the answer.
GAME_LAYOUT = Layout(numbers=GAME_NUMBERS, value_width=len(str(MAX_VALUE)), answer_slot=True)
# Commitments the model-guided search tries before the exhaustive solver settles the game
# (docs/countdown-game.md says how it was chosen).
SEARCH_NODES = 200


def answer_value(problem: Problem, answer: str) -> int | None:
    """The value a well-formed answer makes: the number alone, or its last equation's result."""
    last = answer.rsplit(",", 1)[-1].strip()
    if last.isdigit():
        return int(last)
    match = EQUATION.match(last)
    return int(match[4]) if match else None


@dataclass(frozen=True)
class GameDataOptions:
    pool: int = field(
        default=20000,
        metadata={"help": "Show draws made up front, each with its canonical answer from the exhaustive solver."},
    )

    def __post_init__(self) -> None:
        if self.pool < 1:
            raise ValueError(f"--pool must be at least 1, got {self.pool}")


class GameTrainingData:
    """Show draws with their canonical answers, made up front; every example's numbers in a
    fresh random order (the answer is worked out on the sorted numbers, so it does not depend on
    the order they are given in)."""

    def __init__(self, options: GameDataOptions, seed: int):
        self.options, self.seed = options, seed
        self.games: list[tuple[list[int], int, GameAnswer]] | None = None
        self.recipe = (
            f"{options.pool} show draws (seed {seed}): 0-4 of 25, 50, 75, 100 and the rest from two each of 1-10,"
            " a target in 101-999; the answer the canonical best one (the closest value, with the fewest numbers),"
            " the numbers shuffled in every example"
        )

    def prepare(self) -> None:
        rng = random.Random(f"countdown-game-train-{self.seed}")  # generate() draws from "countdown-game-{seed}"
        self.games = []
        for _ in range(self.options.pool):
            numbers, target = show_draw(rng)
            self.games.append((numbers, target, best_answer(sorted(numbers), target)))

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        if self.games is None:
            self.prepare()
        rng = random.Random(int(torch.randint(1 << 62, (1,), generator=generator)))
        task = CountdownGame()
        rows = []
        for _ in range(batch_size):
            numbers, target, answer = rng.choice(self.games)
            problem = Problem((tuple(rng.sample(numbers, len(numbers))), target))
            rows.append(task.answer_tokens(problem, answer.equations, answer.value))
        maskable = torch.zeros(batch_size, GAME_LAYOUT.seq_len, dtype=torch.bool)
        maskable[:, GAME_LAYOUT.prompt_len :] = True  # the whole answer, the slots it leaves empty included
        return torch.tensor(rows), maskable


class CountdownGame(Countdown):
    """The TV game (module docstring), a task of its own: its answers need the answer slot and
    the sixth number's slot that the benchmark's layout has not."""

    name = "countdown-game"
    layout = GAME_LAYOUT
    position_groups = GAME_LAYOUT.position_groups()
    seq_len = GAME_LAYOUT.seq_len
    vocab_size = GAME_LAYOUT.vocab_size
    rules = (
        "The TV game: reach the target with + - * / from any of the numbers (up to six), each used at most"
        f" once; every intermediate result is a whole number from 1 to {MAX_VALUE:,}. When the target cannot"
        " be made, the closest value wins, and the answer says how far it is."
    )
    no_solution = "every game has a closest value"  # never said: best_answer always finds one
    stored_defaults = {"threshold": 0.95}
    DataOptions = GameDataOptions
    GenerateOptions = NoOptions
    SolveOptions = NumbersAndTarget
    study_eval_sets: dict = {}  # not in the scaling study

    def __init__(self, counts: tuple[int, int] = (1, GAME_NUMBERS)):
        self.counts = counts  # how many numbers a problem may have

    def playing(self, first: str, options: NumbersAndTarget) -> CountdownGame:
        return self

    def parse(self, text: str) -> Problem:
        try:
            return parse_problem(text, self.counts)
        except PuzzleError as error:
            if self.counts[0] == GAME_NUMBERS and "numbers and a target" in str(error):
                raise PuzzleError(
                    f"{error} (this run plays the TV game, its first problem having six; --game plays every"
                    " problem by the game's rules)"
                ) from None
            raise

    def encode(self, problem: Problem) -> list[int]:
        tokens = []
        for slot in range(GAME_LAYOUT.numbers):
            tokens += digits(problem.numbers[slot], NUMBER_WIDTH) if slot < len(problem.numbers) else [PAD] * 3
        tokens += digits(problem.target, NUMBER_WIDTH)
        return tokens + [MASK] * (GAME_LAYOUT.seq_len - GAME_LAYOUT.prompt_len)

    def answer_tokens(self, problem: Problem, equations: Sequence[str], value: int) -> list[int]:
        """Tokens of an answer: its equations, pads in the slots it leaves empty, and the answer
        slot naming its last result (or, without equations, the number that is the answer)."""
        tokens = self.encode(problem)
        write_equations(tokens, problem, equations, GAME_LAYOUT)
        for slot in range(len(equations), GAME_LAYOUT.numbers - 1):
            start = GAME_LAYOUT.equation_start(slot)
            tokens[start : start + GAME_LAYOUT.equation_width] = [PAD] * GAME_LAYOUT.equation_width
        tokens[GAME_LAYOUT.answer_position] = (
            GAME_LAYOUT.result_ref + len(equations) - 1 if equations else NUMBER_REF + problem.numbers.index(value)
        )
        return tokens

    def decode(self, problem: Problem, tokens: Sequence[int]) -> str:
        used = used_slots(tokens, GAME_LAYOUT)
        parts = equation_parts(problem, tokens, GAME_LAYOUT, used)
        answer = tokens[GAME_LAYOUT.answer_position]
        if NUMBER_REF <= answer < NUMBER_REF + len(problem.numbers):
            return str(problem.numbers[answer - NUMBER_REF])
        if GAME_LAYOUT.result_ref <= answer < GAME_LAYOUT.result_ref + used:
            parts = parts[: answer - GAME_LAYOUT.result_ref + 1]
        return ",".join(f"{a}{op}{b}={result}" for a, op, b, result in parts)

    def check(self, problem: Problem, answer: str) -> bool:
        return answer_error(problem.numbers, problem.target, answer) is None

    def violation(self, problem: Problem, answer: str) -> str | None:
        return answer_error(problem.numbers, problem.target, answer)

    def solvable(self, problem: Problem) -> bool:
        return True

    def remark(self, problem: Problem, answer: str) -> str | None:
        value = answer_value(problem, answer)
        if value is None or value == problem.target:
            return None
        return f"closest: {value}, {abs(value - problem.target)} away ({problem.target} cannot be made)"

    def exact_answer(self, problem: Problem, nodes: list[int] | None = None) -> str | None:
        return best_answer(problem.numbers, problem.target).text

    def search(self, problem: Problem, trace, steps: int):
        """Depth-first over equations from any of the numbers, in the order of the model's
        probability of the operator and the two operands, until one makes the target; the model
        is asked again after every 1/steps of the equation slots. Where no exact answer turns up
        within SEARCH_NODES commitments, the exhaustive solver (best_answer) gives the closest
        value there is, so the answer is always the best one."""
        import numpy as np

        target, dead = problem.target, set()
        commit_every = max(1, -(-(GAME_LAYOUT.numbers - 1) // steps))

        def explore(equations: list[tuple[str, int, int]], pool: list[tuple[int, int]], probs=None, age: int = 0):
            # equations: (text, a_ref, b_ref); pool: (value, reference token)
            if len(pool) < 2:
                return None
            key = tuple(sorted(value for value, _ in pool))
            if key in dead:
                return None
            candidates = []  # (score, rest of the pool, equation, result, a_ref, op, b_ref)
            for i in range(len(pool)):
                for j in range(i + 1, len(pool)):
                    (a, a_ref), (b, b_ref) = sorted((pool[i], pool[j]), reverse=True)
                    rest = [entry for n, entry in enumerate(pool) if n not in (i, j)]
                    for op in OPS:
                        if (result := apply(a, op, b)) is None:
                            continue
                        if result == target:
                            return [*equations, (f"{a}{op}{b}={result}", a_ref, b_ref)]
                        candidates.append([0.0, rest, f"{a}{op}{b}={result}", result, a_ref, op, b_ref])
            if len(candidates) > 1:  # the model orders the choices
                if probs is None or age >= commit_every:
                    trace.tokens = self.encode(problem)  # the rest of the answer open
                    write_equations(trace.tokens, problem, [text for text, *_ in equations], GAME_LAYOUT)
                    probs, age = (yield np.array(trace.tokens)), 0
                order_by_model(candidates, probs, GAME_LAYOUT.equation_start(len(equations)))
            slot_ref = GAME_LAYOUT.result_ref + len(equations)
            for _, rest, equation, result, a_ref, _, b_ref in candidates:
                if trace.nodes >= SEARCH_NODES:
                    return None  # not every branch tried: the pool is not known to be dead
                trace.nodes += 1
                found = yield from explore(
                    [*equations, (equation, a_ref, b_ref)], [*rest, (result, slot_ref)], probs, age + 1
                )
                if found is not None:
                    return found
                trace.backtracks += 1
            dead.add(key)
            return None

        def needed(equations: list[tuple[str, int, int]]) -> list[str]:
            """The equations the last one's result is made from, in order."""
            keep, stack = set(), [len(equations) - 1]
            while stack:
                slot = stack.pop()
                keep.add(slot)
                stack += [ref - GAME_LAYOUT.result_ref for ref in equations[slot][1:] if ref >= GAME_LAYOUT.result_ref]
            return [equations[slot][0] for slot in sorted(keep)]

        def run():
            if target in problem.numbers:
                return self.answer_tokens(problem, [], target)
            pool = [(value, NUMBER_REF + index) for index, value in enumerate(problem.numbers)]
            found = yield from explore([], pool)
            if found is not None:
                equations = needed(found)
                return self.answer_tokens(problem, equations, answer_value(problem, equations[-1]))
            best = best_answer(problem.numbers, target)
            return self.answer_tokens(problem, best.equations, best.value)

        return run()

    def dead_end(self, tokens: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.array([answer_lost(row, GAME_LAYOUT, apply) for row in tokens.tolist()], dtype=bool)

    def beyond_training(self, problem: Problem) -> str | None:
        numbers = Counter(problem.numbers)
        shown = len(problem.numbers) == GAME_NUMBERS and all(
            count <= (1 if number in LARGE else 2) and (number in LARGE or number in SMALL)
            for number, count in numbers.items()
        )
        if shown and GAME_TARGETS[0] <= problem.target <= GAME_TARGETS[1]:
            return None
        return "the model is trained on the show's draws (six numbers from 1-10 and 25-100, targets 101-999)"

    def render(
        self, problem: Problem, tokens: Sequence[int], confidence: Sequence[float], plain: bool = False
    ) -> RenderableType:
        parts = equation_parts(problem, tokens, GAME_LAYOUT, used_slots(tokens, GAME_LAYOUT))
        broken = broken_equations(problem, parts, apply, exact=False)
        view = equations_view(problem, parts, broken, confidence, plain, GAME_LAYOUT)
        if tokens[GAME_LAYOUT.answer_position] != MASK:
            value = answer_value(problem, self.decode(problem, tokens))
            if value is not None:
                distance = abs(value - problem.target)
                view.append(f"answer {value}" + (f", {distance} away" if distance else ""), style="bold")
        return view

    def training_data(self, options: GameDataOptions, seed: int) -> TrainingData:
        return GameTrainingData(options, seed)

    def held_out_options(self, options: GameDataOptions) -> NoOptions:
        return NoOptions()

    def generate(self, count: int, seed: int, options: NoOptions | None = None) -> Iterator[str]:
        """Show draws, held out from training (which draws from "countdown-game-train-*")."""
        rng = random.Random(f"countdown-game-{seed}")
        for _ in range(count):
            numbers, target = show_draw(rng)
            yield self.format_puzzle(Problem((tuple(numbers), target)))
