"""A third puzzle is one file: a toy task defined here, registered, and run through every
command of the CLI (generate, a tiny train, solve with and without search, eval), with nothing
outside the task naming it."""

import random
from dataclasses import dataclass

import pytest
import torch
from typer.testing import CliRunner

from rmdm_cli.tasks import TASK_CLASSES, PuzzleError, Task, register_task

LENGTH = 4  # digits to sort


@dataclass
class SortingData:
    """Random digit strings and their sorted copies; only the sorted half may be masked."""

    seed: int
    recipe: str = "random strings of 4 digits 1-9, sorted"

    def prepare(self) -> None:
        pass

    def batch(self, batch_size: int, generator: torch.Generator):
        digits = torch.randint(1, 10, (batch_size, LENGTH), generator=generator)
        targets = torch.cat([digits, digits.sort(1).values], 1)
        maskable = torch.zeros_like(targets, dtype=torch.bool)
        maskable[:, LENGTH:] = True
        return targets, maskable


class Sorting(Task):
    """Sort four digits: `3142` is answered `1234`. Tokens: the four digits (given), then the
    four sorted ones (to fill); 0 is the mask."""

    name = "sort"
    rules = "Write the four digits in increasing order."
    position_groups = (tuple(range(2 * LENGTH)),)
    seq_len = 2 * LENGTH
    vocab_size = 10
    mask_token = 0

    def parse(self, text: str) -> str:
        if len(text) != LENGTH or not all(ch in "123456789" for ch in text):
            raise PuzzleError(f"expected {LENGTH} digits 1-9, got {text!r}")
        return text

    def format_puzzle(self, puzzle: str) -> str:
        return puzzle

    def encode(self, puzzle: str) -> list[int]:
        return [int(ch) for ch in puzzle] + [0] * LENGTH

    def decode(self, puzzle: str, tokens) -> str:
        return "".join(str(token) if token else "_" for token in tokens[LENGTH:])

    def check(self, puzzle: str, answer: str) -> bool:
        return answer == "".join(sorted(puzzle))

    def solvable(self, puzzle: str) -> bool:
        return True

    def exact_answer(self, puzzle: str, nodes=None) -> str:
        return "".join(sorted(puzzle))

    def search(self, puzzle: str, trace, steps: int):
        """Fill the sorted half left to right with digits still unused and no smaller than the
        last, in the model's order; the model is asked once."""

        def explore(tokens: list[int], probs):
            if 0 not in tokens:
                return tokens
            position = tokens.index(0)
            used = tokens[LENGTH:position]
            left = list(tokens[:LENGTH])
            for digit in used:
                left.remove(digit)
            legal = {digit for digit in left if not used or digit >= used[-1]}
            for digit in sorted(legal, key=lambda d: -probs[position][d]):
                trace.nodes += 1
                found = yield from explore([*tokens[:position], digit, *tokens[position + 1 :]], probs)
                if found is not None:
                    return found
                trace.backtracks += 1
            return None

        def run():
            tokens = self.encode(puzzle)
            trace.tokens = tokens
            probs = yield tokens
            return (yield from explore(tokens, probs.tolist()))

        return run()

    def render(self, puzzle: str, tokens, confidence, plain: bool = False):
        from rich.text import Text

        return Text(f"{puzzle} -> {self.decode(puzzle, tokens)}")

    def training_data(self, options, seed: int) -> SortingData:
        return SortingData(seed)

    def generate(self, count: int, seed: int, options=None):
        rng = random.Random(f"sort-{seed}")
        for _ in range(count):
            yield "".join(rng.choice("123456789") for _ in range(LENGTH))


@pytest.fixture
def app():
    from rmdm_cli.cli import make_app

    register_task(Sorting)
    yield make_app()
    del TASK_CLASSES["sort"]


def test_a_task_defined_in_one_place_runs_through_every_command(app, tmp_path):
    runner = CliRunner()
    generated = runner.invoke(app, ["generate", "sort", "--count", "3", "--seed", "4"])
    puzzles = generated.stdout.split()
    assert generated.exit_code == 0 and len(puzzles) == 3 and all(len(p) == LENGTH for p in puzzles)
    weights = tmp_path / "sort.safetensors"
    trained = runner.invoke(
        app,
        ["train", "sort", "--width", "16", "--heads", "2", "--layers", "1", "--depth", "1", "--batch-size", "8"]
        + ["--train-steps", "3", "--eval-count", "0", "--out", str(weights), "--state", str(tmp_path / "s.pt")],
    )
    assert trained.exit_code == 0, trained.output
    assert "training data: random strings of 4 digits 1-9, sorted" in trained.output
    searched = runner.invoke(app, ["solve", "sort", "--weights", str(weights), "3142", "9151"])
    assert searched.exit_code == 0 and searched.stdout == "1234\n1159\n"  # the rules make every answer right
    sampled = runner.invoke(
        app, ["solve", "sort", "--weights", str(weights), "--no-search", "--format", "jsonl", "3142"]
    )
    assert sampled.exit_code in (0, 1) and '"puzzle": "3142"' in sampled.stdout  # 3 steps of training: right or not
    bad = runner.invoke(app, ["solve", "sort", "--weights", str(weights), "31x2"])
    assert bad.exit_code == 2 and "line 1: expected 4 digits 1-9, got '31x2'" in bad.stderr
    path = tmp_path / "set.txt"
    path.write_text("\n".join(puzzles) + "\n")
    evaluated = runner.invoke(app, ["eval", "sort", str(path), "--weights", str(weights), "--json"])
    assert evaluated.exit_code == 0 and '"search_solved_pct": 100.0' in evaluated.stdout
