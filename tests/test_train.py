"""The trainer's schedule, time budget, data workers, weight average and cost accounting."""

from dataclasses import replace

import pytest
import torch
from conftest import stop_at_step_2

from rmdm_cli.tasks import get_task
from rmdm_cli.train import Batches, TrainConfig, learning_rate, total_cost, train, training_example


def test_learning_rate_warms_up_then_decays_by_steps_or_by_time():
    config = TrainConfig(lr=1.0, train_steps=100, warmup_steps=10)
    assert learning_rate(config, 0) == 0.1 and learning_rate(config, 9) == 1.0
    assert learning_rate(config, 50) < learning_rate(config, 20) and abs(learning_rate(config, 100) - 0.1) < 1e-9
    timed = TrainConfig(lr=1.0, train_steps=1000, warmup_steps=10, minutes=1.0)
    # 30 of 60 seconds spent at step 20: halfway by time, though only 2% of the steps are done
    assert learning_rate(timed, 20, seconds=30) < 0.6 < learning_rate(timed, 20, seconds=1)
    assert abs(learning_rate(timed, 20, seconds=60) - 0.1) < 1e-9


def test_a_time_budget_ends_the_run_before_its_steps(tmp_path):
    config = TrainConfig(
        width=16, heads=2, n_layers=1, depth=1, batch_size=2, train_steps=100_000, minutes=0.02, data={"pool_size": 4}
    )
    _, metadata = train(get_task("sudoku"), config, tmp_path / "state.pt")
    assert 0 < metadata["steps"] < 100_000 and 1.2 <= metadata["train_seconds"] < 10
    assert metadata["device"] == "cpu"


def tiny_model_and_batch(config: TrainConfig):
    """A seeded Sudoku model of `config` and its first training batch: (model, inputs, targets, masked)."""
    from rmdm_cli.model import RecursiveDenoiser

    task = get_task("sudoku")
    torch.manual_seed(0)
    model = RecursiveDenoiser(config.model_config(task))
    inputs, targets, masked, _ = training_example(
        task.training_data(config.data_options(task), 0), task.mask_token, config, 0
    )
    return model, inputs, targets, masked


def test_worker_processes_make_the_same_batches_as_the_training_process():
    config = TrainConfig(batch_size=3, train_steps=10, data={"pool_size": 6}, random_depth=True, seed=5)
    task = get_task("sudoku")
    batches = Batches(task, config, workers=1)
    try:
        from_worker = [batches.get(step) for step in (0, 1, 7)]
    finally:
        batches.close()
    data = task.training_data(config.data_options(task), config.seed)
    for step, (inputs, targets, masked, depth) in zip((0, 1, 7), from_worker):
        here = training_example(data, task.mask_token, config, step)
        assert all(torch.equal(a, b) for a, b in zip((inputs, targets, masked), here[:3])) and depth == here[3]
    assert not torch.equal(from_worker[0][1], from_worker[1][1])  # each step its own batch


def test_training_cost_sums_cpu_and_gpu_seconds_apart():
    first = total_cost({}, {"device": "cpu", "train_seconds": 100.0})
    assert first == {"total_train_seconds": 100.0}
    on_gpu = total_cost({"train_seconds": 100.0, **first}, {"device": "NVIDIA H100", "train_seconds": 30.0})
    assert on_gpu == {"total_train_seconds": 100.0, "total_gpu_train_seconds": 30.0}
    again = total_cost({"train_seconds": 30.0, **on_gpu}, {"device": "cpu", "train_seconds": 5.0})
    assert again == {"total_train_seconds": 105.0, "total_gpu_train_seconds": 30.0}
    # a parent without sums (exported from a training state) counts its own run on its device
    assert total_cost({"device": "NVIDIA H100", "train_seconds": 30.0}, {"device": "cpu", "train_seconds": 5.0}) == {
        "total_train_seconds": 5.0,
        "total_gpu_train_seconds": 30.0,
    }


def test_core_seconds_are_summed_in_the_state_and_survive_a_rewrite(tmp_path):
    # A finished run written again (e.g. with --average-with-init) by one process must still
    # charge what its ranks spent, not its seconds times the rewriting process's cores.
    task = get_task("sudoku")
    config = TrainConfig(width=16, heads=2, n_layers=1, depth=1, batch_size=2, train_steps=3, threads=1,
                         data={"pool_size": 4})  # fmt: skip
    state_path = tmp_path / "run.pt"
    _, metadata = train(task, config, state_path)
    state = torch.load(state_path, weights_only=False)
    assert state["core_seconds"] > 0 and metadata["core_seconds"] == round(state["core_seconds"], 1)
    assert state["ranks"] == 1 and state["threads"] == 1
    torch.save(state | {"core_seconds": 1234.5, "ranks": 2}, state_path)  # as if two ranks had trained it
    _, rewritten = train(task, config, state_path)
    assert rewritten["steps"] == 3 and rewritten["core_seconds"] == 1234.5
    assert rewritten["ranks"] == 2
    assert total_cost({}, rewritten | {"device": "cpu"}) == {"total_train_seconds": 1234.5}
    del state["core_seconds"]  # a state from before the sum: its seconds times this process's cores
    torch.save(state, state_path)
    assert train(task, config, state_path)[1]["core_seconds"] == round(state["seconds"], 1)


def test_ema_writes_the_moving_average_and_resumes_it(tmp_path):
    from rmdm_cli.model import RecursiveDenoiser

    task = get_task("sudoku")
    config = TrainConfig(width=16, heads=2, n_layers=1, depth=1, batch_size=2, train_steps=4, warmup_steps=1,
                         threads=1, data={"pool_size": 4})  # fmt: skip
    torch.manual_seed(config.seed)
    initial = RecursiveDenoiser(config.model_config(task)).state_dict()
    trained = train(task, config, tmp_path / "plain.pt")[0].state_dict()
    # A decay near 0 follows the trained weights, one near 1 stays at the initial ones.
    follows = train(task, replace(config, ema=1e-9), tmp_path / "follows.pt")[0].state_dict()
    stays = train(task, replace(config, ema=0.99999), tmp_path / "stays.pt")[0].state_dict()
    for name in ("head.weight", "token_embedding.weight"):
        assert not torch.allclose(initial[name], trained[name], atol=1e-4)
        assert torch.allclose(follows[name], trained[name], atol=1e-6)
        assert torch.allclose(stays[name], initial[name], atol=1e-3)
    # Between the two, and the same whether or not the run was interrupted.
    halfway = replace(config, ema=0.5)
    whole = train(task, halfway, tmp_path / "whole.pt")[0].state_dict()

    with pytest.raises(KeyboardInterrupt):
        train(task, halfway, tmp_path / "resumed.pt", on_progress=stop_at_step_2)
    resumed = train(task, halfway, tmp_path / "resumed.pt")[0].state_dict()
    for name in ("head.weight", "token_embedding.weight"):
        assert not torch.allclose(whole[name], trained[name], atol=1e-5)
        assert not torch.allclose(whole[name], initial[name], atol=1e-5)
        assert torch.allclose(resumed[name], whole[name], atol=1e-6)
    assert torch.equal(torch.load(tmp_path / "whole.pt", weights_only=False)["model"]["head.weight"],
                       trained["head.weight"])  # fmt: skip  # the state keeps the trained weights to resume them


def test_a_state_resumes_whatever_fields_came_or_went_since():
    from dataclasses import asdict

    task = get_task("sudoku")
    config = TrainConfig(width=16, heads=2, n_layers=1, depth=1, batch_size=2, train_steps=2, data={"pool_size": 4})
    written = asdict(config)
    older = {k: v for k, v in written.items() if k != "ema"} | {"focal": 0.0}  # before ema; with a lever since gone
    assert TrainConfig.from_dict(older).same_run(config, task)
    assert not TrainConfig.from_dict(written | {"data": {"pool_size": 5}}).same_run(config, task)


def test_kept_examples_train_the_next_run_as_fresh_ones_would(tmp_path):
    from rmdm_cli import train as training

    task = get_task("countdown")
    config = TrainConfig(
        width=8, heads=2, n_layers=1, depth=2, grad_iterations=2, batch_size=3, train_steps=3, threads=1
    )
    other = replace(config, width=16, depth=3, grad_iterations=3)  # another cell of the study: same data, seed, masks
    train(task, config, tmp_path / "a.pt", keep_examples=True)
    (made,) = [dict(steps) for steps in training._kept_examples.values()]
    kept, _ = train(task, other, tmp_path / "b.pt", keep_examples=True)
    (reused,) = training._kept_examples.values()
    assert len(made) == 3 and all(reused[step] is made[step] for step in made)  # made once, for both
    assert [Batches(task, other, 0, keep=True).get(step)[3] for step in made] == [3, 3, 3]  # at its own depth
    fresh, _ = train(task, other, tmp_path / "c.pt")
    assert all(torch.equal(a, b) for a, b in zip(kept.state_dict().values(), fresh.state_dict().values()))
    train(task, replace(config, seed=1), tmp_path / "d.pt", keep_examples=True)
    assert [len(steps) for steps in training._kept_examples.values()] == [3]  # another seed's replace them
