"""The recursive masked-diffusion denoiser: one block stack applied `depth` times.

Inside one forward call the same `n_layers` transformer blocks are applied `depth` times to
their own hidden state, with the input embedding re-added before every application, so the
effective depth grows without new parameters. `depth` is an argument of `forward`, not of the
weights: a model trained at depth 4 runs at depth 1 or 16 unchanged.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rmdm_cli.config import ModelConfig


class Block(nn.Module):
    """Pre-norm transformer block with full bidirectional attention."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.heads = config.heads
        self.norm_attn = nn.LayerNorm(config.width)
        self.qkv = nn.Linear(config.width, 3 * config.width)
        self.proj = nn.Linear(config.width, config.width)
        self.norm_mlp = nn.LayerNorm(config.width)
        self.mlp = nn.Sequential(
            nn.Linear(config.width, config.mlp_ratio * config.width),
            nn.GELU(),
            nn.Linear(config.mlp_ratio * config.width, config.width),
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, D)
        batch, tokens, width = h.shape
        q, k, v = self.qkv(self.norm_attn(h)).split(width, dim=-1)
        # (B, T, D) -> (B, heads, T, D/heads)
        q, k, v = (t.view(batch, tokens, self.heads, -1).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v)  # (B, heads, T, D/heads)
        h = h + self.proj(attended.transpose(1, 2).reshape(batch, tokens, width))
        return h + self.mlp(self.norm_mlp(h))


class RecursiveDenoiser(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.width)
        self.group_embeddings = nn.ModuleList(
            nn.Embedding(max(group) + 1, config.width) for group in config.position_groups
        )
        group_ids = torch.tensor(config.position_groups, dtype=torch.long).view(-1, config.seq_len)  # (G, T)
        self.register_buffer("group_ids", group_ids, persistent=False)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.norm_out = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.vocab_size)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            # Unit scale: the embedding is re-added every iteration and must not vanish
            # against a hidden state that grows with depth.
            nn.init.normal_(module.weight, std=1.0)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, D)
        x = self.token_embedding(tokens)
        for embedding, ids in zip(self.group_embeddings, self.group_ids):
            x = x + embedding(ids)
        return x

    def initial_state(self, x: torch.Tensor) -> torch.Tensor:
        """The hidden state before the first iteration: zeros when `recurse` adds the input, else a copy of it."""
        return torch.zeros_like(x) if self.config.reinject else x.clone()

    def recurse(self, x: torch.Tensor, h: torch.Tensor, depth: int) -> torch.Tensor:
        """Apply the block stack `depth` times, re-adding the input embedding `x` each time (with `reinject`)."""
        for _ in range(depth):
            if self.config.reinject:
                h = h + x
            for block in self.blocks:
                h = block(h)
        return h

    def logits(self, h: torch.Tensor) -> torch.Tensor:  # (B, T, D) -> (B, T, V)
        return self.head(self.norm_out(h))

    # The two calls the sampler makes (sampler.py), shared with numpy_model.NumpyDenoiser: NumPy
    # in and out, so the sampler runs the same on either.
    @torch.inference_mode()
    def start(self, tokens: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The input embedding x and the hidden state h before the first iteration."""
        x = self.embed(torch.as_tensor(tokens, device=self.head.weight.device))
        return x, self.initial_state(x)

    @torch.inference_mode()
    def advance(self, x: torch.Tensor, h: torch.Tensor, rows: np.ndarray | None, iterations: int) -> np.ndarray:
        """Run `iterations` more applications of the block stack on `rows` (None: all) of h,
        in place, and return their logits (R, T, V)."""
        index = slice(None) if rows is None else torch.as_tensor(rows, device=h.device)
        hidden = self.recurse(x[index], h[index], iterations)
        h[index] = hidden
        return self.logits(hidden).float().cpu().numpy()

    def forward(self, tokens: torch.Tensor, depth: int | None = None) -> torch.Tensor:
        """Logits (B, T, V) after `depth` applications of the block stack (default: trained depth)."""
        x = self.embed(tokens)
        return self.logits(self.recurse(x, self.initial_state(x), depth or self.config.depth))
