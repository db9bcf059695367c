import json
import subprocess
import sys

import pytest
from conftest import BENCHMARKS, ROOT, benchmark_lines, stop_at_step_2
from typer.testing import CliRunner

from rmdm_cli.cli import app

runner = CliRunner()
TINY_TRAINING = "train sudoku --width 16 --heads 2 --layers 1 --depth 1 --batch-size 2 --pool-size 4".split()
EASY = benchmark_lines("easy50.txt", 3)


def solve(tiny_weights, *args, input=None):
    """The plain sampler, whose failures random weights make certain; search is tested apart."""
    return runner.invoke(app, ["solve", "sudoku", "--weights", str(tiny_weights), "--no-search", *args], input=input)


def test_an_unsolved_puzzle_gets_an_empty_line_and_exit_1(tiny_weights):
    result = solve(tiny_weights, EASY[0])
    assert result.exit_code == 1  # random weights do not solve it
    assert result.stdout == "\n"  # one line for alignment, nothing that passes for an answer
    record = json.loads(solve(tiny_weights, "--format", "jsonl", EASY[0]).stdout)
    assert record["answer"] is None and not record["solved"]
    line = record["last_attempt"]  # the grid the model ended on, in a field of its own
    assert len(line) == 81 and line.isdigit() and "0" not in line
    assert all(given == "0" or given == answer for given, answer in zip(EASY[0], line))


def test_stdin_jsonl_fields_in_input_order(tiny_weights):
    text = "# a comment\n\n" + "\n".join(EASY) + "\n"
    result = solve(tiny_weights, "--format", "jsonl", "--depth", "3", "--steps", "5", input=text)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [3, 4, 5]
    assert [r["puzzle"].replace(".", "0") for r in records] == EASY
    for record in records:
        assert {"line", "puzzle", "answer", "solved", "depth", "steps", "forward_passes", "seconds"} <= set(record)
        assert record["solved"] is False and record["depth"] == 3 and record["steps"] == 5
        assert record["forward_passes"] == 15  # 5 steps x depth 3
    assert result.exit_code == 1


def test_dash_reads_stdin_and_defaults_come_from_the_weights(tiny_weights):
    result = solve(tiny_weights, "-", "--format", "jsonl", input=EASY[0] + "\n")
    record = json.loads(result.stdout)
    assert (record["depth"], record["steps"]) == (2, 8)


def test_bad_lines_are_reported_and_good_lines_still_answered(tiny_weights):
    text = "\n".join([EASY[0], "12345", EASY[1], "11" + EASY[2][2:], EASY[2]]) + "\n"
    result = solve(tiny_weights, input=text)
    assert result.exit_code == 2
    assert len(result.stdout.splitlines()) == 3
    assert "line 2: expected 81 cells, got 5" in result.stderr
    assert "line 4: digit 1 appears twice in row 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_file_argument(tiny_weights, tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("quizzes,solutions\n" + "".join(f"{p},{'0' * 81}\n" for p in EASY))
    result = solve(tiny_weights, str(path))
    assert result.exit_code == 1 and len(result.stdout.splitlines()) == 3


def test_usage_errors_exit_2(tiny_weights, tmp_path):
    for args in (
        ["--depth", "0", EASY[0]],
        ["--steps", "-1", EASY[0]],
        ["--format", "xml", EASY[0]],
        ["--device", "tpu", EASY[0]],
    ):
        result = solve(tiny_weights, *args)
        assert result.exit_code == 2, args
    empty = solve(tiny_weights, input="\n# only a comment\n")
    assert empty.exit_code == 2 and "no puzzles" in empty.stderr
    missing = runner.invoke(app, ["solve", "sudoku", "--weights", str(tmp_path / "nope.safetensors"), EASY[0]])
    assert missing.exit_code == 2 and "nope.safetensors: no such weights file" in missing.stderr
    assert "Traceback" not in missing.stderr
    for mistyped in ("puzzles.txt", str(tmp_path / "gone" / "p")):  # a file name, not a puzzle
        result = solve(tiny_weights, mistyped)
        assert result.exit_code == 2 and f"error: {mistyped}: no such file" in result.stderr
    folder = solve(tiny_weights, str(tmp_path))
    assert folder.exit_code == 2 and f"error: {tmp_path}: a folder, not a file" in folder.stderr
    typo = solve(tiny_weights, EASY[0][:-3] + ".a9")  # a puzzle with a stray letter is still a puzzle
    assert typo.exit_code == 2 and "line 1:" in typo.stderr and "no such file" not in typo.stderr


def test_seed_gives_identical_output(tiny_weights):
    args = ["--retries", "2", "--seed", "7", "--format", "jsonl"]
    first, second = solve(tiny_weights, *args, input="\n".join(EASY)), solve(tiny_weights, *args, input="\n".join(EASY))

    def strip(out):
        return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in out.splitlines()]

    assert strip(first.stdout) == strip(second.stdout)


def test_live_view_renders_the_grid(tiny_weights):
    result = solve(tiny_weights, "--live", EASY[0])
    assert "not solved · 16 forward passes" in result.stderr  # the last frame: the answer, 8 steps x depth 2
    assert "dots open\nline 1: not solved: " in result.stderr
    assert result.stdout == "\n"


def test_eval_table_and_json(tiny_weights, tmp_path):
    path = tmp_path / "set.txt"
    path.write_text("\n".join(EASY))
    result = runner.invoke(
        app, ["eval", "sudoku", str(path), "--weights", str(tiny_weights), "--depth", "1,2", "--steps", "4", "--json"]
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and [(r["depth"], r["steps"]) for r in rows] == [(1, 4), (2, 4)]
    assert rows[1]["mean_forward_passes"] == 8 and rows[0]["solved_pct"] == 0
    table = runner.invoke(app, ["eval", "sudoku", str(path), "--weights", str(tiny_weights)])
    assert table.exit_code == 0 and "set.txt" in table.stdout


def test_stored_adaptive_settings_apply_unless_fixed(tmp_path):
    from conftest import tiny_model

    from rmdm_cli.checkpoint import save_weights

    weights = tmp_path / "adaptive.safetensors"
    # Threshold 0 commits every open cell in the first step: 2 passes a puzzle instead of 8 steps x 2.
    stored = {"depth": 2, "steps": 8, "threshold": 0.0, "adaptive_depth": True}
    save_weights(weights, tiny_model(), "sudoku", {}, stored)
    passes = {}
    for flags in ((), ("--fixed",), ("--fixed", "--threshold", "0")):
        result = solve(weights, "--format", "jsonl", *flags, input=EASY[0] + "\n")
        passes[flags] = json.loads(result.stdout)["forward_passes"]
    assert passes == {(): 2, ("--fixed",): 16, ("--fixed", "--threshold", "0"): 2}
    path = tmp_path / "set.txt"
    path.write_text(EASY[0])
    for flags, expected in (((), (0.0, True)), (("--fixed",), (None, False)), (("--threshold", "0.5"), (0.5, True))):
        result = runner.invoke(app, ["eval", "sudoku", str(path), "--weights", str(weights), "--json", *flags])
        row = json.loads(result.stdout)
        assert (row["threshold"], row["adaptive_depth"]) == expected


def test_generate_prints_unique_puzzles():
    result = runner.invoke(app, ["generate", "sudoku", "--count", "2", "--clues", "34-36"])
    from rmdm_cli.tasks.sudoku import parse_grid, solve_exact

    puzzles = result.stdout.splitlines()
    assert len(puzzles) == 2
    for text in puzzles:
        grid = parse_grid(text)
        assert 34 <= sum(1 for d in grid if d) <= 36 and len(solve_exact(grid, limit=2)) == 1


def test_train_resumes_after_interrupt(tmp_path, monkeypatch):
    import torch

    from rmdm_cli.tasks import get_task
    from rmdm_cli.train import TrainConfig, train

    config = TrainConfig(
        width=16, heads=2, n_layers=1, depth=2, batch_size=4, train_steps=4, warmup_steps=1, data={"pool_size": 8}
    )
    straight, _ = train(get_task("sudoku"), config, tmp_path / "a.pt")

    try:
        train(get_task("sudoku"), config, tmp_path / "b.pt", on_progress=stop_at_step_2)
    except KeyboardInterrupt:
        pass
    assert torch.load(tmp_path / "b.pt", weights_only=False)["step"] == 2
    resumed, metadata = train(get_task("sudoku"), config, tmp_path / "b.pt")
    assert metadata["steps"] == 4
    for a, b in zip(straight.parameters(), resumed.parameters()):
        assert torch.equal(a, b)


def test_sigterm_saves_the_training_state_as_ctrl_c_does(tmp_path):
    import os
    import signal

    import torch

    from rmdm_cli.tasks import get_task
    from rmdm_cli.train import TrainConfig, train

    config = TrainConfig(width=16, heads=2, n_layers=1, depth=1, batch_size=2, train_steps=50, data={"pool_size": 4})

    def terminate_at_step_2(step: int, loss: float, seconds: float) -> None:
        if step == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` or a job scheduler stops a background run

    before = signal.getsignal(signal.SIGTERM)
    try:
        train(get_task("sudoku"), config, tmp_path / "s.pt", on_progress=terminate_at_step_2)
    except KeyboardInterrupt:
        pass
    assert torch.load(tmp_path / "s.pt", weights_only=False)["step"] == 2
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is the training loop's alone


def test_a_stale_training_state_is_one_line_error(tmp_path):
    state = tmp_path / "state.pt"
    common = [
        "--width",
        "16",
        "--heads",
        "2",
        "--layers",
        "1",
        "--depth",
        "1",
        "--batch-size",
        "2",
        "--pool-size",
        "4",
        "--eval-count",
        "0",
        "--out",
        str(tmp_path / "m.safetensors"),
        "--state",
        str(state),
    ]
    first = runner.invoke(app, ["train", "sudoku", "--train-steps", "1", *common])
    assert first.exit_code == 0 and state.exists()
    other = runner.invoke(app, ["train", "sudoku", "--train-steps", "2", "--force", *common])
    assert other.exit_code == 2 and "Traceback" not in other.output
    assert f"{state} was written by a different training config" in other.stderr


def test_average_with_init_writes_the_mean_of_the_starting_and_trained_weights(tmp_path, tiny_weights):
    import torch

    from rmdm_cli.checkpoint import load_weights, read_header

    common = [
        "train",
        "sudoku",
        "--width",
        "16",
        "--heads",
        "2",
        "--layers",
        "1",
        "--depth",
        "2",
        "--batch-size",
        "2",
        "--pool-size",
        "4",
        "--train-steps",
        "3",
        "--lr",
        "0.05",
        "--warmup-steps",
        "0",
        "--eval-count",
        "0",
        "--init-from",
        str(tiny_weights),
        "--state",
        str(tmp_path / "state.pt"),
    ]
    assert runner.invoke(app, [*common, "--out", str(tmp_path / "trained.safetensors")]).exit_code == 0
    result = runner.invoke(
        app, [*common, "--average-with-init", "--out", str(tmp_path / "mean.safetensors")]
    )  # resumes the finished run
    assert result.exit_code == 0, result.output
    start, trained, mean = (
        load_weights(path, "sudoku")[0].state_dict()
        for path in (tiny_weights, tmp_path / "trained.safetensors", tmp_path / "mean.safetensors")
    )
    assert any(not torch.equal(start[name], trained[name]) for name in start)
    for name in start:
        assert torch.allclose(mean[name], (start[name] + trained[name]) / 2, atol=2e-3)
    assert read_header(tmp_path / "mean.safetensors")["training"]["averaged_with_init"] is True
    assert "averaged_with_init" not in read_header(tmp_path / "trained.safetensors")["training"]

    alone = runner.invoke(app, ["train", "sudoku", "--average-with-init", "--out", str(tmp_path / "m.safetensors")])
    assert alone.exit_code == 2 and "--average-with-init needs --init-from" in alone.stderr
    assert "training data" not in alone.output


def test_train_offers_only_the_tasks_own_options():
    for task, foreign in (("sudoku", ["--numbers", "3"]), ("countdown", ["--puzzle-pool", "10"])):
        result = runner.invoke(app, ["train", task, *foreign])
        assert result.exit_code == 2 and f"No such option: {foreign[0]}" in result.output
    assert "--numbers" in runner.invoke(app, ["train", "countdown", "--help"]).output


def test_train_rejects_a_bad_problem_size_before_anything_else(tmp_path):
    for numbers in ("2", "6"):
        result = runner.invoke(
            app, ["train", "countdown", "--numbers", numbers, "--out", str(tmp_path / "m.safetensors")]
        )
        assert result.exit_code == 2 and "must be 3 to 5" in result.output
        assert "training data" not in result.output and not (tmp_path / "m.safetensors").exists()


def test_help_does_not_import_torch():
    code = "import sys; from rmdm_cli.cli import app; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_one_puzzle_on_the_cpu_is_solved_without_torch(tiny_weights, device):
    # Importing torch takes longer than solving one puzzle: the CPU runs the NumPy copy of the
    # model. "auto" knows there is no GPU from the missing NVIDIA driver (patched in: CI has none,
    # a GPU machine would).
    code = (
        "import sys; import rmdm_cli.devices as devices; "
        "devices.no_nvidia_driver = lambda: True; import rmdm_cli.cli as cli\n"
        "sys.argv = ['rmdm', 'solve', 'sudoku', '--device', "
        f"{device!r}, '--weights', {str(tiny_weights)!r}, '--no-search', {EASY[0]!r}]\n"
        "try: cli.main()\nexcept SystemExit as exit: assert exit.code == 1, exit.code\n"
        "assert 'torch' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == solve(tiny_weights, "--device", "cpu", EASY[0], EASY[0]).stdout.splitlines()[0] + "\n"


def test_damaged_weights_and_missing_cuda_exit_2_without_traceback(tmp_path, monkeypatch):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not weights")
    result = runner.invoke(app, ["solve", "sudoku", "--weights", str(garbage), EASY[0]])
    assert result.exit_code == 2 and f"{garbage}: not a readable safetensors file" in result.stderr
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = runner.invoke(app, ["solve", "sudoku", "--device", "cuda", EASY[0]])
    assert result.exit_code == 2 and "CUDA is not available" in result.stderr


def test_multiple_puzzle_arguments(tiny_weights):
    result = solve(tiny_weights, "--format", "jsonl", EASY[0], "123", EASY[1])
    assert result.exit_code == 2 and "line 2: expected 81 cells, got 3" in result.stderr
    assert [json.loads(line)["line"] for line in result.stdout.splitlines()] == [1, 3]


def test_retries_rerun_rejected_puzzles_and_report_attempts(tiny_weights):
    once = solve(tiny_weights, "--format", "jsonl", "--steps", "4", input="\n".join(EASY) + "\n")
    retried = solve(tiny_weights, "--format", "jsonl", "--steps", "4", "--retries", "2", input="\n".join(EASY) + "\n")
    for first, record in zip(map(json.loads, once.stdout.splitlines()), map(json.loads, retried.stdout.splitlines())):
        assert first["attempts"] == 1 and record["attempts"] == 3  # random weights never solve: every retry used
        assert record["forward_passes"] == 3 * first["forward_passes"]
        assert record["solved"] is False
    assert retried.exit_code == 1


def test_give_up_stops_puzzles_that_break_a_rule(tiny_weights):
    plain = solve(tiny_weights, "--format", "jsonl", input="\n".join(EASY) + "\n")
    given_up = solve(tiny_weights, "--format", "jsonl", "--give-up", input="\n".join(EASY) + "\n")
    for first, record in zip(map(json.loads, plain.stdout.splitlines()), map(json.loads, given_up.stdout.splitlines())):
        assert record["solved"] is False and len(record["last_attempt"]) == 81 and "0" not in record["last_attempt"]
        assert record["forward_passes"] < first["forward_passes"]  # random weights soon repeat a digit


def test_bench_compares_fixed_adaptive_retries_and_the_exact_solver(tiny_weights):
    easy = BENCHMARKS / "sudoku" / "easy50.txt"
    result = runner.invoke(
        app, ["bench", "sudoku", str(easy), "--limit", "3", "--retries", "1", "--weights", str(tiny_weights), "--json"]
    )
    assert result.exit_code == 0, result.output
    fixed, adaptive, retried, searched, rules_alone, exact = map(json.loads, result.stdout.splitlines())
    assert (
        fixed["settings"] == "fixed: depth 2, steps 8" and fixed["mean_forward_passes"] == 16
    )  # the weights' defaults
    assert adaptive["mean_forward_passes"] <= fixed["mean_forward_passes"]
    assert (
        retried["mean_forward_passes"] == 2 * adaptive["mean_forward_passes"]
    )  # random weights: the retry always runs
    assert exact["solved_pct"] == 100.0 and exact["mean_forward_passes"] is None and exact["mean_nodes"] > 0
    assert searched["settings"] == "search, model-guided: depth 2" and rules_alone["settings"].startswith(
        "search, rules alone"
    )
    assert searched["solved_pct"] == rules_alone["solved_pct"] == 100.0  # every answer verified, even random weights'
    assert fixed["mean_nodes"] is None and searched["mean_nodes"] >= 0


def test_bench_adaptive_steps_bound_the_adaptive_rows(tiny_weights):
    easy = BENCHMARKS / "sudoku" / "easy50.txt"
    result = runner.invoke(
        app,
        [
            "bench",
            "sudoku",
            str(easy),
            "--limit",
            "2",
            "--retries",
            "0",
            "--adaptive-steps",
            "3",
            "--adaptive-recursion",
            "--weights",
            str(tiny_weights),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    fixed, adaptive, *_ = map(json.loads, result.stdout.splitlines())
    assert adaptive["settings"] == "adaptive: threshold 0.99, steps ≤ 3, adaptive depth ≤ 2, give up"
    assert 2 <= adaptive["mean_forward_passes"] <= 3 * 2 < fixed["mean_forward_passes"]  # at most 3 steps of depth <= 2
    result = runner.invoke(
        app,
        [
            "bench",
            "sudoku",
            str(easy),
            "--limit",
            "2",
            "--retries",
            "0",
            "--adaptive-steps",
            "3",
            "--no-adaptive-recursion",
            "--no-adaptive-give-up",
            "--weights",
            str(tiny_weights),
            "--json",
        ],
    )
    _, full_depth, *_ = map(json.loads, result.stdout.splitlines())
    assert full_depth["settings"] == "adaptive: threshold 0.99, steps ≤ 3, depth 2"
    assert full_depth["mean_forward_passes"] == 3 * 2  # random weights are never 0.99 sure: 3 steps at depth 2


def test_bench_adaptive_row_defaults_to_the_weights_stored_settings(tmp_path):
    from conftest import tiny_model

    from rmdm_cli.checkpoint import save_weights

    weights = tmp_path / "stored.safetensors"
    stored_defaults = {"depth": 2, "steps": 8, "threshold": 0.5, "adaptive_depth": True}
    save_weights(weights, tiny_model(), "sudoku", {}, stored_defaults)
    easy = str(BENCHMARKS / "sudoku" / "easy50.txt")
    bench = ["bench", "sudoku", easy, "--limit", "1", "--retries", "0", "--weights", str(weights), "--json"]
    _, stored, *_ = map(json.loads, runner.invoke(app, bench).stdout.splitlines())
    assert stored["settings"] == "adaptive: threshold 0.5, steps ≤ 8, adaptive depth ≤ 2, give up"
    result = runner.invoke(app, [*bench, "--adaptive-threshold", "0.99", "--no-adaptive-recursion"])
    _, chosen, *_ = map(json.loads, result.stdout.splitlines())
    assert chosen["settings"] == "adaptive: threshold 0.99, steps ≤ 8, depth 2, give up"


def test_generate_sudoku_by_difficulty_keeps_only_puzzles_the_rules_rate_so():
    from rmdm_cli.tasks.sudoku import parse_grid, rule_guesses, solve_exact

    assert rule_guesses(parse_grid(EASY[0])) == 0  # singles alone solve an easy one
    result = runner.invoke(app, ["generate", "sudoku", "--minimal", "--count", "2", "--seed", "3", "--guesses", "4-"])
    puzzles = [parse_grid(line) for line in result.stdout.split()]
    assert len(puzzles) == 2 and all(rule_guesses(p) >= 4 and len(solve_exact(p, limit=2)) == 1 for p in puzzles)
    bad = runner.invoke(app, ["generate", "sudoku", "--guesses", "9-3"])
    assert bad.exit_code == 2 and "--guesses: expected MIN-MAX or MIN-" in bad.stderr


def test_generate_minimal_puzzles_lose_uniqueness_without_any_clue():
    from rmdm_cli.tasks.sudoku import parse_grid, solve_exact

    result = runner.invoke(app, ["generate", "sudoku", "--minimal", "--count", "2", "--seed", "5"])
    for line in result.stdout.splitlines():
        puzzle = parse_grid(line)
        assert len(solve_exact(puzzle, limit=2)) == 1
        for cell in (i for i, digit in enumerate(puzzle) if digit):
            assert len(solve_exact(puzzle[:cell] + (0,) + puzzle[cell + 1 :], limit=2)) == 2


def test_retries_stop_once_the_checker_accepts(tiny_weights, monkeypatch):
    from rmdm_cli.tasks.sudoku import Sudoku

    calls = []

    def accept_from_second_attempt(self, puzzle, answer):
        calls.append(answer)
        return len(calls) > len(EASY)  # first attempt of every puzzle rejected, the next accepted

    monkeypatch.setattr(Sudoku, "check", accept_from_second_attempt)
    result = solve(tiny_weights, "--format", "jsonl", "--steps", "4", "--retries", "5", input="\n".join(EASY) + "\n")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["attempts"] for r in records] == [2, 2, 2] and all(r["solved"] for r in records)
    assert [r["forward_passes"] for r in records] == [2 * 4 * 2] * 3  # two attempts of 4 steps at depth 2
    assert result.exit_code == 0


def test_train_with_a_time_budget_and_a_data_worker_writes_its_cost(tmp_path):
    from rmdm_cli.checkpoint import read_header

    out = tmp_path / "m.safetensors"
    result = runner.invoke(
        app,
        [
            *TINY_TRAINING,
            "--train-steps",
            "100000",
            "--minutes",
            "0.02",
            "--workers",
            "1",
            "--device",
            "cpu",
            "--eval-count",
            "0",
            "--out",
            str(out),
            "--state",
            str(tmp_path / "state.pt"),
        ],
    )
    assert result.exit_code == 0, result.output
    training = read_header(out)["training"]
    assert training["train_config"]["minutes"] == 0.02 and 0 < training["steps"] < 100000
    assert training["device"] == "cpu" and training["train_seconds"] >= 1.2
    assert training["total_train_seconds"] == training["core_seconds"]  # the seconds times the cores busy
    rounding = 0.05 * (training["threads"] + 1) + 1e-9  # both figures are rounded to 0.1 s
    assert abs(training["core_seconds"] - training["train_seconds"] * training["threads"]) <= rounding
    assert "total_gpu_train_seconds" not in training
    assert "training data: 4 random complete grids" in result.output


def test_random_depth_is_recorded_in_the_weights(tmp_path):
    from rmdm_cli.checkpoint import read_header

    out = tmp_path / "m.safetensors"
    args = [*TINY_TRAINING, "--depth", "3", "--random-depth", "--train-steps", "3"]
    args += ["--eval-count", "0"]
    result = runner.invoke(app, [*args, "--out", str(out), "--state", str(tmp_path / "state.pt")])
    assert result.exit_code == 0, result.output
    header = read_header(out)
    assert header["training"]["train_config"]["random_depth"] is True
    assert header["defaults"]["depth"] == 3  # the largest depth trained
    assert header["defaults"]["threshold"] == 0.9999 and header["defaults"]["adaptive_depth"] is True  # Sudoku's


def test_unsolved_sudoku_lines_say_why_and_jsonl_carries_the_reason(tiny_weights):
    no_solution = "12345678." + "........9" + "." * 63  # the last cell of row 1 has no digit left
    result = solve(tiny_weights, "--format", "jsonl", input=f"{EASY[0]}\n{no_solution}\n")
    first, second = map(json.loads, result.stdout.splitlines())
    assert result.exit_code == 1
    assert first["reason"] == "breaks a rule" and first["solvable"] is True and "appears twice" in first["broken_rule"]
    assert second["reason"] == "no solution" and second["solvable"] is False
    assert (
        f"line 1: not solved: a solution exists; the model's answer breaks a rule: {first['broken_rule']}\n"
        in result.stderr
    )
    assert "line 2: not solved: the puzzle has no solution\n" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("2 puzzles: 0 solved, 2 not solved, 0 bad lines · ")


def test_jsonl_seconds_are_each_puzzles_share_of_its_batch(tiny_weights):
    from rmdm_cli.tasks.sudoku import format_grid, parse_grid, solve_exact

    complete = format_grid(solve_exact(parse_grid(EASY[0]))[0])  # nothing to fill: no forward pass
    result = solve(tiny_weights, "--format", "jsonl", input=f"{complete}\n{EASY[1]}\n{EASY[2]}\n")
    done, *others = [json.loads(line) for line in result.stdout.splitlines()]
    assert done["solved"] and done["forward_passes"] == 0 and done["seconds"] == 0
    assert (
        others[0]["forward_passes"] == others[1]["forward_passes"] > 0
        and others[0]["seconds"] == others[1]["seconds"] > 0
    )


def test_byte_order_marks_and_utf16_files_are_read(tiny_weights, tmp_path):
    for name, data in (("bom.txt", "\ufeff" + "\n".join(EASY) + "\n"), ("utf16.txt", "\r\n".join(EASY) + "\r\n")):
        path = tmp_path / name
        path.write_bytes(data.encode("utf-8") if name == "bom.txt" else data.encode("utf-16"))
        result = solve(tiny_weights, str(path))
        assert result.exit_code == 1 and len(result.stdout.splitlines()) == 3, result.stderr
        assert "error" not in result.stderr


def test_default_training_never_overwrites_weights(tmp_path, monkeypatch):
    import hashlib

    shipped = {path: hashlib.sha256(path.read_bytes()).hexdigest() for path in (ROOT / "weights").glob("*.safetensors")}
    monkeypatch.chdir(tmp_path)
    tiny = [
        *TINY_TRAINING,
        "--train-steps",
        "1",
        "--eval-count",
        "0",
    ]
    first = runner.invoke(app, tiny)
    assert first.exit_code == 0, first.output
    written = tmp_path / "runs" / "sudoku.safetensors"
    before = written.read_bytes()
    again = runner.invoke(app, tiny)
    assert (
        again.exit_code == 2 and "runs/sudoku.safetensors exists: choose another --out, or pass --force" in again.stderr
    )
    assert written.read_bytes() == before
    assert runner.invoke(app, [*tiny, "--force", "--state", "other.pt"]).exit_code == 0
    assert shipped and all(hashlib.sha256(path.read_bytes()).hexdigest() == digest for path, digest in shipped.items())


def test_version_names_the_weights_folder():
    result = runner.invoke(app, ["--version"])
    from rmdm_cli.checkpoint import weights_dir

    assert result.exit_code == 0 and result.stdout.startswith("rmdm ") and f"weights: {weights_dir()}" in result.stdout
    assert (
        str(weights_dir() / "sudoku.safetensors")
        in runner.invoke(app, ["solve", "sudoku", "--help"], env={"COLUMNS": "400"}).stdout
    )
