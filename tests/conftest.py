from pathlib import Path

import pytest
import torch

from rmdm_cli.checkpoint import save_weights
from rmdm_cli.model import ModelConfig, RecursiveDenoiser
from rmdm_cli.numpy_model import NumpyDenoiser

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "data"  # the evaluation sets the repository ships


def benchmark_lines(name: str, count: int) -> list[str]:
    lines = [line.strip() for line in (BENCHMARKS / "sudoku" / name).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")][:count]


def stop_at_step_2(step: int, loss: float, seconds: float) -> None:
    """A training progress callback that interrupts the run after its second step, as Ctrl-C would."""
    if step == 2:
        raise KeyboardInterrupt


def tiny_model(seed: int = 0, depth: int = 2, task: str = "sudoku") -> RecursiveDenoiser:
    from rmdm_cli.tasks import get_task

    spec = get_task(task)
    torch.manual_seed(seed)
    config = ModelConfig(
        vocab_size=spec.vocab_size,
        seq_len=spec.seq_len,
        position_groups=spec.position_groups,
        width=16,
        heads=2,
        n_layers=1,
        depth=depth,
    )
    return RecursiveDenoiser(config).eval()


def numpy_copy(model: RecursiveDenoiser) -> NumpyDenoiser:
    return NumpyDenoiser(model.config, {name: tensor.numpy() for name, tensor in model.state_dict().items()})


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    """A random-weight Sudoku checkpoint: exercises every code path, solves nothing."""
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(path, tiny_model(), "sudoku", {"note": "random weights for tests"}, {"depth": 2, "steps": 8})
    return path


@pytest.fixture(scope="module")
def tiny_countdown_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "tiny-countdown.safetensors"
    save_weights(
        path, tiny_model(task="countdown"), "countdown", {"note": "random weights for tests"}, {"depth": 2, "steps": 6}
    )
    return path


@pytest.fixture(scope="module")
def tiny_game_weights(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("weights") / "tiny-countdown-game.safetensors"
    save_weights(
        path,
        tiny_model(task="countdown-game"),
        "countdown-game",
        {"note": "random weights for tests"},
        {"depth": 2, "steps": 6},
    )
    return path
