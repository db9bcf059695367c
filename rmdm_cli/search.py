"""Verified search: the model proposes, the rules check, and a dead end backtracks.

Each task's `search(puzzle, trace)` is a depth-first search written as a generator: it yields
the tokens of a state it wants the model's view of and receives the model's probabilities
(T, V) for it, orders its choices by them, prunes with the task's exact rules, and returns the
answer tokens once they pass the checker (None when the whole space is exhausted: the puzzle
has no solution). The driver here batches every open puzzle's request into one forward pass,
so many searches share the model, and stops a search at its budget of forward passes (block
applications, as the sampler counts them), answering its last state as not solved.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rmdm_cli.answers import Answer
from rmdm_cli.sampler import probabilities
from rmdm_cli.settings import SearchSettings
from rmdm_cli.tasks import Task


class OutOfBudget(Exception):
    """Thrown into a search whose forward passes are spent."""


@dataclass
class Trace:
    """What a search has done so far, kept up to date by the task's search."""

    tokens: Any = None  # the state last shown to the model (T,)
    probs: Any = None  # the model's probabilities for it (T, V)
    nodes: int = 0  # commitments tried
    backtracks: int = 0  # commitments undone after a dead end


def uniform_probs(tokens: np.ndarray, vocab_size: int, mask_token: int) -> np.ndarray:
    """Predictions that know nothing: the search is then guided by the rules alone."""
    probs = np.ones((*tokens.shape, vocab_size), dtype=np.float32)
    probs[..., mask_token] = 0
    return probs / probs.sum(-1, keepdims=True)


def filled(task: Task, puzzle: Any, trace: Trace) -> np.ndarray:
    tokens = np.array(task.encode(puzzle) if trace.tokens is None else trace.tokens)
    if trace.probs is not None:
        open_tokens = tokens == task.mask_token
        tokens[open_tokens] = trace.probs.argmax(-1)[open_tokens]
    return tokens


def search_batch(
    model,
    task: Task,
    puzzles: Sequence[Any],
    settings: SearchSettings,
    on_trace: Callable[[int, Trace], None] | None = None,
) -> list[Answer]:
    """Search every puzzle within `settings.budget` forward passes, the model called at
    `settings.depth` as `settings.steps` say, its calls batched across the puzzles
    (`settings.uniform`: uniform predictions instead of the model's). `on_trace(index,
    trace)` sees each search's progress."""
    started = time.perf_counter()
    traces = [Trace() for _ in puzzles]
    searches = [task.search(puzzle, trace, settings.steps) for puzzle, trace in zip(puzzles, traces)]
    passes = [0] * len(puzzles)
    found: dict[int, Any] = {}
    pending: dict[int, np.ndarray] = {}

    def advance(index: int, send) -> None:
        try:
            pending[index] = send()
        except StopIteration as stop:
            found[index] = stop.value
            pending.pop(index, None)
        except OutOfBudget:
            pending.pop(index, None)

    for index, search in enumerate(searches):
        advance(index, lambda search=search: next(search))
    while pending:
        order = sorted(pending)
        tokens = np.stack([pending[index] for index in order])
        if settings.uniform:
            probs = uniform_probs(tokens, task.vocab_size, task.mask_token)
        else:
            logits = model.advance(*model.start(tokens), None, settings.depth)  # every node from the initial state
            probs = probabilities(logits, task.mask_token)
        for index, row in zip(order, probs):
            passes[index] += settings.depth
            traces[index].probs = row
            if on_trace:
                on_trace(index, traces[index])
            if passes[index] >= settings.budget:
                advance(index, lambda index=index: searches[index].throw(OutOfBudget()))
            else:
                advance(index, lambda index=index, row=row: searches[index].send(row))
    elapsed = time.perf_counter() - started
    total = sum(passes) or len(puzzles)
    answers = []
    for index, puzzle in enumerate(puzzles):
        trace, tokens = traces[index], found.get(index)
        exhausted = tokens is None and passes[index] < settings.budget
        if tokens is None:  # the last state searched, its open tokens filled with the model's last guesses
            tokens = filled(task, puzzle, trace)
        tokens = [int(token) for token in tokens]
        answer = task.decode(puzzle, tokens)
        share = (passes[index] or 1) / total
        answers.append(
            Answer(
                answer,
                tokens,
                task.check(puzzle, answer),
                passes[index],
                elapsed * share,
                nodes=trace.nodes,
                backtracks=trace.backtracks,
                exhausted=exhausted,
            )  # fmt: skip
        )
    return answers
