"""The denoiser's architecture as data: what a checkpoint's header stores and both forward
passes (torch in model.py, NumPy in numpy_model.py) are built from. Nothing here imports torch."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int  # token ids, the mask token included
    seq_len: int  # tokens per puzzle (81 for Sudoku)
    width: int = 128  # hidden size d
    heads: int = 4  # attention heads; width must divide by it
    n_layers: int = 2  # distinct blocks in the stack that is recursed over
    mlp_ratio: int = 4  # MLP hidden size = mlp_ratio * width
    depth: int = 4  # recursion depth the model was trained at (the default at inference)
    mask_token: int = 0  # id of the mask token; never predicted
    reinject: bool = (
        True  # re-add the input embedding before every iteration (False: once, before the first; the study's ablation)
    )
    # How positions are embedded, from the task: one learned table per group, each group a
    # tuple of seq_len ids (a Sudoku cell's row, column and box; a Countdown token's position,
    # digit place and field), summed into every token's embedding. Positions with the same id
    # share what they learn instead of each learning it alone.
    position_groups: tuple[tuple[int, ...], ...] = ()

    def __post_init__(self) -> None:
        # JSON from a checkpoint header gives lists; the config stays hashable and comparable.
        object.__setattr__(self, "position_groups", tuple(tuple(group) for group in self.position_groups))
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if any(len(group) != self.seq_len for group in self.position_groups):
            raise ValueError(f"every position group needs {self.seq_len} ids")

    def to_dict(self) -> dict:
        return asdict(self)
