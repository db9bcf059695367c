"""Iterative unmasking: the diffusion sampler as a small wrapper around the denoiser.

Each of `steps` rounds runs one forward pass at `depth` over the puzzles still open, then
commits the most confident masked tokens, so many that every token is committed after `steps`
rounds. Givens (tokens that start unmasked) are never changed. Puzzles that are fully
committed leave the batch, so no work is spent on them.

Two adaptive options spend forward passes only where they change the answer: `threshold`
commits every token at least that confident in the same round (fewer rounds), and
`adaptive_depth` stops a puzzle's recursion inside a round once its predictions for the open
tokens are the same after two consecutive iterations (`depth` is then the upper bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch

from rmdm_cli.model import RecursiveDenoiser


@dataclass
class SamplerState:
    step: int  # rounds run so far
    tokens: torch.Tensor  # (B, T) current tokens, mask where still open
    confidence: torch.Tensor  # (B, T) probability each token had when committed (1 for givens)
    forward_passes: torch.Tensor  # (B,) block-stack applications spent on each puzzle


def denoise(model: RecursiveDenoiser, tokens: torch.Tensor, is_open: torch.Tensor, depth: int, adaptive_depth: bool):
    """Logits (A, T, V) after up to `depth` iterations, and the iterations each row used (A,)."""
    x = model.embed(tokens)  # (A, T, D)
    h = model.initial_state(x)
    if not adaptive_depth:
        return model.logits(model.recurse(x, h, depth)), torch.full((tokens.shape[0],), depth, device=tokens.device)
    logits = torch.empty(*tokens.shape, model.config.vocab_size, device=tokens.device)
    used = torch.zeros(tokens.shape[0], dtype=torch.long, device=tokens.device)
    running = torch.arange(tokens.shape[0], device=tokens.device)  # rows still recursing
    previous = None  # (R, T) argmax after the previous iteration, for the running rows
    for _ in range(depth):
        hidden = model.recurse(x[running], h[running], 1)  # (R, T, D)
        out = model.logits(hidden)  # (R, T, V)
        h[running], logits[running] = hidden, out
        used[running] += 1
        guess = out.argmax(-1)
        if previous is not None:
            changing = ((guess != previous) & is_open[running]).any(1)
            running, guess = running[changing], guess[changing]
            if running.numel() == 0:
                break
        previous = guess
    return logits, used


@torch.inference_mode()
def unmask(
    model: RecursiveDenoiser,
    tokens: torch.Tensor,
    steps: int,
    depth: int,
    order: str = "confidence",
    generator: torch.Generator | None = None,
    threshold: float | None = None,
    adaptive_depth: bool = False,
) -> Iterator[SamplerState]:
    """Yield the state after every round; the last state is fully committed. The state's
    tensors are updated in place by later rounds: clone what you keep.

    With `threshold`, a round also commits every open token whose probability reaches it, so
    easy puzzles finish in fewer rounds; `steps` stays the upper bound.
    """
    if steps < 1 or depth < 1:
        raise ValueError("steps and depth must be at least 1")
    mask_token = model.config.mask_token
    tokens = tokens.clone()
    is_open = tokens == mask_token
    confidence = torch.where(is_open, 0.0, 1.0)
    forward_passes = torch.zeros(tokens.shape[0], dtype=torch.long, device=tokens.device)
    for step in range(steps):
        active = is_open.any(1).nonzero().squeeze(1)  # (A,) puzzles with open tokens
        if active.numel() == 0:
            break
        open_active = is_open[active]
        logits, used = denoise(model, tokens[active], open_active, depth, adaptive_depth)  # (A, T, V), (A,)
        logits = logits.float()
        logits[..., mask_token] = float("-inf")
        probs = logits.softmax(-1)
        top = probs.topk(2, dim=-1)  # values, indices: (A, T, 2)
        best_prob, prediction = top.values[..., 0], top.indices[..., 0]
        if order == "confidence":
            score = best_prob
        elif order == "margin":
            score = best_prob - top.values[..., 1]
        elif order == "random":
            score = torch.rand(best_prob.shape, generator=generator, device="cpu").to(best_prob.device)
        elif order == "sampled":  # Gumbel-max: each commit drawn in proportion to its confidence
            uniform = torch.rand(best_prob.shape, generator=generator, device="cpu").to(best_prob.device)
            score = best_prob.log() - (-uniform.clamp_min(1e-12).log()).log()
        else:
            raise ValueError(f"unknown order {order!r}")
        score = score.masked_fill(~open_active, float("-inf"))
        # Commit ceil(open / rounds left) per puzzle so all are committed after `steps` rounds.
        rounds_left = steps - step
        quota = (open_active.sum(1) + rounds_left - 1) // rounds_left  # (A,)
        rank = score.argsort(1, descending=True).argsort(1)  # (A, T): 0 = most confident
        commit = (rank < quota[:, None]) & open_active
        if threshold is not None:
            commit |= open_active & (best_prob >= threshold)
        rows = tokens[active]
        rows[commit] = prediction[commit]
        tokens[active] = rows
        conf_rows = confidence[active]
        conf_rows[commit] = best_prob[commit]
        confidence[active] = conf_rows
        is_open[active] = open_active & ~commit
        forward_passes[active] += used
        yield SamplerState(step + 1, tokens, confidence, forward_passes)

