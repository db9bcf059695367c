"""Countdown: combine k numbers (3-5), each exactly once, with + - * / into the target.

Every intermediate result is a non-negative integer: subtraction is larger minus smaller,
division only when exact. An answer is k-1 comma-separated equations, e.g.
`86+28=114,31-13=18,114-18=96` for 86, 28, 13, 31 and target 96.

Encoding: fixed-width slots rather than free text, so every digit has a fixed place and the
model never has to align variable-length strings. Five 3-digit number slots and a 3-digit
target (the prompt, never masked), then four equations of `a op b c` = 7 tokens: the operands
are references (one token naming a given number or an earlier equation's result), the result
is 4 digits, right-aligned and padded. The model computes every result digit itself; the
references only spare it copying operands digit by digit, where a digit-copying model spliced
the digits of two numbers into one operand (docs/training.md). Unused number and equation
slots (k < 5) hold the pad token and are given, not predicted. The TV game (countdown_game.py)
lays its problems out the same way in a Layout of its own: six number slots, 5-digit results,
and a last token naming the answer's value.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rmdm_cli.errors import UsageError
from rmdm_cli.tasks.base import PuzzleError, Task, TrainingData

if TYPE_CHECKING:
    import numpy as np
    import torch
    from rich.console import RenderableType
    from rich.text import Text


MASK, PAD = 0, 1
DIGIT = 2  # token of digit d is DIGIT + d
OPS = "+-*/"
OP = 12  # token of OPS[i] is OP + i
NUMBER_REF = 16  # token of "given number i" (0-based) is NUMBER_REF + i; results' references follow
NUMBER_WIDTH = 3  # prompt numbers and target: 1-999


@dataclass(frozen=True)
class Layout:
    """Where a problem and its answer sit in a row of tokens: a slot for each number and one for
    the target (the prompt), an equation slot for each number but one (`a op b result`), and,
    where any subset of the numbers may make the answer, a last token naming which value is the
    answer."""

    numbers: int  # number slots in the prompt
    value_width: int  # digits of an equation's result
    answer_slot: bool = False

    @property
    def result_ref(self) -> int:  # token of "the result of equation j" is result_ref + j
        return NUMBER_REF + self.numbers

    @property
    def vocab_size(self) -> int:
        return self.result_ref + self.numbers - 1

    @property
    def prompt_len(self) -> int:
        return (self.numbers + 1) * NUMBER_WIDTH

    @property
    def equation_width(self) -> int:  # a, op, b, result digits
        return 3 + self.value_width

    @property
    def answer_position(self) -> int:  # the answer slot's position, where there is one
        return self.prompt_len + (self.numbers - 1) * self.equation_width

    @property
    def seq_len(self) -> int:
        return self.answer_position + self.answer_slot

    @property
    def max_value(self) -> int:
        return 10**self.value_width - 1

    def equation_start(self, slot: int) -> int:
        return self.prompt_len + slot * self.equation_width

    def position_groups(self) -> tuple[tuple[int, ...], ...]:
        """Per position: the position itself, its place value (1 units, 2 tens, ..., 0 an
        operand, operator or answer token) and its field (prompt number 0.., the target, then a,
        op, b, result of each equation, then the answer). Digits of equal place share an
        embedding, so carrying in arithmetic lines up digit by digit."""
        places, fields = [], []
        for number in range(self.numbers + 1):
            places += range(NUMBER_WIDTH, 0, -1)
            fields += [number] * NUMBER_WIDTH
        for equation in range(self.numbers - 1):
            first = self.numbers + 1 + 4 * equation
            places += [0, 0, 0, *range(self.value_width, 0, -1)]
            fields += [first, first + 1, first + 2] + [first + 3] * self.value_width
        if self.answer_slot:
            places.append(0)
            fields.append(self.numbers + 1 + 4 * (self.numbers - 1))
        return tuple(range(self.seq_len)), tuple(places), tuple(fields)


# The benchmark's problems: 3-5 numbers, every intermediate result at most 9999.
LAYOUT = Layout(numbers=5, value_width=4)
MAX_NUMBERS = LAYOUT.numbers
RESULT_REF = LAYOUT.result_ref
VOCAB_SIZE = LAYOUT.vocab_size
VALUE_WIDTH = LAYOUT.value_width
EQUATION_WIDTH = LAYOUT.equation_width
PROMPT_LEN = LAYOUT.prompt_len
SEQ_LEN = LAYOUT.seq_len
MAX_VALUE = LAYOUT.max_value

# Training ranges (the reference recipe): numbers 1-99, targets 10-100.
TRAIN_NUMBERS = (1, 99)
TRAIN_TARGETS = (10, 100)
EQUATION = re.compile(r"^(\d+)([-+*/])(\d+)=(\d+)$")


def benchmark_targets() -> frozenset[int]:
    """Every target in the public Countdown benchmarks (data/countdown/): excluded from training
    data so the benchmarks measure held-out targets, as in the reference paper. The list ships
    inside the package, so training works wherever rmdm is installed."""
    path = Path(__file__).resolve().parents[1] / "data" / "countdown_benchmark_targets.txt"
    return frozenset(int(line) for line in path.read_text().splitlines() if line.strip() and not line.startswith("#"))


def apply(a: int, op: str, b: int) -> int | None:
    """The result of `a op b` under the rules, or None when the rules forbid it."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b if a >= b else None
    if op == "*":
        return a * b
    if op == "/":
        return a // b if b and a % b == 0 else None
    return None


def answer_error(numbers: Sequence[int], target: int, answer: str) -> str | None:
    """Where an answer first breaks a rule (equations counted from 1), or None if it is correct:
    numbers used as a multiset, arithmetic redone, last result = target."""
    equations = answer.split(",") if answer else []
    if len(equations) != len(numbers) - 1:
        return f"{len(equations)} equations instead of {len(numbers) - 1}"
    error, result = replay(numbers, equations, apply, "negative or fractional result")
    return error or (None if result == target else "the last result is not the target")


def replay(numbers: Sequence[int], equations: Sequence[str], rule, forbidden: str) -> tuple[str | None, int | None]:
    """Redo equations under `rule` (the arithmetic, None where it forbids a result), the numbers
    used as a multiset that each result joins: (where an equation first breaks a rule, counted
    from 1, or None; the last result). `forbidden` says what a result `rule` refuses is."""
    available = Counter(numbers)
    result = None
    for index, equation in enumerate(equations, 1):
        match = EQUATION.match(equation.strip())
        if not match:
            return f"equation {index}: not of the form a+b=c", None
        a, op, b, claimed = int(match[1]), match[2], int(match[3]), int(match[4])
        available[a] -= 1
        available[b] -= 1
        if available[a] < 0 or available[b] < 0:
            return f"equation {index}: uses a number that is not available", None
        result = rule(a, op, b)
        if result is None:
            return f"equation {index}: {forbidden}", None
        if result != claimed:
            return f"equation {index}: wrong arithmetic", None
        available[result] += 1
    return None, result


def check_answer(numbers: Sequence[int], target: int, answer: str) -> bool:
    """The exact checker."""
    return answer_error(numbers, target, answer) is None


def solve_exact(numbers: Sequence[int], target: int, nodes: list[int] | None = None) -> list[str] | None:
    """Depth-first search for a solution (a list of equations), or None if there is none; counts
    the equations it tries (its nodes) into `nodes[0]`. Pairs are tried in the numbers' order,
    each pair's operators in `+-*/` order."""
    dead: set[tuple[int, ...]] = (
        set()
    )  # pools already searched without a solution: different orders of the same steps meet them again

    def search(pool: list[int]) -> list[str] | None:
        if len(pool) == 1:
            return [] if pool[0] == target else None
        key = tuple(sorted(pool))
        if key in dead:
            return None
        pairs = [(i, j) for i in range(len(pool)) for j in range(i + 1, len(pool))]
        for i, j in pairs:
            a, b = max(pool[i], pool[j]), min(pool[i], pool[j])
            rest = [pool[n] for n in range(len(pool)) if n not in (i, j)]
            for op in OPS:
                result = apply(a, op, b)
                if result is None or result > MAX_VALUE:
                    continue
                if nodes is not None:
                    nodes[0] += 1
                found = search(rest + [result])
                if found is not None:
                    return [f"{a}{op}{b}={result}"] + found
        dead.add(key)
        return None

    return search(list(numbers))


def results(values: set[int], others: set[int]) -> set[int]:
    """Every value one equation makes from a value of each set, under the rules (at most MAX_VALUE)."""
    made = set()
    for x in values:
        for y in others:
            a, b = (x, y) if x >= y else (y, x)
            made.update((a + b, a - b, a * b))
            if b and a % b == 0:
                made.add(a // b)
    return {value for value in made if value <= MAX_VALUE}


def can_reach(numbers: Sequence[int], target: int) -> bool:
    """Whether any answer exists, as `solve_exact` would find one, about ten times faster where
    none does: the values each subset of the numbers can make, built up from smaller subsets,
    and for the whole set only the membership tests an equation ending in the target needs."""
    whole = (1 << len(numbers)) - 1
    made = {1 << index: {number} for index, number in enumerate(numbers)}
    for subset in sorted(range(1, whole), key=int.bit_count):
        if subset not in made:
            made[subset] = set()
            part = (subset - 1) & subset
            while part:
                if part > subset ^ part:  # each split once
                    made[subset] |= results(made[part], made[subset ^ part])
                part = (part - 1) & subset
    part = (whole - 1) & whole
    while part:
        if part > whole ^ part:
            xs, ys = sorted((made[part], made[whole ^ part]), key=len)
            for x in xs:  # is there y in ys with x op y = target?
                if target - x in ys or x - target in ys or x + target in ys:
                    return True
                if x and ((target % x == 0 and target // x in ys) or (x % target == 0 and x // target in ys)):
                    return True
                if x and x * target in ys:
                    return True
        part = (part - 1) & whole
    return False


class Problem(tuple):
    """(numbers, target)."""

    @property
    def numbers(self) -> tuple[int, ...]:
        return self[0]

    @property
    def target(self) -> int:
        return self[1]


def make_problem(numbers: Sequence[int], target: int, counts: tuple[int, int] = (3, MAX_NUMBERS)) -> Problem:
    """A problem of counts[0] to counts[1] numbers, checked."""
    if not counts[0] <= len(numbers) <= counts[1]:
        raise PuzzleError(
            f"expected {counts[0]}{f' to {counts[1]}' * (counts[1] > counts[0])} numbers and a target,"
            f" got {len(numbers)} number" + "s" * (len(numbers) != 1)
        )
    for number in numbers:
        if not 1 <= number <= 999:
            raise PuzzleError(f"number {number} is out of range (1-999)")
    if not 1 <= target <= 999:
        raise PuzzleError(f"target {target} is out of range (1-999)")
    return Problem((tuple(numbers), target))


def parse_problem(text: str, counts: tuple[int, int] = (3, MAX_NUMBERS)) -> Problem:
    """`n1,...,nk,target`, or a JSON object with "input" (that string) or "nums" and "target",
    of counts[0] to counts[1] numbers."""
    text = text.strip()
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            raise PuzzleError("line starts with '{' but is not valid JSON") from None
        except ValueError:  # Python refuses integers of thousands of digits
            raise PuzzleError("a number in the JSON line is out of range (1-999)") from None
        if not isinstance(record, dict):
            raise PuzzleError("JSON line is not an object")
        if "input" in record:
            text = str(record["input"])
        elif "nums" in record and "target" in record:
            values = record["nums"]
            if (
                not isinstance(values, list)
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in values)
                or not isinstance(record["target"], int)
            ):
                raise PuzzleError('"nums" must be a list of integers and "target" an integer')
            return make_problem(values, record["target"], counts)
        else:
            raise PuzzleError('JSON line needs an "input" field or "nums" and "target" fields')
    parts = [part.strip() for part in text.split(",")]
    values = []
    for part in parts:
        if not part.isdigit() or not part.isascii():
            raise PuzzleError(f"{part!r} is not a whole number (expected n1,...,nk,target)")
        if len(part.lstrip("0")) > NUMBER_WIDTH:  # before int(), which refuses thousands of digits
            raise PuzzleError(f"number {part if len(part) <= 12 else part[:12] + '…'} is out of range (1-999)")
        values.append(int(part))
    return make_problem(values[:-1], values[-1], counts)


def digits(value: int, width: int) -> list[int]:
    text = str(value)
    return [PAD] * (width - len(text)) + [DIGIT + int(ch) for ch in text]


def chars(tokens: Sequence[int]) -> str:
    """Text of tokens: digits and operators as themselves, pad dropped, mask as `_`."""
    out = []
    for token in tokens:
        if token == MASK:
            out.append("_")
        elif DIGIT <= token < DIGIT + 10:
            out.append(str(token - DIGIT))
        elif OP <= token < OP + 4:
            out.append(OPS[token - OP])
    return "".join(out)


def equation_parts(
    problem: Problem, tokens: Sequence[int], layout: Layout = LAYOUT, slots: int | None = None
) -> list[tuple[str, str, str, str]]:
    """(a, op, b, result) text of each of the first `slots` equation slots (default: one for
    each number but one): references resolved to the given number or to the result as the model
    wrote it, `_` where still masked, `?` where a token cannot stand there (e.g. a reference to
    a later equation)."""
    results: list[str] = []
    parts = []
    for slot in range(len(problem.numbers) - 1 if slots is None else slots):
        start = layout.equation_start(slot)
        a_token, op_token, b_token = tokens[start : start + 3]
        result = chars(tokens[start + 3 : start + layout.equation_width])
        result = str(int(result)) if result.isdigit() else result or "?"
        op = "_" if op_token == MASK else OPS[op_token - OP] if OP <= op_token < OP + len(OPS) else "?"
        a, b = (operand_text(problem, token, results, layout) for token in (a_token, b_token))
        parts.append((a, op, b, result))
        results.append(result)
    return parts


def broken_equations(
    problem: Problem, parts: Sequence[tuple[str, str, str, str]], rule=apply, exact: bool = True
) -> set[int]:
    """Equation slots (0-based) whose committed parts already break a rule: wrong or forbidden
    arithmetic (`rule` does it), a value used more often than it is available, and (`exact`:
    the answer is the last result) a last result that is not the target."""
    available = Counter(problem.numbers)
    broken = set()
    for slot, (a, op, b, result) in enumerate(parts):
        if "?" in (a, op, b, result):
            broken.add(slot)
        for operand in (a, b):
            if operand.isdigit():
                available[int(operand)] -= 1
                if available[int(operand)] < 0:
                    broken.add(slot)
        if a.isdigit() and b.isdigit() and op in OPS:
            value = rule(int(a), op, int(b))
            if value is None or (result.isdigit() and value != int(result)):
                broken.add(slot)
        if result.isdigit():
            available[int(result)] += 1
    if exact and parts and parts[-1][3].isdigit() and int(parts[-1][3]) != problem.target:
        broken.add(len(parts) - 1)
    return broken


def order_by_model(candidates: list[list], probs, start: int) -> None:
    """Sort candidate equations, lists [score, ..., a_ref, op, b_ref], most likely first by the
    model's probabilities (T, V) of their operator and their two operands (in either order) in
    the equation slot at position `start`."""
    first, operator, second = probs[start], probs[start + 1], probs[start + 2]
    for candidate in candidates:
        a_ref, op, b_ref = candidate[-3:]
        pair = max(first[a_ref] * second[b_ref], first[b_ref] * second[a_ref])
        candidate[0] = -float(operator[OP + OPS.index(op)] * pair)
    candidates.sort(key=lambda candidate: candidate[0])


def used_slots(tokens: Sequence[int], layout: Layout) -> int:
    """Equation slots before the first the answer leaves empty (a pad where its operator goes)."""
    return next(
        (slot for slot in range(layout.numbers - 1) if tokens[layout.equation_start(slot) + 1] == PAD),
        layout.numbers - 1,
    )


def operand_text(problem: Problem, token: int, results: Sequence[str], layout: Layout = LAYOUT) -> str:
    if token == MASK:
        return "_"
    if NUMBER_REF <= token < NUMBER_REF + len(problem.numbers):
        return str(problem.numbers[token - NUMBER_REF])
    if layout.result_ref <= token < layout.result_ref + len(results):
        return results[token - layout.result_ref]
    return "?"


def answer_lost(tokens: Sequence[int], layout: Layout = LAYOUT, rule=apply) -> bool:
    """Whether a partly committed answer already fails the checker however its masks are filled:
    a committed part that cannot be read (an operand or result that is not a number, an
    operator that is not one), forbidden arithmetic (negative or fractional), a wrong result,
    or (without an answer slot, where the answer is the last result) a last result other than
    the target; `rule` does the arithmetic. Committed tokens never change, and a part's text is
    final once nothing it reads is masked. (Numbers used twice are not judged: the checker
    counts values, not references.)"""
    numbers = [
        int(text)
        for slot in range(layout.numbers)
        if (text := chars(tokens[slot * NUMBER_WIDTH : (slot + 1) * NUMBER_WIDTH]))
    ]
    target = int(chars(tokens[layout.numbers * NUMBER_WIDTH : layout.prompt_len]))
    slots = used_slots(tokens, layout) if layout.answer_slot else None
    parts = equation_parts(Problem((tuple(numbers), target)), tokens, layout, slots)
    for a, op, b, result in parts:
        final = [part for part in (a, b, result) if "_" not in part]
        if any(not part.isdigit() for part in final) or op not in (*OPS, "_"):
            return True
        if "_" not in a + op + b:
            value = rule(int(a), op, int(b))
            if value is None or ("_" not in result and value != int(result)):
                return True
    if layout.answer_slot:
        return False
    last = parts[-1][3]
    return "_" not in last and int(last) != target


def encode_solution(problem: Problem, equations: Sequence[str]) -> list[int]:
    """Tokens of a valid answer; each operand refers to a given number or earlier result of its value."""
    tokens = Countdown().encode(problem)
    write_equations(tokens, problem, equations, LAYOUT)
    return tokens


def write_equations(
    tokens: list[int], problem: Problem, equations: Sequence[str], layout: Layout
) -> list[tuple[int, int]]:
    """Write valid equations into the first equation slots of `tokens`, each operand a
    reference to a given number or an earlier result of its value; returns the (value,
    reference) pairs left unused."""
    available = [(value, NUMBER_REF + index) for index, value in enumerate(problem.numbers)]
    for slot, equation in enumerate(equations):
        a, op, b, c = EQUATION.match(equation).groups()
        references = []
        for value in (int(a), int(b)):
            index = next((i for i, (held, _) in enumerate(available) if held == value), None)
            if index is None:
                raise ValueError(f"{equation}: {value} is not available")
            references.append(available.pop(index)[1])
        available.append((int(c), layout.result_ref + slot))
        start = layout.equation_start(slot)
        tokens[start : start + layout.equation_width] = [references[0], OP + OPS.index(op), references[1]] + digits(
            int(c), layout.value_width
        )
    return available


def equations_view(
    problem: Problem,
    parts: Sequence[tuple[str, str, str, str]],
    broken: set[int],
    confidence: Sequence[float],
    plain: bool,
    layout: Layout,
) -> Text:
    """A Rich view of the problem and a line per equation: open parts dim, parts that break a
    rule red, the rest green where the model is sure of them, else yellow."""
    from rich.text import Text

    view = Text()
    view.append(f"numbers {' '.join(map(str, problem.numbers))}  target {problem.target}\n", style="bold")
    width = layout.value_width  # fixed: a slot keeps its width as digits arrive
    for slot, equation in enumerate(parts):
        start = layout.equation_start(slot)
        spans = (
            range(start, start + 1),
            range(start + 1, start + 2),
            range(start + 2, start + 3),
            range(start + 3, start + layout.equation_width),
        )
        for text, span, gap, text_width in zip(equation, spans, ("", " ", " ", " = "), (width, 1, width, width)):
            view.append(gap, style="dim")
            text = text.rjust(text_width)
            if "_" in text:
                view.append(text.replace("_", "·"), style="dim")
            elif slot in broken:
                view.append(text, style="red")
            else:
                view.append(text, style="green" if min(confidence[position] for position in span) >= 0.9 else "yellow")
        if plain and slot in broken:  # without colour the mark says what red would
            view.append("  (breaks a rule)")
        view.append("\n")
    return view


def random_example(rng: random.Random, count: int, excluded: frozenset[int]) -> tuple[Problem, list[str]]:
    """A solvable training problem and its canonical answer: numbers uniform in 1-99 and a target
    uniform among the training targets no benchmark uses, kept when the exact solver finds an
    answer. Building the target from random operations instead favours targets that many
    operation sequences reach: those problems have a median of 18 solutions with 4 numbers,
    where the benchmark's have 4 and these 3 (docs/training.md). The answer is the solver's first
    solution, not a random one, so the model's per-token marginals describe one solution instead
    of a mixture of many (cd3 5.0% with random answers)."""
    targets = [target for target in range(TRAIN_TARGETS[0], TRAIN_TARGETS[1] + 1) if target not in excluded]
    while True:
        numbers = [rng.randint(*TRAIN_NUMBERS) for _ in range(count)]
        target = rng.choice(targets)
        if can_reach(numbers, target):
            return Problem((tuple(numbers), target)), solve_exact(numbers, target)


@dataclass(frozen=True)
class CountdownDataOptions:
    numbers: int = field(
        default=0, metadata={"help": "Numbers in every training problem, 3 to 5 (0: drawn per problem)."}
    )

    def __post_init__(self) -> None:
        if self.numbers and not 3 <= self.numbers <= MAX_NUMBERS:
            raise ValueError(f"--numbers must be 3 to {MAX_NUMBERS} (or 0: drawn per problem), got {self.numbers}")


@dataclass(frozen=True)
class CountdownGenerateOptions:
    numbers: int = field(default=4, metadata={"help": "Numbers per problem, 3 to 5."})

    def __post_init__(self) -> None:
        if not 3 <= self.numbers <= MAX_NUMBERS:
            raise ValueError(f"--numbers must be 3 to {MAX_NUMBERS}, got {self.numbers}")


@dataclass(frozen=True)
class NumbersAndTarget:
    """One problem as options (both variants)."""

    numbers: str | None = field(
        default=None, metadata={"help": "The numbers, e.g. --numbers 25 50 75 100 (or 25,50,75,100); with --target."}
    )
    target: int | None = field(default=None, metadata={"help": "The target, with --numbers."})


@dataclass(frozen=True)
class CountdownSolveOptions(NumbersAndTarget):
    game: bool = field(
        default=False,
        metadata={
            "help": "Play every problem by the TV game's rules (`rmdm solve countdown-game --help`): any subset of"
            " the numbers, the closest value when the target cannot be made. A first problem of six numbers"
            " always does."
        },
    )


class CountdownTrainingData:
    """Fresh random problems every batch, seeded from the batch's generator (so resumable)."""

    def __init__(self, options: CountdownDataOptions, seed: int):
        self.numbers = options.numbers
        self.excluded = benchmark_targets()
        self.recipe = (
            f"fresh random problems every batch (seed {seed}): {options.numbers or '3-5'} numbers uniform in 1-99"
            f" and a target uniform in 10-100 among those no benchmark file uses ({len(self.excluded)} targets"
            " excluded), kept when solvable; the answer is the exact solver's first solution"
        )

    def prepare(self) -> None:  # nothing made ahead: every batch is fresh
        pass

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        rng = random.Random(int(torch.randint(1 << 62, (1,), generator=generator)))
        rows, maskable = [], []
        for _ in range(batch_size):
            count = self.numbers or rng.randint(3, MAX_NUMBERS)
            problem, equations = random_example(rng, count, self.excluded)
            rows.append(encode_solution(problem, equations))
            used = (count - 1) * EQUATION_WIDTH
            maskable.append([False] * PROMPT_LEN + [True] * used + [False] * (SEQ_LEN - PROMPT_LEN - used))
        return torch.tensor(rows), torch.tensor(maskable)


class Countdown(Task):
    name = "countdown"
    layout = LAYOUT
    position_groups = LAYOUT.position_groups()
    seq_len = SEQ_LEN
    vocab_size = VOCAB_SIZE
    mask_token = MASK
    rules = (
        "Combine the 3 to 5 numbers with + - * / into the target, using every number exactly once; every"
        " intermediate result is a whole number of at least 0 (subtraction larger minus smaller, division exact)."
        " Six numbers, or --game, play the TV game instead: any subset of the numbers, the closest value when the"
        " target cannot be made (rmdm solve countdown-game --help)."
    )
    no_solution = "the target cannot be reached using every number exactly once"
    # Adaptive depth cuts answers short; the threshold alone keeps the fixed accuracy (docs/inference.md).
    stored_defaults = {"threshold": 0.95}
    # The whole answer starts masked at inference, so training must see fully masked answers.
    train_defaults = {"mask_min": 0.05, "mask_max": 1.0}
    DataOptions = CountdownDataOptions
    GenerateOptions = CountdownGenerateOptions
    SolveOptions = CountdownSolveOptions
    # At the study's budget per cell, problems of 3 to 5 numbers leave a width-128 cell near 0% on
    # 3 numbers (docs/scaling-study.md), so the study's cells learn 3 numbers and meet 4 held out.
    study_recipe = {"data": {"numbers": 3}}
    study_eval_sets = {"3 numbers": {"numbers": 3}, "4 numbers": {"numbers": 4}}

    def puzzle_from_options(self, options: NumbersAndTarget, arguments: list[str]) -> list[str] | None:
        """`--numbers 25 50 75 100 --target 842`: the shell splits the numbers, so the values
        after the first arrive as positional arguments; joined back into `25,50,75,100,842`."""
        if options.numbers is None and options.target is None:
            return None
        if options.numbers is None or options.target is None:
            raise UsageError("--numbers and --target go together")
        if puzzles := [value for value in arguments if not value.isdigit()]:
            raise UsageError(
                f"--numbers/--target give one problem; {puzzles[0]!r} is another: "
                "give problems either as arguments or with those options"
            )
        values = options.numbers.replace(",", " ").split() + arguments
        if not all(value.isdigit() for value in values):
            raise UsageError(f"--numbers: expected whole numbers, got {' '.join(values)!r}")
        return [",".join(values + [str(options.target)])]

    def playing(self, first: str, options: CountdownSolveOptions) -> Task:
        """The TV game's task where --game asks for it or the first problem has six numbers."""
        from rmdm_cli.tasks.countdown_game import GAME_NUMBERS, CountdownGame

        if options.game:
            return CountdownGame()
        try:
            six = len(parse_problem(first, counts=(1, GAME_NUMBERS)).numbers) == GAME_NUMBERS
        except PuzzleError:  # said when the line is parsed
            return self
        return CountdownGame(counts=(GAME_NUMBERS, GAME_NUMBERS)) if six else self

    def parse(self, text: str) -> Problem:
        try:
            return parse_problem(text)
        except PuzzleError as error:
            if "got 6 numbers" in str(error):
                raise PuzzleError(
                    f"{error} (six numbers are the TV game, task countdown-game; rmdm solve countdown plays it"
                    " when the first problem has six numbers, or with --game)"
                ) from None
            if re.search(r"got ([7-9]|\d\d+) numbers", str(error)):
                raise PuzzleError(f"{error} (six for the TV game)") from None
            raise

    def format_puzzle(self, problem: Problem) -> str:
        return ",".join(map(str, problem.numbers + (problem.target,)))

    def encode(self, problem: Problem) -> list[int]:
        numbers = list(problem.numbers) + [None] * (MAX_NUMBERS - len(problem.numbers))
        tokens = []
        for number in numbers:
            tokens += [PAD] * NUMBER_WIDTH if number is None else digits(number, NUMBER_WIDTH)
        tokens += digits(problem.target, NUMBER_WIDTH)
        used = len(problem.numbers) - 1
        tokens += [MASK] * (used * EQUATION_WIDTH) + [PAD] * ((MAX_NUMBERS - 1 - used) * EQUATION_WIDTH)
        return tokens

    def decode(self, problem: Problem, tokens: Sequence[int]) -> str:
        return ",".join(f"{a}{op}{b}={result}" for a, op, b, result in equation_parts(problem, tokens))

    def check(self, problem: Problem, answer: str) -> bool:
        return check_answer(problem.numbers, problem.target, answer)

    def violation(self, problem: Problem, answer: str) -> str | None:
        return answer_error(problem.numbers, problem.target, answer)

    def search(self, problem: Problem, trace, steps: int):
        """Depth-first over equations: each slot's legal pairs and operators (results computed
        exactly, the last one the target), tried in the order of the model's probability of the
        operator and the two operands; a pool of values already shown unable to reach the target
        is not searched again. The model is asked again after every 1/steps of the equations."""
        import numpy as np

        target, dead = problem.target, set()
        commit_every = max(1, -(-(len(problem.numbers) - 1) // steps))

        def explore(equations: list[str], pool: list[tuple[int, int]], probs=None, age: int = 0):
            # pool: (value, reference token)
            if len(pool) == 1:
                return equations if pool[0][0] == target else None
            key = tuple(sorted(value for value, _ in pool))
            if key in dead:
                return None
            candidates = []  # (score, rest of the pool, equation, result)
            for i in range(len(pool)):
                for j in range(i + 1, len(pool)):
                    (a, a_ref), (b, b_ref) = sorted((pool[i], pool[j]), reverse=True)
                    rest = [entry for n, entry in enumerate(pool) if n not in (i, j)]
                    for op in OPS:
                        result = apply(a, op, b)
                        if result is None or result > MAX_VALUE or (not rest and result != target):
                            continue
                        candidates.append([0.0, rest, f"{a}{op}{b}={result}", result, a_ref, op, b_ref])
            if len(candidates) > 1:  # the model orders the choices
                if probs is None or age >= commit_every:
                    tokens = encode_solution(problem, equations)
                    trace.tokens = tokens
                    probs, age = (yield np.array(tokens)), 0
                order_by_model(candidates, probs, LAYOUT.equation_start(len(equations)))
            slot_ref = RESULT_REF + len(equations)
            for _, rest, equation, result, *_ in candidates:
                trace.nodes += 1
                found = yield from explore([*equations, equation], [*rest, (result, slot_ref)], probs, age + 1)
                if found is not None:
                    return found
                trace.backtracks += 1
            dead.add(key)
            return None

        def run():
            pool = [(value, NUMBER_REF + index) for index, value in enumerate(problem.numbers)]
            equations = yield from explore([], pool)
            return None if equations is None else encode_solution(problem, equations)

        return run()

    def dead_end(self, tokens: np.ndarray) -> np.ndarray:
        import numpy as np

        return np.array([answer_lost(row) for row in tokens.tolist()], dtype=bool)

    def exact_answer(self, problem: Problem, nodes: list[int] | None = None) -> str | None:
        equations = solve_exact(problem.numbers, problem.target, nodes=nodes)
        return None if equations is None else ",".join(equations)

    def solvable(self, problem: Problem) -> bool:
        return can_reach(problem.numbers, problem.target)

    def beyond_training(self, problem: Problem) -> str | None:
        outside = [
            f"number {number}" for number in problem.numbers if not TRAIN_NUMBERS[0] <= number <= TRAIN_NUMBERS[1]
        ]
        if not TRAIN_TARGETS[0] <= problem.target <= TRAIN_TARGETS[1]:
            outside.append(f"target {problem.target}")
        if not outside:
            return None
        return (
            f"the model is trained on numbers {TRAIN_NUMBERS[0]}-{TRAIN_NUMBERS[1]} and "
            f"targets {TRAIN_TARGETS[0]}-{TRAIN_TARGETS[1]}, not {', '.join(outside)}"
        )

    def render(
        self, problem: Problem, tokens: Sequence[int], confidence: Sequence[float], plain: bool = False
    ) -> RenderableType:
        parts = equation_parts(problem, tokens)
        return equations_view(problem, parts, broken_equations(problem, parts), confidence, plain, LAYOUT)

    def training_data(self, options: CountdownDataOptions, seed: int) -> TrainingData:
        return CountdownTrainingData(options, seed)

    def held_out_options(self, options: CountdownDataOptions) -> CountdownGenerateOptions:
        # trained on k numbers, judged on k; on 4 when trained on mixed sizes
        return CountdownGenerateOptions(options.numbers) if options.numbers else CountdownGenerateOptions()

    def generate(self, count: int, seed: int, options: CountdownGenerateOptions | None = None) -> Iterator[str]:
        """Solvable problems in the training distribution (their targets avoid the benchmarks')."""
        numbers = (options or CountdownGenerateOptions()).numbers
        rng = random.Random(f"countdown-problems-{seed}")
        excluded = benchmark_targets()
        for _ in range(count):
            problem, _ = random_example(rng, numbers, excluded)
            yield self.format_puzzle(problem)
