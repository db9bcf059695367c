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
    # A denoising step starts from the hidden state the previous one ended in (False: from
    # zeros, the paper's model).
    carry_state: bool = False
    # How positions are embedded, from the task: one learned table per group, each group a
    # tuple of seq_len ids (a Sudoku cell's row, column and box; a Countdown token's position,
    # digit place and field), summed into every token's embedding. Positions with the same id
    # share what they learn instead of each learning it alone.
    position_groups: tuple[tuple[int, ...], ...] = ()
    # Indices into position_groups: a token attends only to the tokens that share its id in one
    # of these groups (Sudoku's row, column and box: its 20 peers and itself). Empty: to every token.
    attention_groups: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # JSON from a checkpoint header gives lists; the config stays hashable and comparable.
        object.__setattr__(self, "position_groups", tuple(tuple(group) for group in self.position_groups))
        object.__setattr__(self, "attention_groups", tuple(self.attention_groups))
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if any(len(group) != self.seq_len for group in self.position_groups):
            raise ValueError(f"every position group needs {self.seq_len} ids")
        if any(not 0 <= index < len(self.position_groups) for index in self.attention_groups):
            raise ValueError(f"attention groups {self.attention_groups} name position groups that do not exist")

    def attention_mask(self) -> list[list[bool]] | None:
        """(T, T): whether token i may attend to token j; None for full attention."""
        if not self.attention_groups:
            return None
        groups = [self.position_groups[index] for index in self.attention_groups]
        return [[any(ids[i] == ids[j] for ids in groups) for j in range(self.seq_len)] for i in range(self.seq_len)]

    def to_dict(self) -> dict:
        return asdict(self)
