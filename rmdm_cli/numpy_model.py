"""The denoiser's forward pass in NumPy, for solving on the CPU without importing torch.

`import torch` alone takes about 2 s on this project's CPU, longer than solving one puzzle, so
a single solve on the CPU runs on this copy of model.py's forward pass instead. It reads the
same checkpoints, mirrors `RecursiveDenoiser` operation for operation (the tests compare their
logits), and offers the same two calls the sampler uses, `start` and `advance`. Training,
batches and CUDA stay on torch.
"""

from __future__ import annotations

import math

import numpy as np

from rmdm_cli.config import ModelConfig

LAYER_NORM_EPS = 1e-5  # torch.nn.LayerNorm's default


def parameter_shapes(config: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Every tensor a checkpoint of this config holds, by its torch state_dict name."""
    width, hidden = config.width, config.mlp_ratio * config.width
    shapes: dict[str, tuple[int, ...]] = {"token_embedding.weight": (config.vocab_size, width)}
    for index, group in enumerate(config.position_groups):
        shapes[f"group_embeddings.{index}.weight"] = (max(group) + 1, width)
    for layer in range(config.n_layers):
        for name, (rows, cols) in {
            "qkv": (3 * width, width),
            "proj": (width, width),
            "mlp.0": (hidden, width),
            "mlp.2": (width, hidden),
        }.items():
            shapes[f"blocks.{layer}.{name}.weight"], shapes[f"blocks.{layer}.{name}.bias"] = (rows, cols), (rows,)
        for norm in ("norm_attn", "norm_mlp"):
            shapes[f"blocks.{layer}.{norm}.weight"] = shapes[f"blocks.{layer}.{norm}.bias"] = (width,)
    shapes["norm_out.weight"] = shapes["norm_out.bias"] = (width,)
    shapes["head.weight"], shapes["head.bias"] = (config.vocab_size, width), (config.vocab_size,)
    return shapes


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    variance = np.square(centred).mean(-1, keepdims=True)
    centred *= 1 / np.sqrt(variance + np.float32(LAYER_NORM_EPS))
    centred *= weight
    centred += bias
    return centred


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU like nn.GELU(). NumPy has no erf, so 1 - erf(|x|/sqrt 2) comes from
    Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7, under float32 rounding), computed
    in place: this is the forward pass's largest elementwise cost."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = z * np.float32(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    tail = t * np.float32(1.061405429)  # tail = 1 - erf(|x| / sqrt 2) once finished
    for coefficient in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        tail += np.float32(coefficient)
        tail *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    tail *= np.exp(z, out=z)
    # 0.5 x (1 + erf(x / sqrt 2)), erf odd: 0.5 x (2 - tail) for x >= 0, 0.5 x tail below.
    np.subtract(2, tail, out=tail, where=x >= 0)
    tail *= x
    tail *= np.float32(0.5)
    return tail


class NumpyDenoiser:
    def __init__(self, config: ModelConfig, tensors: dict[str, np.ndarray]):
        self.config = config
        # Linear weights transposed once, contiguous, so every matmul is a plain (N, in) @ (in, out).
        self.weights = {
            name: np.ascontiguousarray(
                tensor.T if tensor.ndim == 2 and "embedding" not in name else tensor, dtype=np.float32
            )
            for name, tensor in tensors.items()
        }

    def parameter_count(self) -> int:
        return sum(tensor.size for tensor in self.weights.values())

    def linear(self, name: str, x: np.ndarray) -> np.ndarray:  # (..., in) -> (..., out)
        weight = self.weights[f"{name}.weight"]  # (in, out)
        out = x.reshape(-1, weight.shape[0]) @ weight
        out += self.weights[f"{name}.bias"]
        return out.reshape(*x.shape[:-1], weight.shape[1])

    def norm(self, name: str, x: np.ndarray) -> np.ndarray:
        return layer_norm(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])

    def embed(self, tokens: np.ndarray) -> np.ndarray:  # (B, T) -> (B, T, D)
        x = self.weights["token_embedding.weight"][tokens]
        for index, ids in enumerate(self.config.position_groups):
            x = x + self.weights[f"group_embeddings.{index}.weight"][list(ids)]
        return x

    def block(self, layer: int, h: np.ndarray) -> np.ndarray:  # (B, T, D) -> (B, T, D)
        batch, tokens, width = h.shape
        heads = self.config.heads
        qkv = self.linear(f"blocks.{layer}.qkv", self.norm(f"blocks.{layer}.norm_attn", h))  # (B, T, 3D)
        # (B, T, 3D) -> 3 x (B, heads, T, D/heads)
        q, k, v = qkv.reshape(batch, tokens, 3, heads, width // heads).transpose(2, 0, 3, 1, 4)
        scores = q @ k.transpose(0, 1, 3, 2)  # (B, heads, T, T)
        scores *= np.float32(1 / math.sqrt(width // heads))
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        attended = scores @ v  # (B, heads, T, D/heads)
        h = h + self.linear(f"blocks.{layer}.proj", attended.transpose(0, 2, 1, 3).reshape(batch, tokens, width))
        hidden = gelu(self.linear(f"blocks.{layer}.mlp.0", self.norm(f"blocks.{layer}.norm_mlp", h)))
        return h + self.linear(f"blocks.{layer}.mlp.2", hidden)

    def start(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The input embedding x and the hidden state h before the first iteration."""
        x = self.embed(tokens)
        return x, (np.zeros_like(x) if self.config.reinject else x.copy())

    def advance(self, x: np.ndarray, h: np.ndarray, rows: np.ndarray | None, iterations: int) -> np.ndarray:
        """Run `iterations` more applications of the block stack on `rows` (None: all) of h,
        in place, and return their logits (R, T, V)."""
        index = slice(None) if rows is None else rows
        hidden = h[index]
        for _ in range(iterations):
            if self.config.reinject:
                hidden = hidden + x[index]
            for layer in range(self.config.n_layers):
                hidden = self.block(layer, hidden)
        h[index] = hidden
        return self.linear("head", self.norm("norm_out", hidden))
