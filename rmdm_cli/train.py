"""Training with the masked-diffusion objective and deep supervision over recursion.

Per example a mask ratio r ~ U(mask_min, mask_max) is drawn and that fraction of the maskable
tokens is masked; the loss is cross-entropy on the masked tokens. The block stack runs `depth`
times: the first `depth - grad_iterations` applications under no_grad (cheap: no activations
kept), then loss on each of the last `grad_iterations` applications, averaged. Each step's
batch, masks and depth come from a seed of their own, (seed, step), so a resumed run and data
worker processes draw exactly the batches an uninterrupted single process would. With `ema`, the
weights written out are an exponential moving average of the trained ones over the steps. A
resumable training state is written every `checkpoint_minutes`; the final weights go to a
safetensors file that records this config. On CUDA the forward and backward passes run under bf16
autocast; on the CPU in fp32 (bf16 is far slower on CPUs without bf16 units, docs/training.md).
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from rmdm_cli.config import TrainConfig
from rmdm_cli.errors import UsageError
from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.tasks import Task
from rmdm_cli.tasks.base import TrainingData


def progress(config: TrainConfig, step: int, seconds: float) -> float:
    """How far the run is, 0 to 1: by steps, or by time when a time budget ends it sooner."""
    by_steps = step / config.train_steps
    return max(by_steps, seconds / (60 * config.minutes)) if config.minutes else by_steps


def learning_rate(config: TrainConfig, step: int, seconds: float = 0.0) -> float:
    """Linear warmup over `warmup_steps`, then cosine decay to 10% of the peak at the end of the run."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    start = config.warmup_steps / config.train_steps
    after_warmup = (progress(config, step, seconds) - start) / max(1e-9, 1 - start)
    return config.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, after_warmup)))))


def mask_batch(
    targets: torch.Tensor, maskable: torch.Tensor, config: TrainConfig, mask_token: int, generator: torch.Generator
):
    """Mask a per-example random fraction of the maskable tokens. Returns (inputs, masked)."""
    batch = targets.shape[0]
    ratio = config.mask_min + (config.mask_max - config.mask_min) * torch.rand(batch, 1, generator=generator)
    masked = (torch.rand(targets.shape, generator=generator) < ratio) & maskable
    return targets.masked_fill(masked, mask_token), masked


def supervised_loss(
    model: RecursiveDenoiser,
    inputs,
    targets,
    masked,
    depth: int,
    grad_iterations: int,
    normalizer: float | None = None,
) -> torch.Tensor:
    """Masked cross-entropy over the last `grad_iterations` recursion iterations, averaged over
    them; summed over the masked tokens and divided by `normalizer` (default: their count, a mean)."""
    normalizer = normalizer or max(1, int(masked.sum()))
    free = depth - min(grad_iterations, depth)
    x = model.embed(inputs)  # (B, T, D)
    h = model.initial_state(x)
    if free:
        with torch.no_grad():
            h = model.recurse(x, h, free)
    loss = inputs.new_zeros((), dtype=torch.float32)
    for _ in range(depth - free):
        h = model.recurse(x, h, 1)
        logits = model.logits(h)  # (B, T, V)
        loss = loss + F.cross_entropy(logits[masked], targets[masked], reduction="sum") / normalizer
    return loss / (depth - free)


class LossOfShare(torch.nn.Module):
    """The loss of one rank's share of a step's batch as a module, so DistributedDataParallel's
    forward wraps it: scaled so that the gradient DDP averages over the ranks is the gradient of
    the whole batch's mean loss, whatever each share's number of masked tokens."""

    def __init__(self, model: RecursiveDenoiser, world: int):
        super().__init__()
        self.model, self.world = model, world

    def forward(self, inputs, targets, masked, depth: int, config: TrainConfig, masked_in_batch: int):
        return supervised_loss(
            self.model,
            inputs,
            targets,
            masked,
            depth,
            config.grad_iterations,
            masked_in_batch / self.world,
        )


def start_ranks(device: str) -> tuple[int, int, str]:
    """(rank, world size, device) of this process: 0 of 1 when run alone; under torchrun one of
    its ranks, joined to the others by gloo on the CPU or nccl on CUDA."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    import torch.distributed as dist

    on_cuda = torch.device(device).type == "cuda"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if on_cuda else "gloo")
    if on_cuda:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(device)
    return dist.get_rank(), world, device


def training_example(
    data: TrainingData, mask_token: int, config: TrainConfig, step: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Step `step`'s (inputs, targets, masked, depth), drawn from the step's own seed."""
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
    targets, maskable = data.batch(config.batch_size, generator)
    inputs, masked = mask_batch(targets, maskable, config, mask_token, generator)
    depth = int(torch.randint(1, config.depth + 1, (1,), generator=generator)) if config.random_depth else config.depth
    return inputs, targets, masked, depth


_worker_state: tuple[TrainingData, int, TrainConfig] | None = None  # a data worker's data, mask token and config


def _start_worker(task_name: str, config: TrainConfig) -> None:
    global _worker_state
    from rmdm_cli.tasks import get_task

    torch.set_num_threads(1)  # one core per worker: the workers together are the parallelism
    task = get_task(task_name)
    data = task.training_data(config.data_options(task), config.seed)
    data.prepare()
    _worker_state = (data, task.mask_token, config)


def _worker_example(step: int):
    # NumPy across the process boundary: pickled torch tensors travel as shared-memory handles
    # that the receiving side must hold open
    return [item.numpy() if isinstance(item, torch.Tensor) else item for item in training_example(*_worker_state, step)]


# Examples kept for the next run in this process that would make the same ones: the scaling
# study's cells on one seed see the same batches, and Countdown's take an exact solver to make.
_kept_examples: dict[tuple, dict[int, tuple]] = {}


def examples_key(task: Task, config: TrainConfig) -> tuple:
    """What a step's example depends on besides the step (training_example)."""
    drawn_depth = config.depth if config.random_depth else None
    fields = (config.seed, config.batch_size, config.mask_min, config.mask_max, drawn_depth)
    return (task.name, repr(config.data_options(task)), *fields)


class Batches:
    """Each step's training example, made in this process or, with `workers`, a few steps
    ahead in worker processes: data that needs an exact solver can take longer over a batch
    than a GPU's optimizer step (docs/training.md). With `keep`, the examples made here are
    kept for the next run in this process with the same data, seed and masks."""

    def __init__(self, task: Task, config: TrainConfig, workers: int, keep: bool = False):
        self.config, self.ahead, self.mask_token = config, 2 * workers, task.mask_token
        self.kept = None
        if keep and not workers:
            key = examples_key(task, config)
            self.kept = _kept_examples.get(key, {})
            _kept_examples.clear()  # one set at a time: a seed's examples, some hundred MB
            _kept_examples[key] = self.kept
        self.data = task.training_data(config.data_options(task), config.seed)
        self.pending: dict[int, Future] = {}
        self.pool = None
        if workers:
            import multiprocessing

            # spawn, not fork: a forked child of a process that has used CUDA or OpenMP threads can hang
            self.pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(task.name, config),
            )
        else:
            self.data.prepare()

    def get(self, step: int):
        if self.kept is not None:
            if step not in self.kept:
                self.kept[step] = training_example(self.data, self.mask_token, self.config, step)
            *tensors, depth = self.kept[step]  # the depth is the run's own unless drawn per step
            return *tensors, depth if self.config.random_depth else self.config.depth
        if self.pool is None:
            return training_example(self.data, self.mask_token, self.config, step)
        for ahead in range(step, min(step + self.ahead, self.config.train_steps)):
            if ahead not in self.pending:
                self.pending[ahead] = self.pool.submit(_worker_example, ahead)
        inputs, targets, masked, depth = self.pending.pop(step).result()
        return torch.from_numpy(inputs), torch.from_numpy(targets), torch.from_numpy(masked), depth

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def new_optimizer(model: RecursiveDenoiser, config: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, betas=(0.9, 0.95))


def optimizer_step(
    step_loss: LossOfShare | torch.nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig, example, lr: float
) -> float:
    """One training step on `example` (from training_example, the whole batch) at learning rate
    `lr`: this rank's share of it through `step_loss` (a LossOfShare, or DDP around one).
    Returns the whole batch's loss."""
    for group in optimizer.param_groups:
        group["lr"] = lr
    inner = getattr(step_loss, "module", step_loss)
    rank, world = (torch.distributed.get_rank(), inner.world) if inner.world > 1 else (0, 1)
    device = inner.model.head.weight.device
    inputs, targets, masked, depth = example
    masked_in_batch = max(1, int(masked.sum()))
    inputs, targets, masked = (
        tensor[rank::world].to(device, non_blocking=True) for tensor in (inputs, targets, masked)
    )
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        loss = step_loss(inputs, targets, masked, depth, config, masked_in_batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(inner.model.parameters(), 1.0)
    optimizer.step()
    loss = loss.detach()
    if world > 1:
        torch.distributed.all_reduce(loss)  # the shares' losses add up to world x the batch's
    return loss.item() / world


@dataclass
class RunState:
    """Where a run stands: what the resumable state file keeps besides the weights."""

    step: int = 0
    seconds: float = 0.0  # wall-clock training time
    core_seconds: float = 0.0  # seconds times the cores busy then, summed: a resumed run may have another rank count
    ranks: int = 1  # the processes that trained it, for the metadata
    threads: int = 1
    ema: dict | None = None  # the moving average of the weights, with `config.ema`


def train(
    task: Task,
    config: TrainConfig,
    state_path: Path,
    on_progress: Callable[[int, float, float], None] | None = None,
    checkpoint_minutes: float = 5.0,
    init: RecursiveDenoiser | None = None,
    device: str = "cpu",
    workers: int = 0,
    keep_examples: bool = False,
) -> tuple[RecursiveDenoiser, dict]:
    """Train (resuming from `state_path` if it exists) on `device` and return (model, training
    metadata); `workers` processes make the batches (0: this process does; with
    `keep_examples` it keeps them for the next run that would make the same ones).

    `init` (a trained model of the same architecture) replaces the random initial weights:
    fine-tuning with a new recipe continues from what earlier training paid for."""
    if config.threads:
        torch.set_num_threads(config.threads)
    rank, world, device = start_ranks(device)
    model = initial_model(task, config, init).to(device)
    optimizer = new_optimizer(model, config)
    run = resume(state_path, task, config, model, optimizer, world, device)
    finished = progress(config, run.step, run.seconds) >= 1  # a finished run is only written out again
    batches = None if finished else Batches(task, config, workers, keep_examples)
    step_loss = LossOfShare(model, world)
    if world > 1:
        step_loss = torch.nn.parallel.DistributedDataParallel(step_loss)

    def save_state() -> None:
        if rank:  # one writer: rank 0
            return
        state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = state_path.with_suffix(".tmp")
        state = {"config": asdict(config), "model": model.state_dict(), "optimizer": optimizer.state_dict()}
        torch.save(state | {key: value for key, value in asdict(run).items() if value is not None}, tmp)
        tmp.replace(state_path)

    model.train()
    last_save = time.monotonic()
    started = time.monotonic() - run.seconds
    with terminate_as_interrupt():  # `kill` or a job scheduler's stop saves the state as Ctrl-C does
        try:
            while progress(config, run.step, run.seconds) < 1:
                lr = learning_rate(config, run.step, run.seconds)
                loss = optimizer_step(step_loss, optimizer, config, batches.get(run.step), lr)
                if run.ema is not None:
                    with torch.no_grad():
                        for name, parameter in model.named_parameters():
                            run.ema[name].lerp_(parameter, 1 - config.ema)
                run.step += 1
                before, run.seconds = run.seconds, shared_clock(started, world)
                run.core_seconds += (run.seconds - before) * world * torch.get_num_threads()
                if on_progress and not rank:
                    on_progress(run.step, loss, run.seconds)
                if (
                    time.monotonic() - last_save > checkpoint_minutes * 60
                    or progress(config, run.step, run.seconds) >= 1
                ):
                    save_state()
                    last_save = time.monotonic()
        except KeyboardInterrupt:
            save_state()  # Ctrl-C keeps the progress: the same command resumes from here
            raise
        finally:
            if batches:
                batches.close()
    if run.ema is not None:
        model.load_state_dict(model.state_dict() | run.ema)
    model.eval()
    return model, training_metadata(task, config, run, device)


@contextmanager
def terminate_as_interrupt():
    """SIGTERM raises KeyboardInterrupt inside the block, so a stopped run saves its state; a
    background job of a non-interactive shell ignores SIGINT, and SIGTERM is what stops it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(*_):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def resume(state_path: Path, task: Task, config: TrainConfig, model, optimizer, world: int, device) -> RunState:
    """A fresh run's state, or the one `state_path` holds, loaded into `model` and `optimizer`."""
    threads = torch.get_num_threads()
    ema = {name: p.detach().clone() for name, p in model.named_parameters()} if config.ema else None
    if not state_path.exists():
        return RunState(ranks=world, threads=threads, ema=ema)
    state = torch.load(state_path, weights_only=False, map_location=device)
    if not TrainConfig.from_dict(state["config"]).same_run(config, task):  # new fields take their defaults
        raise UsageError(f"{state_path} was written by a different training config; delete it or match the config")
    try:
        model.load_state_dict(state["model"])
    except RuntimeError:  # tensors named as before position groups (2026-11)
        raise UsageError(f"{state_path} was written by an older rmdm; delete it to start afresh") from None
    optimizer.load_state_dict(state["optimizer"])
    run = RunState(state["step"], state["seconds"], ranks=world, threads=threads, ema=state.get("ema", ema))
    run.core_seconds = state.get("core_seconds", run.seconds * world * threads)  # older states
    if progress(config, run.step, run.seconds) >= 1:  # written again: named after the processes that trained it
        run.ranks, run.threads = state.get("ranks", run.ranks), state.get("threads", run.threads)
    return run


def training_metadata(task: Task, config: TrainConfig, run: RunState, device) -> dict:
    """What the weights' header records of the training."""
    recipe = task.training_data(config.data_options(task), config.seed).recipe
    return {
        "train_config": asdict(config),
        "steps": run.step,
        "examples": run.step * config.batch_size,
        "train_seconds": round(run.seconds, 1),
        "threads": run.threads,
        "ranks": run.ranks,
        "core_seconds": round(run.core_seconds, 1),
        "device": torch.cuda.get_device_name(device) if torch.device(device).type == "cuda" else "cpu",
        "data": f"{recipe}; per-example mask ratio U({config.mask_min}, {config.mask_max})",
    }


def initial_model(task: Task, config: TrainConfig, init: RecursiveDenoiser | None) -> RecursiveDenoiser:
    """Random weights from the run's seed, or `init`'s (same architecture; the depth may differ)."""
    torch.manual_seed(config.seed)
    model = RecursiveDenoiser(config.model_config(task))
    if init is not None:
        if replace(init.config, depth=model.config.depth) != model.config:
            raise UsageError(f"the initial weights have config {init.config}, this training needs {model.config}")
        model.load_state_dict(init.state_dict())
    return model


def shared_clock(started: float, world: int) -> float:
    """Seconds since `started`; under torchrun every rank takes rank 0's, so all stop and save
    at the same step."""
    seconds = time.monotonic() - started
    if world == 1:
        return seconds
    clock = torch.tensor([seconds], dtype=torch.float64)
    torch.distributed.broadcast(clock, 0)
    return float(clock)


def average_with(model: RecursiveDenoiser, other: RecursiveDenoiser) -> None:
    """Make `model` the parameter-wise mean of itself and `other` (same architecture): a
    two-point weight average, which kept easy puzzles that a continuation alone lost."""
    theirs = other.state_dict()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            tensor.copy_((tensor + theirs[name].to(tensor.device)) / 2)


def total_cost(earlier: dict, run: dict) -> dict:
    """The training cost of a model and its ancestry, from the parent's metadata (empty for a
    model trained from scratch) and this run's: CPU and GPU seconds summed apart, since they
    are not the same currency."""
    own = earlier.get("train_seconds", 0.0)
    parent_on_cpu = earlier.get("device", "cpu") == "cpu"  # the oldest weights name no device: CPU
    cpu = earlier.get("total_train_seconds", own if parent_on_cpu else 0.0)
    gpu = earlier.get("total_gpu_train_seconds", 0.0 if parent_on_cpu else own)
    if run["device"] == "cpu":  # core-seconds: every rank's threads were busy the whole time
        cpu += run.get("core_seconds", run["train_seconds"] * run.get("ranks", 1) * run.get("threads", 1))
    else:
        gpu += run["train_seconds"]
    return {"total_train_seconds": round(cpu, 1), **({"total_gpu_train_seconds": round(gpu, 1)} if gpu else {})}
