"""Countdown with the answer written as characters (the reference model's encoding), for
measuring that encoding against the operand references of `countdown`.

The prompt is `countdown`'s (fixed 3-digit slots). The answer is the canonical answer's text,
e.g. `86+28=114,31-13=18,114-18=96`, left-aligned in ANSWER_LEN character slots and padded;
every answer slot, padding included, is predicted, since the answer's length is not known
ahead. Operands are copied digit by digit and positions carry no place value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rmdm_cli.tasks.countdown import (
    DIGIT,
    MASK,
    MAX_NUMBERS,
    OP,
    OPS,
    PAD,
    PROMPT_LEN,
    VALUE_WIDTH,
    Countdown,
    CountdownData,
    Problem,
    benchmark_targets,
    random_example,
)
from rmdm_cli.tasks.countdown import (
    position_groups as reference_position_groups,
)

if TYPE_CHECKING:
    import torch
    from rich.console import RenderableType

EQUALS = OP + len(OPS)
COMMA = EQUALS + 1
VOCAB_SIZE = COMMA + 1
ANSWER_LEN = (MAX_NUMBERS - 1) * (3 * VALUE_WIDTH + 2) + MAX_NUMBERS - 2  # four `dddd*dddd=dddd` and commas
SEQ_LEN = PROMPT_LEN + ANSWER_LEN
SYMBOLS = {
    **{str(d): DIGIT + d for d in range(10)},
    **{op: OP + i for i, op in enumerate(OPS)},
    "=": EQUALS,
    ",": COMMA,
}
CHARACTERS = {token: symbol for symbol, token in SYMBOLS.items()}


def position_groups() -> tuple[tuple[int, ...], ...]:
    """The prompt's place values and fields as in `countdown`; every answer slot place 0 and one field."""
    _, places, fields = reference_position_groups()
    answer_field = MAX_NUMBERS + 1
    return (
        tuple(range(SEQ_LEN)),
        places[:PROMPT_LEN] + (0,) * ANSWER_LEN,
        fields[:PROMPT_LEN] + (answer_field,) * ANSWER_LEN,
    )


def answer_tokens(answer: str) -> list[int]:
    return [SYMBOLS[symbol] for symbol in answer] + [PAD] * (ANSWER_LEN - len(answer))


class CountdownTextData:
    """`countdown`'s fresh problems every batch, answers as characters."""

    def __init__(self, options: CountdownData, seed: int):
        self.numbers = options.numbers
        self.excluded = benchmark_targets()
        self.recipe = (
            f"fresh random problems every batch (seed {seed}): {options.numbers or '3-5'} numbers uniform in 1-99"
            f" and a target uniform in 10-100 among those no benchmark file uses ({len(self.excluded)} targets"
            " excluded), kept when solvable; the answer is the exact solver's first solution, as characters"
        )

    def prepare(self) -> None:
        pass

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        import random

        import torch

        rng = random.Random(int(torch.randint(1 << 62, (1,), generator=generator)))
        task = CountdownText()
        rows = []
        for _ in range(batch_size):
            problem, equations = random_example(rng, self.numbers or rng.randint(3, MAX_NUMBERS), self.excluded)
            rows.append(task.encode(problem)[:PROMPT_LEN] + answer_tokens(",".join(equations)))
        maskable = [False] * PROMPT_LEN + [True] * ANSWER_LEN
        return torch.tensor(rows), torch.tensor([maskable] * batch_size)


class CountdownText(Countdown):
    name = "countdown-text"
    position_groups = position_groups()
    seq_len = SEQ_LEN
    vocab_size = VOCAB_SIZE

    def encode(self, problem: Problem) -> list[int]:
        return super().encode(problem)[:PROMPT_LEN] + [MASK] * ANSWER_LEN

    def decode(self, problem: Problem, tokens: Sequence[int]) -> str:
        """The answer's characters, `_` for a mask, a space for padding (so padding inside an
        equation breaks it)."""
        text = "".join(
            "_" if token == MASK else " " if token == PAD else CHARACTERS.get(token, "?")
            for token in tokens[PROMPT_LEN:]
        )
        return text.strip()

    def dead_end(self, tokens):
        import numpy as np

        return np.zeros(len(tokens), dtype=bool)

    def search(self, problem: Problem, trace):
        raise NotImplementedError("countdown-text has no search; use --no-search")

    def render(self, problem: Problem, tokens: Sequence[int], confidence: Sequence[float]) -> RenderableType:
        from rich.text import Text

        return Text(
            f"numbers {' '.join(map(str, problem.numbers))}  target {problem.target}\n{self.decode(problem, tokens)}"
        )

    def training_data(self, options: CountdownData, seed: int) -> CountdownTextData:
        return CountdownTextData(options, seed)
