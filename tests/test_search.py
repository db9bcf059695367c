"""Verified search: every answer it returns passes the checker, its work is counted, a puzzle
without a solution is found out, and the budget bounds it."""

import json

import numpy as np
from conftest import benchmark_lines, numpy_copy, tiny_model
from typer.testing import CliRunner

from rmdm_cli.cli import app
from rmdm_cli.search import Trace, search_batch
from rmdm_cli.settings import SearchSettings
from rmdm_cli.tasks import get_task
from rmdm_cli.tasks.sudoku import rule_guesses

runner = CliRunner()
HARD = benchmark_lines("top95.txt", 3)
NO_SOLUTION = "12345678." + "........9" + "." * 63


def test_random_weights_still_give_only_verified_answers():
    task = get_task("sudoku")
    puzzles = [task.parse(line) for line in HARD]
    answers = search_batch(numpy_copy(tiny_model()), task, puzzles, SearchSettings(depth=2, steps=8))
    assert all(answer.solved and task.check(puzzle, answer.answer) for puzzle, answer in zip(puzzles, answers))
    assert all(answer.nodes > 0 and answer.forward_passes > 0 for answer in answers)  # hard: branching needed
    assert all(answer.forward_passes % 2 == 0 for answer in answers)  # whole model calls at depth 2


def test_the_model_orders_the_choices():
    task = get_task("sudoku")
    puzzle = task.parse(HARD[0])
    solution = task.exact_answer(puzzle)
    told = np.zeros((81, 10), dtype=np.float32)  # a model that knows the answer
    told[np.arange(81), [int(ch) for ch in solution]] = 1
    task.search_patience = 0  # the model asked from the first stall on
    trace = Trace()
    search = task.search(puzzle, trace, 81)  # ... and again before every commitment
    state = next(search)
    try:
        while True:
            state = search.send(told)
    except StopIteration as stop:
        assert "".join(map(str, stop.value)) == solution
    assert trace.backtracks == 0 and state is not None  # never a wrong turn


def test_the_model_is_asked_only_once_the_rules_have_guessed_enough():
    task = get_task("sudoku")
    hard = task.parse(HARD[0])
    assert rule_guesses(hard) > task.search_patience
    eager = get_task("sudoku")
    eager.search_patience = 0
    stalled = next(eager.search(hard, Trace(), 1))  # where the rules first stall
    trace = Trace()
    shown = next(task.search(hard, trace, 1))
    assert trace.nodes >= task.search_patience and shown == stalled  # shown the first stall, not where it is
    easy = next(
        puzzle for line in benchmark_lines("17clue-1000.txt", 50)
        if 0 < rule_guesses(puzzle := task.parse(line)) <= task.search_patience
    )  # fmt: skip
    trace = Trace()
    assert next(task.search(easy, trace, 1), None) is None  # solved without a word from the model
    assert trace.nodes == rule_guesses(easy)


def test_exhausted_search_reports_no_solution_and_the_budget_bounds_a_search(tiny_weights, tiny_countdown_weights):
    result = runner.invoke(app, ["solve", "sudoku", "--weights", str(tiny_weights), "--format", "jsonl", NO_SOLUTION])
    record = json.loads(result.stdout)
    assert result.exit_code == 1 and record["reason"] == "no solution" and not record["solved"]
    assert "line 1: not solved: the puzzle has no solution" in result.stderr
    counted = runner.invoke(
        app,
        [
            "solve",
            "countdown",
            "--weights",
            str(tiny_countdown_weights),
            "--format",
            "jsonl",
            "1,1,1,50",
            "86,28,13,31,96",
        ],
    )  # noqa: E501
    unsolvable, solvable = map(json.loads, counted.stdout.splitlines())
    assert unsolvable["reason"] == "no solution" and solvable["solved"] and "backtracks" in solvable
    tight = runner.invoke(
        app, ["solve", "sudoku", "--weights", str(tiny_weights), "--format", "jsonl", "--budget", "2", HARD[0]]
    )  # noqa: E501
    record = json.loads(tight.stdout)
    assert tight.exit_code == 1 and not record["solved"] and record["forward_passes"] == 2
    assert record["answer"] is None and len(record["last_attempt"]) == 81
    assert "line 1: not solved: a solution exists" in tight.stderr


def test_rules_alone_also_solve_and_count_their_nodes():
    task = get_task("countdown")
    problems = [task.parse(line) for line in ("86,28,13,31,96", benchmark_lines("../countdown/cd5_test.jsonl", 1)[0])]
    answers = search_batch(None, task, problems, SearchSettings(depth=3, steps=4, uniform=True))
    assert all(answer.solved for answer in answers) and all(
        answer.nodes >= len(p.numbers) - 1 for p, answer in zip(problems, answers)
    )


def test_steps_set_how_often_the_search_asks_the_model():
    task = get_task("sudoku")
    puzzles = [task.parse(line) for line in HARD]
    model = numpy_copy(tiny_model())
    calls = {
        steps: [answer.forward_passes // 2 for answer in search_batch(model, task, puzzles, SearchSettings(2, steps))]
        for steps in (1, 81)
    }
    assert all(few < many for few, many in zip(calls[1], calls[81]))  # one call, then the stale predictions
    first = runner.invoke(app, ["solve", "sudoku", "--format", "jsonl", "--steps", "3", HARD[0]])
    assert json.loads(first.stdout)["steps"] == 3 and json.loads(first.stdout)["mode"] == "search"
