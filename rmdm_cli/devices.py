"""Where the model runs: the CPU or a CUDA device, chosen without importing torch when it can be."""

from __future__ import annotations

import sys
from pathlib import Path

from rmdm_cli.errors import UsageError


def no_nvidia_driver() -> bool:
    """True where CUDA cannot be available, known without the 2 s torch import: macOS, or Linux
    without the NVIDIA driver's files."""
    if sys.platform == "darwin":
        return True
    return sys.platform == "linux" and not any(
        Path(path).exists() for path in ("/proc/driver/nvidia", "/dev/nvidiactl")
    )


def pick_device(device: str) -> str:
    """ "cpu" or "cuda" for a requested auto, cpu or cuda."""
    if device == "cpu":
        return device
    if device == "auto" and no_nvidia_driver():
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: CUDA is not available on this machine (try --device cpu)")
    return device


def use_threads(threads: int) -> None:
    """Torch's CPU threads for this process, if torch is in use (the NumPy model runs on one)."""
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
