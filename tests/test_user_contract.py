"""What a user sees, item by item of docs/reliability.md's "What a user sees" table: options
that mean something, one-line errors, input formats people have, tables that fit a screen."""

import json
import os
import subprocess
import sys

import pytest
from conftest import BENCHMARKS, ROOT, benchmark_lines
from test_terminal import run_on_terminal
from typer.testing import CliRunner

from rmdm_cli.cli import app

runner = CliRunner()
EASY = benchmark_lines("easy50.txt", 3)


def solve(weights, *args, input=None):
    return runner.invoke(app, ["solve", "sudoku", "--weights", str(weights), *args], input=input)


@pytest.mark.parametrize(
    "flags", [["--threshold", "0.5"], ["--adaptive-depth"], ["--fixed"], ["--retries", "2"], ["--seed", "3"]]
)
def test_the_samplers_options_are_refused_in_search_mode(tiny_weights, flags):
    result = solve(tiny_weights, *flags, EASY[0])
    assert result.exit_code == 2 and f"{flags[0]}: the sampler's options; add --no-search" in result.stderr
    assert result.stdout == ""


def test_options_that_would_change_nothing_are_refused_with_the_sampler(tiny_weights):
    budget = solve(tiny_weights, "--no-search", "--budget", "10", EASY[0])
    assert budget.exit_code == 2 and "--budget bounds the search" in budget.stderr
    seed = solve(tiny_weights, "--no-search", "--seed", "4", EASY[0])
    assert seed.exit_code == 2 and "--seed draws the commit orders of retries" in seed.stderr
    several = solve(tiny_weights, "--live", *EASY)
    assert several.exit_code == 2 and "--live draws one puzzle" in several.stderr


def test_jsonl_reports_the_settings_used_in_each_mode(tiny_weights):
    searched = json.loads(solve(tiny_weights, "--format", "jsonl", "--steps", "5", EASY[0]).stdout)
    assert (searched["mode"], searched["steps"], searched["budget"]) == ("search", 5, 4000)
    default = json.loads(solve(tiny_weights, "--format", "jsonl", EASY[0]).stdout)
    assert default["steps"] == 1  # the task's search steps, not the 8 the weights store for the sampler
    sampled = json.loads(solve(tiny_weights, "--format", "jsonl", "--no-search", "--steps", "3", EASY[0]).stdout)
    assert (sampled["mode"], sampled["steps"], sampled["forward_passes"]) == ("sampler", 3, 6)
    assert "budget" not in sampled and sampled["threshold"] is None


def test_threads_set_torchs_threads(tiny_weights):
    import torch

    solve(tiny_weights, "--threads", "2", *EASY)
    assert torch.get_num_threads() == 2
    solve(tiny_weights, *EASY)
    assert torch.get_num_threads() == 1  # the default: runs side by side never slow each other
    assert "--threads" in runner.invoke(app, ["eval", "sudoku", "--help"]).stdout


def test_inputs_no_file_name_can_be_get_one_line_errors(tiny_weights, tiny_countdown_weights):
    long = solve(tiny_weights, "1" * 300)
    assert long.exit_code == 2 and long.stderr.strip() == "error: line 1: expected 81 cells, got 300"
    huge = runner.invoke(app, ["solve", "countdown", "--weights", str(tiny_countdown_weights), "1,2,3," + "9" * 5000])
    assert huge.exit_code == 2 and huge.stderr.strip() == "error: line 1: number 999999999999… is out of range (1-999)"
    as_json = runner.invoke(
        app,
        ["solve", "countdown", "--weights", str(tiny_countdown_weights)],
        input='{"nums": [1, 2, 3], "target": 1' + "0" * 5000 + "}\n",
    )
    assert as_json.exit_code == 2 and "out of range" in as_json.stderr and "Traceback" not in as_json.stderr


def test_bad_input_is_rejected_before_torch_is_imported():
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rmdm_cli", "solve", "sudoku", "-"],
        input="bad\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and "error: line 1: expected 81 cells, got 3" in result.stderr
    assert "| torch" not in result.stderr  # -X importtime lists every module imported


GRID = """\
5 3 . | . 7 . | . . .
6 . . | 1 9 5 | . . .
. 9 8 | . . . | . 6 .
------+-------+------
8 . . | . 6 . | . . 3
4 . . | 8 . 3 | . . 1
7 . . | . 2 . | . . 6
------+-------+------
. 6 . | . . . | 2 8 .
. . . | 4 1 9 | . . 5
. . . | . 8 . | . 7 9
"""
GRID_LINE = "53..7....6..195....98....6.8...6...34..8.3..17...2...6.6....28....419..5....8..79"


def test_a_grid_of_nine_lines_is_one_puzzle(tiny_weights, tmp_path):
    path = tmp_path / "grids.txt"
    path.write_text(GRID + "\n" + GRID.replace(" ", "").replace("|", "").replace(".", "0"))
    result = solve(tiny_weights, str(path), "--format", "jsonl")
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.exit_code == 0 and [r["line"] for r in records] == [1, 13]
    assert all(r["puzzle"] == GRID_LINE and r["solved"] for r in records)
    pasted = solve(tiny_weights, GRID)  # rmdm solve sudoku "$(cat grid.txt)"
    assert pasted.exit_code == 0 and len(pasted.stdout.strip()) == 81
    cut = solve(tiny_weights, "\n".join(GRID.splitlines()[:3]))
    assert cut.exit_code == 2 and "expected 81 cells, got 27" in cut.stderr


def test_countdowns_every_number_rule_is_stated(tiny_countdown_weights):
    help_text = " ".join(runner.invoke(app, ["solve", "countdown", "--help"]).stdout.split())
    assert "using every number exactly once" in help_text
    result = runner.invoke(app, ["solve", "countdown", "--weights", str(tiny_countdown_weights), "4,50,56,78,10"])
    assert "not solved: the target cannot be reached using every number exactly once" in result.stderr


def test_eval_tables_fit_80_columns_on_a_terminal_and_are_tab_separated_elsewhere(tiny_weights, tmp_path):
    path = tmp_path / "set.txt"
    path.write_text("\n".join(EASY))
    args = ["eval", "sudoku", str(path), "--weights", str(tiny_weights), "--depth", "1,2"]
    out, _, code = run_on_terminal(args, stdout_on_terminal=True)
    assert code == 0 and "with search" in out and "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    piped = runner.invoke(app, args)
    header = piped.stdout.splitlines()[1].split("\t")
    assert header[:3] == ["set", "puzzles", "depth"] and "search_mean_nodes" in header
    assert all(len(line.split("\t")) == len(header) for line in piped.stdout.splitlines()[2:])


def test_bench_says_how_far_it_is_on_a_file_too(tiny_weights):
    easy = str(BENCHMARKS / "sudoku" / "easy50.txt")
    result = runner.invoke(
        app, ["bench", "sudoku", easy, "--limit", "2", "--retries", "0", "--weights", str(tiny_weights)]
    )
    assert result.exit_code == 0
    assert "easy50.txt · exact solver: 2/2 puzzles · " in result.stderr  # a line per measured row


def test_readme_solving_examples_name_files_that_exist():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Solving", 1)[1].split("```", 2)[1]
    for word in block.split():
        if word.startswith("data/"):
            assert (ROOT / word).is_file(), word
    assert "puzzles.txt" not in block
    assert os.path.isdir(ROOT / "data")
