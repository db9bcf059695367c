"""Solve parsed puzzles with a model: encode, run the sampler, decode, check."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rmdm_cli.sampler import Denoiser, SamplerState, unmask
from rmdm_cli.tasks import Task

# The search asks the model once, where the rules first stall: those first predictions order the
# later choices about as well as fresh ones, at a fraction of the passes (docs/inference.md).
SEARCH_STEPS = 1


@dataclass(frozen=True)
class Decoding:
    """How the sampler runs; depth and steps left None, and the threshold and adaptive depth
    left unset, take the weights' stored defaults (the last two not when `fixed`)."""

    depth: int | None = None  # block-stack applications per denoising step
    steps: int | None = None  # denoising rounds (upper bound with a threshold); with search, model calls
    # between which it commits 1/steps of the blanks
    order: str = "confidence"  # which open tokens a round commits first
    threshold: float | None = None  # also commit every open token at least this confident
    adaptive_depth: bool = False  # stop recursing once the open tokens' predictions are stable
    fixed: bool = False  # ignore the threshold and adaptive depth the weights store
    give_up: bool = False  # stop a puzzle once its committed tokens rule out every solution (the task's dead_end)
    retries: int = 0  # re-runs of puzzles the checker rejects, each with a sampled commit order
    seed: int = 0  # for the random and sampled commit orders
    search: bool = False  # verified search (search.py) instead of one sampler run; the options above are the sampler's
    budget: int = 4000  # with search: forward passes a puzzle may spend
    uniform: bool = False  # with search: uniform predictions instead of the model's (the rules alone guide it)

    def with_defaults(self, defaults: dict) -> Decoding:
        """Unset settings from the weights' stored `defaults` (the search's depth their
        `search_depth` where they store one, its steps SEARCH_STEPS)."""
        stored = {} if self.fixed else defaults
        return replace(
            self,
            depth=self.depth or (defaults.get("search_depth", defaults["depth"]) if self.search else defaults["depth"]),
            steps=self.steps or (SEARCH_STEPS if self.search else defaults["steps"]),
            threshold=stored.get("threshold") if self.threshold is None else self.threshold,
            adaptive_depth=self.adaptive_depth or stored.get("adaptive_depth", False),
        )


@dataclass
class Answer:
    answer: str  # decoded answer text
    tokens: list[int]  # the token row it was decoded from
    solved: bool  # decided by the task's exact checker
    forward_passes: int  # block-stack applications spent on this puzzle, all attempts
    seconds: float  # this puzzle's share of its batch's wall time, in proportion to its forward passes, all attempts
    attempts: int = 1  # 1 + retries used
    nodes: int = 0  # with search: commitments tried
    backtracks: int = 0  # with search: commitments undone after a dead end
    exhausted: bool = False  # with search: every possibility tried, so the puzzle has no solution


@dataclass(frozen=True)
class Failure:
    """Why a puzzle was not solved: "no solution" (the puzzle has none), "breaks a rule" (the
    model's answer does, though a solution exists) or "missed" (a solution exists; the answer
    breaks no rule the task can name)."""

    reason: str
    detail: str | None  # the first rule the answer breaks
    message: str  # one line for stderr


def diagnose(task: Task, puzzle: Any, answer: Answer) -> Failure:
    """The reason an answer the checker rejected is not a solution."""
    solvable = False if answer.exhausted else task.solvable(puzzle)
    if not solvable:
        return Failure("no solution", None, task.no_solution)
    detail = task.violation(puzzle, answer.answer)
    message = (
        f"a solution exists; the model's answer breaks a rule: {detail}"
        if detail
        else "a solution exists and the model missed it"
    )
    if beyond := task.beyond_training(puzzle):
        message += f"; {beyond}"
    return Failure("breaks a rule" if detail else "missed", detail, message)


# Retries draw the commit order in proportion to confidence, which beat every other way of
# varying an attempt that was measured (docs/inference.md).
RETRY_ORDER = "sampled"


def solve_batch(
    model: Denoiser,
    task: Task,
    puzzles: Sequence[Any],
    decoding: Decoding,
    on_state: Callable[[SamplerState], None] | None = None,
    on_trace: Callable[[int, Any], None] | None = None,
) -> list[Answer]:
    """Solve a batch of parsed puzzles together; `on_state` sees every intermediate state of
    the sampler, `on_trace(index, trace)` every step of a search. With `decoding.retries`, the
    puzzles the checker rejects run again with a sampled commit order and a fresh seed each
    attempt, until solved or out of retries."""
    if decoding.search:
        from rmdm_cli.search import search_batch

        return search_batch(model, task, puzzles, decoding, on_trace)
    answers = attempt(model, task, puzzles, decoding, on_state)
    for retry in range(1, decoding.retries + 1):
        failed = [index for index, answer in enumerate(answers) if not answer.solved]
        if not failed:
            break
        again = attempt(
            model,
            task,
            [puzzles[i] for i in failed],
            replace(decoding, order=RETRY_ORDER, seed=decoding.seed + retry),
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


def attempt(model: Denoiser, task: Task, puzzles: Sequence[Any], decoding: Decoding, on_state) -> list[Answer]:
    """One sampler run over the batch."""
    started = time.perf_counter()
    tokens = np.array([task.encode(puzzle) for puzzle in puzzles], dtype=np.int64)
    state = None
    sampler = unmask(
        model,
        tokens,
        decoding.steps,
        decoding.depth,
        order=decoding.order,
        rng=np.random.default_rng(decoding.seed),
        threshold=decoding.threshold,
        adaptive_depth=decoding.adaptive_depth,
        dead_end=task.dead_end if decoding.give_up else None,
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
    decoding: Decoding,
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
                on_done(done + size * state.step / decoding.steps)

        answers += solve_batch(model, task, batch, decoding, on_state)
        if on_done:
            on_done(len(answers))
    return answers


def measure(
    model: Denoiser,
    task: Task,
    puzzles: Sequence[Any],
    decoding: Decoding,
    on_done: Callable[[float], None] | None = None,
) -> dict:
    """Solved %, mean forward passes and puzzles/s of one decoding over the puzzles."""
    started = time.perf_counter()
    answers = solve_all(model, task, puzzles, decoding, on_done=on_done)
    seconds = time.perf_counter() - started
    count = max(1, len(answers))
    measured = {
        "solved_pct": round(100 * sum(a.solved for a in answers) / count, 2),
        "mean_forward_passes": round(sum(a.forward_passes for a in answers) / count, 1),
        "median_forward_passes": float(np.median([a.forward_passes for a in answers])) if answers else 0.0,
        "puzzles_per_s": round(len(answers) / seconds, 2),
    }
    if decoding.search:
        measured["mean_nodes"] = round(sum(a.nodes for a in answers) / count, 1)
    return measured
