"""Iterative unmasking: the diffusion sampler as a small wrapper around the denoiser.

Each of `steps` rounds runs one forward pass at `depth` over the puzzles still open, then
commits the most confident masked tokens, so many that every token is committed after `steps`
rounds. A round's recursion starts from the model's initial state. Givens
(tokens that start unmasked) are never changed. Puzzles that are fully committed leave the
batch, so no work is spent on them.

Two adaptive options spend forward passes only where they change the answer: `threshold`
commits every token at least that confident in the same round (fewer rounds), and
`adaptive_depth` stops a puzzle's recursion inside a round once its predictions for the open
tokens are the same after two consecutive iterations (`depth` is then the upper bound).
A third, `dead_end` (the task's rule check), stops a puzzle whose committed tokens already rule
out every solution: committed tokens never change, so more passes could not make it right.

The sampler works on NumPy arrays and asks the denoiser for two things, `start` (embed the
tokens) and `advance` (more iterations, logits back), so the torch model (model.py) and its
torch-free copy (numpy_model.py) run the same sampler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rmdm_cli.config import ModelConfig


class Denoiser(Protocol):
    config: ModelConfig

    def start(self, tokens: np.ndarray) -> tuple[Any, Any]: ...  # (x, h): input embedding and hidden state

    def advance(self, x: Any, h: Any, rows: np.ndarray | None, iterations: int) -> np.ndarray: ...  # logits (R, T, V)


@dataclass
class SamplerState:
    step: int  # rounds run so far
    tokens: np.ndarray  # (B, T) current tokens, mask where still open
    confidence: np.ndarray  # (B, T) probability each token had when committed (1 for givens)
    forward_passes: np.ndarray  # (B,) block-stack applications spent on each puzzle


def denoise(
    model: Denoiser, x: Any, h: Any, is_open: np.ndarray, depth: int, adaptive_depth: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Logits (A, T, V) after up to `depth` more iterations from input embedding x and hidden
    state h (updated in place), and the iterations each row used (A,). `is_open` (A, T): the
    masked tokens."""
    if not adaptive_depth:
        return model.advance(x, h, None, depth), np.full(len(is_open), depth)
    logits = np.empty((*is_open.shape, model.config.vocab_size), dtype=np.float32)
    used = np.zeros(len(is_open), dtype=np.int64)
    running = np.arange(len(is_open))  # rows still recursing
    previous = None  # (R, T) argmax after the previous iteration, for the running rows
    for _ in range(depth):
        out = model.advance(x, h, running, 1)  # (R, T, V)
        logits[running] = out
        used[running] += 1
        guess = out.argmax(-1)
        if previous is not None:
            changing = ((guess != previous) & is_open[running]).any(1)
            running, guess = running[changing], guess[changing]
            if running.size == 0:
                break
        previous = guess
    return logits, used


def probabilities(logits: np.ndarray, mask_token: int) -> np.ndarray:
    """Softmax over the vocabulary (in place of `logits`), the mask token never predicted."""
    logits[..., mask_token] = -np.inf
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return probs


def unmask(
    model: Denoiser,
    tokens: np.ndarray,
    steps: int,
    depth: int,
    order: str = "confidence",
    rng: np.random.Generator | None = None,
    threshold: float | None = None,
    adaptive_depth: bool = False,
    dead_end: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Iterator[SamplerState]:
    """Yield the state after every round; the last state is fully committed. The state's
    arrays are updated in place by later rounds: copy what you keep.

    With `threshold`, a round also commits every open token whose probability reaches it, so
    easy puzzles finish in fewer rounds; `steps` stays the upper bound. `rng` draws the random
    and sampled commit orders. With `dead_end`, a puzzle it flags after a round's commits has
    all its open tokens committed to their current predictions at once.
    """
    if steps < 1 or depth < 1:
        raise ValueError("steps and depth must be at least 1")
    rng = rng or np.random.default_rng(0)
    mask_token = model.config.mask_token
    tokens = np.array(tokens, dtype=np.int64)
    is_open = tokens == mask_token
    confidence = np.where(is_open, 0.0, 1.0).astype(np.float32)
    forward_passes = np.zeros(len(tokens), dtype=np.int64)
    for step in range(steps):
        active = np.flatnonzero(is_open.any(1))  # (A,) puzzles with open tokens
        if active.size == 0:
            break
        open_active = is_open[active]
        x, h = model.start(tokens[active])
        logits, used = denoise(model, x, h, open_active, depth, adaptive_depth)  # (A, T, V), (A,)
        probs = probabilities(logits, mask_token)
        prediction = probs.argmax(-1)  # (A, T)
        ranked = np.sort(probs, -1)
        best_prob = ranked[..., -1]
        if order == "confidence":
            score = best_prob
        elif order == "sampled":  # Gumbel-max: each commit drawn in proportion to its confidence
            score = np.log(best_prob) + rng.gumbel(size=best_prob.shape)
        else:
            raise ValueError(f"unknown order {order!r}")
        score = np.where(open_active, score, -np.inf)
        # Commit ceil(open / rounds left) per puzzle so all are committed after `steps` rounds.
        rounds_left = steps - step
        quota = (open_active.sum(1) + rounds_left - 1) // rounds_left  # (A,)
        rank = np.argsort(np.argsort(-score, axis=1, kind="stable"), axis=1)  # (A, T): 0 = most confident
        commit = (rank < quota[:, None]) & open_active
        if threshold is not None:
            commit |= open_active & (best_prob >= threshold)
        rows = tokens[active]
        if dead_end is not None:
            stuck = dead_end(np.where(commit, prediction, rows))  # (A,)
            commit |= open_active & stuck[:, None]
        rows[commit] = prediction[commit]
        tokens[active] = rows
        conf_rows = confidence[active]
        conf_rows[commit] = best_prob[commit]
        confidence[active] = conf_rows
        is_open[active] = open_active & ~commit
        forward_passes[active] += used
        yield SamplerState(step + 1, tokens, confidence, forward_passes)
