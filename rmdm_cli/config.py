"""The configs as data, so that `--help` never imports torch: the denoiser's architecture
(what a checkpoint's header stores and both forward passes, torch in model.py and NumPy in
numpy_model.py, are built from) and a training run's settings (`rmdm train` offers each field
that has a `help` as an option, so every default is stated here once)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rmdm_cli.tasks import Task


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int  # token ids, the mask token included
    seq_len: int  # tokens per puzzle
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
    # tuple of seq_len ids (a grid cell's row, column and box; a token's position,
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

    def forward_flops(self, iterations: int, supervised: int = 1) -> float:
        """Matmul FLOPs (2 per multiply-add) of one example's forward pass over `iterations`
        applications of the block stack, with the head on `supervised` of them: per token and
        block 24 d^2 (qkv, projection, MLP at ratio 4) plus 4 T d (attention scores and values),
        per token and supervised iteration 2 d V (the head). A backward pass costs twice this."""
        d, tokens = self.width, self.seq_len
        block = 2 * d * d * (3 + 1 + 2 * self.mlp_ratio) + 4 * tokens * d
        return tokens * (iterations * self.n_layers * block + supervised * 2 * d * self.vocab_size)


def option(default, help: str, **limits):
    """A TrainConfig field that `rmdm train` offers as an option: `help` its text, `limits` its
    typer.Option settings (min, max, the option's name as `flag`)."""
    return field(default=default, metadata={"help": help, **limits})


@dataclass(frozen=True)
class TrainConfig:
    width: int = option(128, "Hidden size.")
    heads: int = option(4, "Attention heads.")
    n_layers: int = option(2, "Distinct blocks in the recursed stack.", flag="--layers")
    depth: int = option(4, "Recursion depth during training (the largest one with --random-depth).", min=1)
    random_depth: bool = option(
        False, "Each step recurses a depth drawn from 1..--depth, so one model serves every depth."
    )
    reinject: bool = True  # re-add the input embedding before every iteration (the study's ablation turns it off)
    grad_iterations: int = option(1, "Loss on the last this many iterations; earlier ones run under no_grad.", min=1)
    batch_size: int = option(128, "Examples per optimizer step.", min=1)
    train_steps: int = option(5000, "Optimizer steps (at most, with --minutes).", min=1)
    minutes: float = option(
        0.0, "Wall-clock budget: stop when it is spent, the learning-rate schedule following time (0: none).", min=0
    )
    lr: float = option(2e-3, "Peak learning rate (AdamW), after linear warmup, cosine decay to 10%.")
    warmup_steps: int = option(200, "Linear learning-rate warmup steps.", min=0)
    weight_decay: float = 0.05  # AdamW weight decay
    ema: float = option(
        0.0,
        "Write a moving average of the weights over the steps, decaying by this much per step (0: the last weights).",
        min=0,
        max=0.99999,
    )
    mask_min: float = option(0.1, "Lowest per-example mask ratio.")
    mask_max: float = option(0.85, "Highest per-example mask ratio.")
    data: dict = field(default_factory=dict)  # the task's DataOptions fields (others take their defaults)
    seed: int = option(0, "Seed for data, batches and initial weights.")
    threads: int = option(0, "CPU threads (0: torch's default).", min=0)

    def model_config(self, task: Task) -> ModelConfig:
        return ModelConfig(
            vocab_size=task.vocab_size,
            seq_len=task.seq_len,
            position_groups=task.position_groups,
            width=self.width,
            heads=self.heads,
            n_layers=self.n_layers,
            depth=self.depth,
            mask_token=task.mask_token,
            reinject=self.reinject,
        )

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """A config as written by `asdict`; fields added since then take their defaults, fields
        that left (the levers docs/training.md lists as removed) are dropped."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def data_options(self, task: Task):
        """The task's DataOptions this config asks for (a ValueError if they are not valid)."""
        return task.DataOptions(**self.data)

    def same_run(self, other: TrainConfig, task: Task) -> bool:
        """Whether two configs train alike (data options compared with their defaults filled in)."""
        return replace(self, data={}) == replace(other, data={}) and self.data_options(task) == other.data_options(task)
