"""Solve parsed puzzles with a model: encode, run the sampler, decode, check."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import torch

from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.sampler import SamplerState, unmask
from rmdm_cli.tasks import Task


@dataclass(frozen=True)
class Decoding:
    """How the sampler runs; depth and steps left None take the weights' stored defaults."""

    depth: int | None = None  # block-stack applications per denoising step
    steps: int | None = None  # denoising rounds (upper bound with a threshold)
    order: str = "confidence"  # which open tokens a round commits first
    threshold: float | None = None  # also commit every open token at least this confident
    seed: int = 0  # for the random commit order

    def with_defaults(self, defaults: dict) -> "Decoding":
        return replace(self, depth=self.depth or defaults["depth"], steps=self.steps or defaults["steps"])


@dataclass
class Answer:
    answer: str  # decoded answer text
    solved: bool  # decided by the task's exact checker
    forward_passes: int  # block-stack applications spent on this puzzle
    seconds: float  # wall time of the batch this puzzle was in, shared equally


def solve_batch(
    model: RecursiveDenoiser,
    task: Task,
    puzzles: Sequence[Any],
    decoding: Decoding,
    on_state: Callable[[SamplerState], None] | None = None,
) -> list[Answer]:
    """Solve a batch of parsed puzzles together; `on_state` sees every intermediate state."""
    device = next(model.parameters()).device
    started = time.perf_counter()
    tokens = torch.tensor([task.encode(puzzle) for puzzle in puzzles], dtype=torch.long, device=device)
    generator = torch.Generator().manual_seed(decoding.seed)
    state = None
    sampler = unmask(model, tokens, decoding.steps, decoding.depth, order=decoding.order, generator=generator, threshold=decoding.threshold)
    for state in sampler:
        if on_state:
            on_state(state)
    final = tokens if state is None else state.tokens
    passes = [0] * len(puzzles) if state is None else state.forward_passes.tolist()
    seconds = (time.perf_counter() - started) / max(1, len(puzzles))
    answers = []
    for puzzle, row, spent in zip(puzzles, final.tolist(), passes):
        answer = task.decode(puzzle, row)
        answers.append(Answer(answer, task.check(puzzle, answer), spent, seconds))
    return answers


def solve_all(model, task: Task, puzzles: Sequence[Any], decoding: Decoding, batch_size: int = 256) -> list[Answer]:
    answers: list[Answer] = []
    for start in range(0, len(puzzles), batch_size):
        answers += solve_batch(model, task, puzzles[start : start + batch_size], decoding)
    return answers
