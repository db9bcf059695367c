"""The interface every puzzle task implements, so a new puzzle is one new module."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np
    import torch
    from rich.console import RenderableType


class PuzzleError(ValueError):
    """An input line that is not a valid puzzle; the message says why."""


@dataclass(frozen=True)
class NoOptions:
    """A task's options where it has none. Options are frozen dataclasses whose fields carry a
    `help` in their metadata: `rmdm train` and `rmdm generate` offer each field as an option."""


class TrainingData(Protocol):
    """Where a task's training examples come from, built once per training run."""

    recipe: str  # one sentence for the weights' metadata (known before anything is made)

    def prepare(self) -> None:
        """Make what batches draw from (it may take minutes), before the training clock starts."""
        ...

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """(targets (B, T), maskable (B, T)): complete answers and which tokens may be masked."""
        ...


class Task:
    name: str
    position_groups: tuple[tuple[int, ...], ...]  # per group, each position's id in it: the model's position embeddings
    seq_len: int  # tokens per encoded puzzle
    vocab_size: int  # token ids, mask included
    mask_token: int
    rules: str  # the puzzle's rules in a sentence, for `rmdm solve TASK --help`
    no_solution: str = "the puzzle has no solution"  # why an unsolvable puzzle is not solved, for stderr
    train_defaults: dict[str, Any] = {}  # TrainConfig fields whose default this task's recipe changes
    # decoding settings its weights store: the sampler's threshold and adaptive_depth, the search's depth
    stored_defaults: dict[str, Any] = {}
    DataOptions: type = NoOptions  # how its training data is made (`rmdm train TASK` options)
    GenerateOptions: type = NoOptions  # what its generator makes (`rmdm generate TASK` options)
    SolveOptions: type = NoOptions  # another way to give one puzzle (`rmdm solve TASK` options)
    # The scaling study (`rmdm study`): TrainConfig fields its cells change from the task's
    # recipe, and its held-out sets by name: the GenerateOptions fields of a generated set, or
    # {"file": path in the repository} (sets far from saturation, so that cells spread out).
    study_recipe: dict[str, Any] = {}
    study_eval_sets: dict[str, dict[str, Any]] = {}

    def records(self, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """Turn numbered input lines into numbered puzzle texts (e.g. pick a CSV column)."""
        return iter(lines)

    def puzzle_from_options(self, options: Any, arguments: list[str]) -> list[str] | None:
        """The puzzle texts the SolveOptions give (with the positional `arguments`, which the
        shell may have split them into), or None where they give none."""
        return None

    def playing(self, first: str, options: Any) -> Task:
        """The task that plays a run of `rmdm solve` whose first puzzle text is `first`, given
        its SolveOptions: this one, or a variant with rules of its own."""
        return self

    def parse(self, text: str) -> Any:
        """Parse and validate one puzzle text; raise PuzzleError with the reason."""
        raise NotImplementedError

    def format_puzzle(self, puzzle: Any) -> str:
        raise NotImplementedError

    def encode(self, puzzle: Any) -> list[int]:
        """Token ids of length seq_len; cells to fill hold `mask_token`, givens their value."""
        raise NotImplementedError

    def decode(self, puzzle: Any, tokens: Sequence[int]) -> str:
        """The answer text for a fully committed token sequence."""
        raise NotImplementedError

    def check(self, puzzle: Any, answer: str) -> bool:
        """The exact rules checker: True only for a correct answer."""
        raise NotImplementedError

    def violation(self, puzzle: Any, answer: str) -> str | None:
        """The first rule a rejected answer breaks, in words (None if the task cannot name one)."""
        return None

    def dead_end(self, tokens: np.ndarray) -> np.ndarray:
        """(B,) True where the committed tokens (B, T) already rule out every solution, so the
        sampler may stop that puzzle: its answer cannot end right. A task without such a rule
        check never stops early."""
        import numpy as np

        return np.zeros(len(tokens), dtype=bool)

    def exact_answer(self, puzzle: Any, nodes: list[int] | None = None) -> str | None:
        """An answer found by the task's exact solver (the baseline `rmdm bench` compares with);
        the commitments it tries are counted into `nodes[0]`."""
        raise NotImplementedError

    def search(self, puzzle: Any, trace, steps: int) -> Generator:
        """A depth-first search for an answer that passes the checker (search.py has the
        protocol): yields token states for the model, receives its probabilities (T, V), keeps
        `trace` up to date, returns the answer tokens or None when no answer exists. It asks
        the model again after every 1/steps of the blanks is committed, as the sampler's
        `steps` rounds would, and in between orders its choices by the last predictions."""
        raise NotImplementedError

    def solvable(self, puzzle: Any) -> bool | None:
        """Whether the puzzle has any solution (asked when the model fails); None if not decided."""
        return None

    def remark(self, puzzle: Any, answer: str) -> str | None:
        """What a user should know of a correct answer (e.g. that it is the closest there is,
        not the target), for stderr; None if nothing."""
        return None

    def beyond_training(self, puzzle: Any) -> str | None:
        """What in the puzzle lies outside the ranges the task's models train on (said when the
        model fails a solvable puzzle, since it was never shown such puzzles); None if nothing."""
        return None

    def render(
        self, puzzle: Any, tokens: Sequence[int], confidence: Sequence[float], plain: bool = False
    ) -> RenderableType:
        """A Rich view of a partly committed answer (mask tokens still open), drawn in the styles
        display.legend names: what breaks a rule in red; `plain` (no colour) adds the marks the
        legend names for what the colours would say."""
        raise NotImplementedError

    def training_data(self, options: Any, seed: int) -> TrainingData:
        """The training examples for these DataOptions, drawn from `seed`'s streams."""
        raise NotImplementedError

    def generate(self, count: int, seed: int, options: Any = None) -> Iterator[str]:
        """Puzzle texts from the task's generator (GenerateOptions; None: the defaults), held
        out from training data."""
        raise NotImplementedError

    def held_out_options(self, options: Any) -> Any:
        """The GenerateOptions that make held-out puzzles like those trained on with DataOptions."""
        return self.GenerateOptions()
