"""Self-describing weights: a safetensors file whose header carries the model config and the
training metadata as JSON. Loading is strict and every failure names the file."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rmdm_cli.errors import UsageError

FORMAT = "rmdm-1"


def weights_dir() -> Path:
    """Where the shipped weights are: $RMDM_WEIGHTS_DIR, else the copy inside an installed
    package, else the checkout's top-level weights/ folder (an editable install)."""
    if os.environ.get("RMDM_WEIGHTS_DIR"):
        return Path(os.environ["RMDM_WEIGHTS_DIR"])
    package = Path(__file__).resolve().parent
    installed = package / "weights"
    return installed if installed.is_dir() else package.parent / "weights"


def default_weights(task: str) -> Path:
    return weights_dir() / f"{task}.safetensors"


class WeightsError(Exception):
    """Weights that cannot be used; the message names the file and what is wrong."""


def save_weights(path: Path, model, task: str, training: dict[str, Any], defaults: dict[str, Any]) -> None:
    """Write 16-bit weights with {format, task, config, training, defaults} in the header."""
    import torch
    from safetensors.torch import save_file

    header = {
        "format": FORMAT,
        "task": task,
        "config": model.config.to_dict(),
        "training": training,
        "defaults": defaults,
    }
    tensors = {
        name: tensor.detach().to("cpu", torch.float16).contiguous() for name, tensor in model.state_dict().items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_file(tensors, str(tmp), metadata={"rmdm": json.dumps(header)})
    tmp.replace(path)


def read_header(path: Path) -> dict[str, Any]:
    """The rmdm header of a weights file, checked for the fields loading needs."""
    from safetensors import safe_open

    if not path.is_file():
        raise WeightsError(f"{path}: no such weights file")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
    except Exception as error:  # safetensors raises several types for damaged files
        raise WeightsError(f"{path}: not a readable safetensors file ({error})") from None
    if "rmdm" not in metadata:
        raise WeightsError(f"{path}: safetensors file without rmdm metadata (not an rmdm checkpoint)")
    try:
        header = json.loads(metadata["rmdm"])
    except json.JSONDecodeError:
        raise WeightsError(f"{path}: rmdm metadata is not valid JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise WeightsError(
            f"{path}: unsupported checkpoint format {header.get('format') if isinstance(header, dict) else header!r}"
        )
    for key in ("task", "config", "training", "defaults"):
        if key not in header:
            raise WeightsError(f"{path}: rmdm metadata lacks {key!r}")
    return header


def encoding(source) -> tuple:
    """What a model's tokens and positions mean, from its config or from the task it serves."""
    return source.seq_len, source.vocab_size, source.position_groups


def describe(source) -> str:
    tokens, vocabulary, groups = encoding(source)
    return f"{tokens} tokens, vocabulary {vocabulary}, {len(groups)} position groups"


def read_checkpoint(path: Path, task: str):
    """The config, tensors (NumPy, as stored) and header of a checkpoint for `task`, checked
    strictly against each other and against this version's encoding of the task."""
    from safetensors.numpy import load_file

    from rmdm_cli.config import ModelConfig
    from rmdm_cli.numpy_model import parameter_shapes
    from rmdm_cli.tasks import get_task_class

    path = Path(path)
    header = read_header(path)
    if header["task"] != task:
        raise WeightsError(f"{path}: weights are for task {header['task']!r}, not {task!r}")
    try:
        tensors = load_file(str(path))
    except Exception as error:
        raise WeightsError(f"{path}: cannot read tensors ({error})") from None
    task_class = get_task_class(task)
    try:
        config = ModelConfig(**header["config"])
    except (TypeError, ValueError, KeyError) as error:
        raise WeightsError(f"{path}: bad model config in metadata ({error})") from None
    if encoding(config) != encoding(task_class):
        raise WeightsError(
            f"{path}: made for another encoding of {task} ({describe(config)}) than this version's "
            f"({describe(task_class)}); retrain with rmdm train {task}"
        )
    expected = parameter_shapes(config)
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise WeightsError(
            f"{path}: tensors do not match the config (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    for name, tensor in tensors.items():
        if tensor.shape != expected[name]:
            raise WeightsError(f"{path}: tensor {name} has shape {tuple(tensor.shape)}, config needs {expected[name]}")
    return config, tensors, header


def load_weights(path: Path, task: str, device: str = "cpu"):
    """The torch model the file describes, its weights loaded strictly. Returns (model, header)."""
    import torch

    from rmdm_cli.model import RecursiveDenoiser

    config, tensors, header = read_checkpoint(path, task)
    model = RecursiveDenoiser(config)
    model.load_state_dict({name: torch.from_numpy(tensor).float() for name, tensor in tensors.items()}, strict=True)
    model.eval()
    return model.to(device), header


def load_numpy_weights(path: Path, task: str):
    """The same model as `load_weights`, as a torch-free NumPy copy (CPU only). Returns (model, header)."""
    from rmdm_cli.numpy_model import NumpyDenoiser

    config, tensors, header = read_checkpoint(path, task)
    return NumpyDenoiser(config, tensors), header


def load_model(task: str, weights: Path | None, device: str, torch_free: bool = False):
    """(model, header) for `device` (auto, cpu or cuda) from `weights` (default: the shipped
    ones); `torch_free` on the CPU gives the NumPy copy of the model, which spares the torch
    import. Unusable weights are a UsageError naming the file."""
    from rmdm_cli.devices import pick_device

    try:
        device = pick_device(device)
        path = weights or default_weights(task)
        return load_numpy_weights(path, task) if torch_free and device == "cpu" else load_weights(path, task, device)
    except WeightsError as error:
        raise UsageError(str(error)) from None
