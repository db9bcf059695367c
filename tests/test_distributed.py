"""Training under torchrun: two CPU ranks (gloo) make the same weights as one process, and a
run resumes with another number of ranks."""

import os
import subprocess
import sys

import torch
from conftest import ROOT, stop_at_step_2

from rmdm_cli.tasks import get_task
from rmdm_cli.train import TrainConfig, train

CONFIG = TrainConfig(
    width=16,
    heads=2,
    n_layers=1,
    depth=2,
    batch_size=7,
    train_steps=4,
    warmup_steps=1,
    data={"pool_size": 8},
    threads=1,
)
OPTIONS = ["--width", "16", "--heads", "2", "--layers", "1", "--depth", "2", "--batch-size", "7", "--train-steps", "4",
           "--warmup-steps", "1", "--pool-size", "8", "--threads", "1", "--eval-count", "0"]  # fmt: skip


def torchrun(tmp_path, state, out) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "rmdm_cli", "train", "sudoku", *OPTIONS, "--state", str(state), "--out", str(out)]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def weights(state) -> dict:
    return torch.load(state, weights_only=False)["model"]


def test_two_ranks_train_the_weights_one_process_does_and_resume_across_rank_counts(tmp_path):
    from rmdm_cli.model import RecursiveDenoiser

    task = get_task("sudoku")
    alone, _ = train(task, CONFIG, tmp_path / "alone.pt")
    expected = alone.state_dict()
    torch.manual_seed(CONFIG.seed)
    initial = RecursiveDenoiser(CONFIG.model_config(task)).state_dict()
    assert all(
        not torch.allclose(initial[name], expected[name], atol=1e-5)
        for name in ("head.weight", "token_embedding.weight")
    )

    two = torchrun(tmp_path, tmp_path / "two.pt", tmp_path / "two.safetensors")
    assert two.returncode == 0, two.stderr  # whole: a rank's own error comes before torchrun's summary
    assert two.stderr.count("training data:") == 1 and two.stderr.count("wrote ") == 1  # rank 0 speaks and writes
    got = weights(tmp_path / "two.pt")
    for name, tensor in expected.items():
        assert torch.allclose(got[name], tensor, atol=1e-5), name

    try:
        train(task, CONFIG, tmp_path / "resumed.pt", on_progress=stop_at_step_2)
    except KeyboardInterrupt:
        pass
    assert torch.load(tmp_path / "resumed.pt", weights_only=False)["step"] == 2
    resumed = torchrun(tmp_path, tmp_path / "resumed.pt", tmp_path / "resumed.safetensors")
    assert resumed.returncode == 0, resumed.stderr
    got = weights(tmp_path / "resumed.pt")
    for name, tensor in expected.items():
        assert torch.allclose(got[name], tensor, atol=1e-5), name
