"""The shipped weights load, describe themselves, and solve easy puzzles at their defaults."""

import json

import pytest
from typer.testing import CliRunner

from conftest import BENCHMARKS, ROOT, benchmark_lines
from rmdm_cli.checkpoint import load_weights
from rmdm_cli.cli import app


@pytest.mark.parametrize("task", ["sudoku", "countdown"])
def test_weights_describe_themselves(task):
    model, header = load_weights(ROOT / "weights" / f"{task}.safetensors", task)
    training = header["training"]
    assert training["parameters"] == model.parameter_count()
    assert training["train_seconds"] > 0 and "held_out" in training and "data" in training
    assert header["defaults"] == {"depth": model.config.depth, "steps": model.config.seq_len}


def test_sudoku_weights_solve_most_of_the_first_easy50_puzzles():
    # Measured on all of easy50: 92% (README); the first ten hold 9 solved.
    result = CliRunner().invoke(app, ["solve", "sudoku", "--format", "jsonl"], input="\n".join(benchmark_lines("easy50.txt", 10)))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 10 and sum(record["solved"] for record in records) >= 8


def test_countdown_weights_solve_most_of_the_first_cd3_problems():
    # Measured on all of cd3_test: 64.0% (README); the first thirty hold 23 solved.
    lines = (BENCHMARKS / "countdown" / "cd3_test.jsonl").read_text().splitlines()[:30]
    result = CliRunner().invoke(app, ["solve", "countdown", "--format", "jsonl"], input="\n".join(lines))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 30 and sum(record["solved"] for record in records) >= 18
