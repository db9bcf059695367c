import json
import random

import numpy as np
import pytest
import torch
from conftest import BENCHMARKS
from typer.testing import CliRunner

from rmdm_cli.cli import app
from rmdm_cli.tasks import PuzzleError
from rmdm_cli.tasks.countdown import (
    DIGIT,
    EQUATION_WIDTH,
    MASK,
    OP,
    PROMPT_LEN,
    Countdown,
    answer_error,
    apply,
    benchmark_targets,
    can_reach,
    check_answer,
    encode_solution,
    parse_problem,
    random_example,
    solve_exact,
)

runner = CliRunner()


@pytest.mark.parametrize(
    "text",
    [
        "86,28,13,31,96",
        '{"input": "86,28,13,31,96", "output": "x"}',
        '{"nums": [86, 28, 13, 31], "target": 96}',
        " 86, 28,13,31 ,96 ",
    ],
)
def test_parse_every_form(text):
    problem = parse_problem(text)
    assert problem.numbers == (86, 28, 13, 31) and problem.target == 96


@pytest.mark.parametrize(
    "text, reason",
    [
        ("1,2,3", "expected 3 to 5 numbers"),
        ("1,2,3,4,5,6,7", "expected 3 to 5 numbers and a target, got 6 numbers"),
        ("1,2,0,10", "number 0 is out of range"),
        ("1,2,1000,10", "number 1000 is out of range"),
        ("1,2,3.5,10", "'3.5' is not a whole number"),
        ("1,2,-3,10", "'-3' is not a whole number"),
        ("1,2,3,0", "target 0 is out of range"),
        ("a,b,c,d", "'a' is not a whole number"),
        ("{oops", "not valid JSON"),
        ('{"nums": [1, 2, 3]}', 'needs an "input" field'),
        ('{"nums": [1, "2", 3], "target": 4}', "must be a list of integers"),
    ],
)
def test_bad_problems_say_why(text, reason):
    with pytest.raises(PuzzleError, match=reason):
        parse_problem(text)


def test_checker_accepts_right_and_rejects_wrong_answers():
    numbers, target = (86, 28, 13, 31), 96
    assert check_answer(numbers, target, "86+28=114,31-13=18,114-18=96")
    assert check_answer(numbers, target, "28+86=114,31-13=18,114-18=96")  # operand order is free
    wrong = {
        "86+86=172,31-13=18,172-18=154": "equation 1: uses a number that is not available",  # reused number
        "86+28=115,31-13=18,115-18=97": "equation 1: wrong arithmetic",
        "86+28=114,13-31=0,114-18=96": "equation 2: negative or fractional result",
        "86+28=114,31-13=18,114+18=132": "the last result is not the target",
        "86+28=114,114-18=96": "2 equations instead of 3",  # 13 and 31 unused
        "86+28=114,31-13=18,114-18=96,1+1=2": "4 equations instead of 3",
        "": "0 equations instead of 3",
        "86+28=114,31 minus 13=18,114-18=96": "equation 2: not of the form a+b=c",
    }
    for answer, error in wrong.items():
        assert answer_error(numbers, target, answer) == error and not check_answer(numbers, target, answer)
    assert answer_error((7, 2, 3), 6, "7/2=3,3+3=6") == "equation 1: negative or fractional result"


def test_exact_solver():
    assert check_answer((1, 2, 3), 9, ",".join(solve_exact((1, 2, 3), 9)))
    assert solve_exact((1, 1, 1), 50) is None  # unsolvable
    assert Countdown().solvable(parse_problem("2,3,5,25")) and not Countdown().solvable(parse_problem("1,1,1,50"))
    for line in (BENCHMARKS / "countdown" / "cd4_test.jsonl").read_text().splitlines()[:5]:
        problem = parse_problem(line)
        assert check_answer(problem.numbers, problem.target, ",".join(solve_exact(problem.numbers, problem.target)))


def first_answer_without_pruning(pool: list[int], target: int) -> list[str] | None:
    if len(pool) == 1:
        return [] if pool[0] == target else None
    for i in range(len(pool)):
        for j in range(i + 1, len(pool)):
            a, b = max(pool[i], pool[j]), min(pool[i], pool[j])
            for op in "+-*/":
                result = apply(a, op, b)
                if result is not None and result <= 9999:
                    rest = [value for index, value in enumerate(pool) if index not in (i, j)]
                    found = first_answer_without_pruning(rest + [result], target)
                    if found is not None:
                        return [f"{a}{op}{b}={result}"] + found
    return None


def test_solver_pruning_keeps_the_first_answer():
    # Training answers are the solver's first; skipping pools already searched must not change it.
    rng = random.Random(3)
    for _ in range(300):
        numbers, target = [rng.randint(1, 99) for _ in range(rng.randint(3, 5))], rng.randint(10, 100)
        assert solve_exact(numbers, target) == first_answer_without_pruning(numbers, target)


def test_reachability_agrees_with_the_exact_solver():
    # Training problems are kept when can_reach says so; it must say what the search finds,
    # also where zero, equal numbers or the inference range (up to 999) come in.
    rng = random.Random(4)
    for high, targets in ((99, (10, 100)), (999, (1, 999)), (6, (1, 30))):
        for _ in range(300):
            numbers, target = [rng.randint(1, high) for _ in range(rng.randint(3, 5))], rng.randint(*targets)
            assert can_reach(numbers, target) == (solve_exact(numbers, target) is not None), (numbers, target)


def test_benchmark_answers_pass_the_checker():
    for name in ("cd3_test.jsonl", "cd4_test.jsonl", "cd5_test.jsonl"):
        for line in (BENCHMARKS / "countdown" / name).read_text().splitlines()[:50]:
            record = json.loads(line)
            problem = parse_problem(record["input"])
            assert check_answer(problem.numbers, problem.target, record["output"])


def test_the_shipped_target_list_is_every_benchmark_target():
    targets = {
        int(json.loads(line)["input"].split(",")[-1])
        for path in (BENCHMARKS / "countdown").glob("cd*_test.jsonl")
        for line in path.read_text().splitlines()
    }
    assert targets and benchmark_targets() == targets


def test_training_generator_never_emits_a_benchmark_target():
    excluded = benchmark_targets()
    assert {96, 14, 43} <= excluded
    rng = random.Random(0)
    for _ in range(2000):
        problem, equations = random_example(rng, rng.randint(3, 5), excluded)
        assert problem.target not in excluded and 10 <= problem.target <= 100
        assert check_answer(problem.numbers, problem.target, ",".join(equations))
        # One canonical answer per problem: the exact solver's first.
        assert equations == solve_exact(problem.numbers, problem.target)


def test_encoding_round_trip_and_training_batch():
    task = Countdown()
    problem = parse_problem("86,28,13,31,96")
    equations = ["86+28=114", "31-13=18", "114-18=96"]
    tokens = encode_solution(problem, equations)
    assert len(tokens) == task.seq_len and task.decode(problem, tokens) == ",".join(equations)
    assert tokens[:PROMPT_LEN] == task.encode(problem)[:PROMPT_LEN]
    targets, maskable = task.training_data(task.DataOptions(), seed=0).batch(16, torch.Generator().manual_seed(0))
    assert targets.shape == maskable.shape == (16, task.seq_len)
    assert not maskable[:, :PROMPT_LEN].any() and maskable.any(1).all()
    assert len(set(maskable.sum(1).tolist())) > 1  # 3 to 5 numbers mixed


def test_training_numbers_fixes_the_problem_size():
    task = Countdown()
    data = task.training_data(task.DataOptions(numbers=3), seed=0)
    _, maskable = data.batch(16, torch.Generator().manual_seed(0))
    assert (maskable.sum(1) == 2 * EQUATION_WIDTH).all()
    assert "3 numbers uniform" in data.recipe
    for numbers, judged_on in ((3, 3), (5, 5), (0, 4)):  # held out like training; 4 for a model trained on mixed sizes
        held_out = task.generate(5, 0, task.held_out_options(task.DataOptions(numbers=numbers)))
        assert {len(task.parse(text).numbers) for text in held_out} == {judged_on}


def test_operands_are_references_decoded_as_written():
    from rmdm_cli.tasks.countdown import NUMBER_REF, RESULT_REF

    task = Countdown()
    problem = parse_problem("86,28,13,31,96")
    tokens = encode_solution(problem, ["86+28=114", "31-13=18", "114-18=96"])
    third = PROMPT_LEN + 2 * EQUATION_WIDTH
    assert tokens[third] == RESULT_REF and tokens[third + 2] == RESULT_REF + 1  # 114 and 18 name their equations
    tokens[PROMPT_LEN + 2] = NUMBER_REF  # 86 used twice: decoded as written, so the checker rejects it
    assert task.decode(problem, tokens).startswith("86+86=114") and not task.check(
        problem, task.decode(problem, tokens)
    )
    tokens[PROMPT_LEN] = RESULT_REF + 2  # a reference to a later equation's result cannot be read
    assert task.decode(problem, tokens).startswith("?+86=114")


def test_dead_end_flags_answers_that_can_no_longer_pass():
    task = Countdown()
    problem = parse_problem("86,28,13,31,96")
    right = encode_solution(problem, ["86+28=114", "31-13=18", "114-18=96"])
    last_digit = PROMPT_LEN + 3 * EQUATION_WIDTH - 1
    eq2 = PROMPT_LEN + EQUATION_WIDTH
    cases = {
        "right": (right, False),
        "all open": (task.encode(problem), False),
        "last result not the target": ({last_digit: DIGIT + 7}, True),
        "wrong arithmetic, operand still open": ({PROMPT_LEN + 6: DIGIT + 5, PROMPT_LEN: MASK}, True),
        "result still open": ({eq2 + 3: MASK, eq2 + 4: MASK, eq2 + 5: MASK, eq2 + 6: MASK}, False),
        "13-31, result still open": ({eq2: right[eq2 + 2], eq2 + 2: right[eq2], eq2 + 6: MASK}, True),
        "operator in a result": ({eq2 + 6: OP}, True),
    }
    rows, expected = [], []
    for change, flag in cases.values():
        row = list(right) if isinstance(change, dict) else change
        for position, token in change.items() if isinstance(change, dict) else ():
            row[position] = token
        rows.append(row)
        expected.append(flag)
    assert task.dead_end(np.array(rows)).tolist() == expected
    for row, flag in zip(rows, expected):
        if flag:  # even the most favourable filling of the open tokens fails
            filled = [token if token != MASK else right[i] for i, token in enumerate(row)]
            assert not task.check(problem, task.decode(problem, filled))


def test_dead_end_never_flags_part_of_a_right_answer():
    task, rng = Countdown(), random.Random(0)
    rows = []
    for _ in range(100):
        problem, equations = random_example(rng, rng.randint(3, 5), frozenset())
        row = encode_solution(problem, equations)
        rows.append(
            [MASK if position >= PROMPT_LEN and rng.random() < 0.5 else token for position, token in enumerate(row)]
        )
    assert not task.dead_end(np.array(rows)).any()


def test_cli_solve_countdown_jsonl(tiny_countdown_weights):
    text = "86,28,13,31,96\n1,1,1,50\n1,2\n"
    result = runner.invoke(
        app,
        ["solve", "countdown", "--weights", str(tiny_countdown_weights), "--no-search", "--format", "jsonl"],
        input=text,
    )
    assert result.exit_code == 2  # line 3 is bad
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in records] == [1, 2]
    assert records[0]["puzzle"] == "86,28,13,31,96" and records[0]["answer"] is None
    assert [r.get("solvable") for r in records] == [True, False]  # the random model fails both
    assert [r["reason"] for r in records] == ["breaks a rule", "no solution"]
    assert records[0]["broken_rule"] == task_violation(records[0]) and "broken_rule" not in records[1]
    assert "line 3: expected 3 to 5 numbers" in result.stderr
    assert "line 2: not solved: the target cannot be reached using every number exactly once\n" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("2 puzzles: 0 solved, 2 not solved, 1 bad line · ")


def task_violation(record) -> str:
    problem = parse_problem(record["puzzle"])
    return answer_error(problem.numbers, problem.target, record["last_attempt"])


def test_cli_numbers_and_target_options(tiny_countdown_weights):
    result = runner.invoke(
        app,
        [
            "solve",
            "countdown",
            "--weights",
            str(tiny_countdown_weights),
            "--format",
            "jsonl",
            "--numbers",
            "25",
            "50",
            "75",
            "100",
            "--target",
            "842",
        ],
    )
    record = json.loads(result.stdout)
    assert record["puzzle"] == "25,50,75,100,842" and result.exit_code == 1
    missing = runner.invoke(app, ["solve", "countdown", "--weights", str(tiny_countdown_weights), "--numbers", "1,2,3"])
    assert missing.exit_code == 2 and "--numbers and --target go together" in missing.stderr


def test_cli_generate_countdown():
    result = runner.invoke(app, ["generate", "countdown", "--count", "3", "--numbers", "5"])
    problems = [parse_problem(line) for line in result.stdout.splitlines()]
    assert len(problems) == 3 and all(len(p.numbers) == 5 and Countdown().solvable(p) for p in problems)


def test_data_recipe_names_the_exclusion():
    task = Countdown()
    assert f"{len(benchmark_targets())} targets excluded" in task.training_data(task.DataOptions(), seed=0).recipe


def test_cli_says_when_a_failed_problem_lies_beyond_training(tiny_countdown_weights):
    text = "86,28,13,31,96\n99,2,1,200\n150,2,1,300\n"  # in range; target 200 beyond; number 150 and target 300 beyond
    result = runner.invoke(
        app, ["solve", "countdown", "--weights", str(tiny_countdown_weights), "--no-search"], input=text
    )
    assert result.exit_code == 1
    line1, line2, line3 = result.stderr.splitlines()[:3]
    assert (
        line1.startswith("line 1: not solved: a solution exists; the model's answer breaks a rule: ")
        and "trained on" not in line1
    )
    assert line2.startswith("line 2: not solved: a solution exists; ")
    assert line2.endswith("; the model is trained on numbers 1-99 and targets 10-100, not target 200")
    assert line3.endswith("not number 150, target 300")


def test_numbers_options_with_a_positional_problem_are_a_usage_error(tiny_countdown_weights):
    result = runner.invoke(
        app,
        [
            "solve",
            "countdown",
            "--weights",
            str(tiny_countdown_weights),
            "--numbers",
            "60",
            "16",
            "34",
            "87",
            "--target",
            "97",
            "86,28,13,31,96",
        ],
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert "--numbers/--target give one problem; '86,28,13,31,96' is another" in result.stderr


def test_live_view_marks_broken_equations_and_keeps_slot_widths():
    from rich.console import Console

    task = Countdown()
    problem = parse_problem("86,28,13,31,96")
    right = encode_solution(problem, ["86+28=114", "31-13=18", "114-18=96"])
    wrong = encode_solution(problem, ["86+28=114", "31-13=18", "114-18=96"])
    wrong[PROMPT_LEN + 3 : PROMPT_LEN + EQUATION_WIDTH] = [DIGIT + 1, DIGIT + 1, DIGIT + 1, DIGIT + 1]  # 86+28=1111
    half = [MASK if position >= PROMPT_LEN + EQUATION_WIDTH + 3 else token for position, token in enumerate(right)]

    def lines(tokens):
        console = Console(width=80, record=True, color_system="truecolor", force_terminal=True)
        console.print(task.render(problem, tokens, [1.0] * len(tokens)))
        return console.export_text(styles=True).splitlines()[1:4], console.export_text().splitlines()[1:4]

    styled, plain = lines(wrong)
    assert "\x1b[31m" in styled[0] and "\x1b[31m" not in styled[1]  # red: the wrong equation only
    assert (
        [len(line) for line in lines(half)[1]]
        == [len(line) for line in plain]
        == [len(line) for line in lines(right)[1]]
    )
