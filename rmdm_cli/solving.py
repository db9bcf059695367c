"""Solve parsed puzzles with a model, the sampler's way or the search's: the one entry both
take (solve_batch), and what runs on top of it (all of a file in batches, measurements)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rmdm_cli.answers import Answer
from rmdm_cli.sampler import Denoiser, SamplerState, unmask
from rmdm_cli.search import search_batch
from rmdm_cli.settings import SamplerSettings, SearchSettings, Settings
from rmdm_cli.tasks import Task

# Retries draw the commit order in proportion to confidence, which beat every other way of
# varying an attempt that was measured (docs/inference.md).
RETRY_ORDER = "sampled"


def solve_batch(
    model: Denoiser,
    task: Task,
    puzzles: Sequence[Any],
    settings: Settings,
    on_state: Callable[[SamplerState], None] | None = None,
    on_trace: Callable[[int, Any], None] | None = None,
) -> list[Answer]:
    """Solve a batch of parsed puzzles together with the sampler or the search, as `settings`
    say; `on_state` sees every intermediate state of the sampler, `on_trace(index, trace)`
    every step of a search. With the sampler's `retries`, the puzzles the checker rejects run
    again with a sampled commit order and a fresh seed each attempt, until solved or out of
    retries."""
    if isinstance(settings, SearchSettings):
        return search_batch(model, task, puzzles, settings, on_trace)
    answers = attempt(model, task, puzzles, settings, on_state)
    for retry in range(1, settings.retries + 1):
        failed = [index for index, answer in enumerate(answers) if not answer.solved]
        if not failed:
            break
        again = attempt(
            model,
            task,
            [puzzles[i] for i in failed],
            replace(settings, order=RETRY_ORDER, seed=settings.seed + retry),
            on_state,
        )
        for index, answer in zip(failed, again):
            previous = answers[index]
            answers[index] = replace(
                answer,
                forward_passes=previous.forward_passes + answer.forward_passes,
                seconds=previous.seconds + answer.seconds,
                attempts=previous.attempts + 1,
            )
    return answers


def attempt(model: Denoiser, task: Task, puzzles: Sequence[Any], settings: SamplerSettings, on_state) -> list[Answer]:
    """One sampler run over the batch."""
    started = time.perf_counter()
    tokens = np.array([task.encode(puzzle) for puzzle in puzzles], dtype=np.int64)
    state = None
    sampler = unmask(
        model,
        tokens,
        settings.steps,
        settings.depth,
        order=settings.order,
        rng=np.random.default_rng(settings.seed),
        threshold=settings.threshold,
        adaptive_depth=settings.adaptive_depth,
        dead_end=task.dead_end if settings.give_up else None,
    )
    for state in sampler:
        if on_state:
            on_state(state)
    final = tokens if state is None else state.tokens
    passes = [0] * len(puzzles) if state is None else state.forward_passes.tolist()
    elapsed = time.perf_counter() - started
    total_passes = sum(passes)
    answers = []
    for puzzle, row, spent in zip(puzzles, final.tolist(), passes):
        answer = task.decode(puzzle, row)
        share = spent / total_passes if total_passes else 1 / len(puzzles)
        answers.append(Answer(answer, row, task.check(puzzle, answer), spent, elapsed * share))
    return answers


def solve_all(
    model: Denoiser,
    task: Task,
    puzzles: Sequence[Any],
    settings: Settings,
    batch_size: int = 256,
    on_done: Callable[[float], None] | None = None,
) -> list[Answer]:
    """Every puzzle's answer; `on_done` hears how many puzzles are done (fractions within a batch)."""
    answers: list[Answer] = []
    for start in range(0, len(puzzles), batch_size):
        batch = puzzles[start : start + batch_size]
        on_state = None
        if on_done:

            def on_state(state, done=len(answers), size=len(batch)):
                on_done(done + size * state.step / settings.steps)

        answers += solve_batch(model, task, batch, settings, on_state)
        if on_done:
            on_done(len(answers))
    return answers


def measure(
    model: Denoiser,
    task: Task,
    puzzles: Sequence[Any],
    settings: Settings,
    on_done: Callable[[float], None] | None = None,
) -> dict:
    """Solved %, mean forward passes and puzzles/s of one way of solving over the puzzles."""
    started = time.perf_counter()
    answers = solve_all(model, task, puzzles, settings, on_done=on_done)
    seconds = time.perf_counter() - started
    count = max(1, len(answers))
    measured = {
        "solved_pct": round(100 * sum(a.solved for a in answers) / count, 2),
        "mean_forward_passes": round(sum(a.forward_passes for a in answers) / count, 1),
        "median_forward_passes": float(np.median([a.forward_passes for a in answers])) if answers else 0.0,
        "puzzles_per_s": round(len(answers) / seconds, 2),
    }
    if isinstance(settings, SearchSettings):
        measured["mean_nodes"] = round(sum(a.nodes for a in answers) / count, 1)
    return measured
