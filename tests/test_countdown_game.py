import json
import random

import numpy as np
import torch
from typer.testing import CliRunner

from rmdm_cli.cli import app
from rmdm_cli.search import Trace, uniform_probs
from rmdm_cli.tasks.countdown import NUMBER_WIDTH, chars
from rmdm_cli.tasks.countdown_game import (
    GAME_NUMBERS,
    GAME_TARGETS,
    LARGE,
    SMALL,
    CountdownGame,
    answer_error,
    apply,
    best_answer,
    show_draw,
    values_by_subset,
)

runner = CliRunner()


def every_value(numbers: list[int]) -> set[int]:
    """Every value some sequence of equations makes (a plain search over pools, for comparison)."""
    seen = set(numbers)

    def combine(pool: list[int]) -> None:
        for i in range(len(pool)):
            for j in range(i + 1, len(pool)):
                rest = [value for n, value in enumerate(pool) if n not in (i, j)]
                a, b = max(pool[i], pool[j]), min(pool[i], pool[j])
                for op in "+-*/":
                    if (value := apply(a, op, b)) is not None:
                        seen.add(value)
                        combine(rest + [value])

    combine(list(numbers))
    return seen


def test_every_subset_value_is_found():
    rng = random.Random(3)
    for _ in range(20):
        numbers = [rng.randint(1, 12) for _ in range(rng.randint(1, 4))]
        made = values_by_subset(numbers)
        assert set().union(*made) == every_value(numbers), numbers


def test_the_famous_game_is_solved_exactly():
    answer = best_answer([25, 50, 75, 100, 3, 6], 952)
    assert answer.value == 952 and answer.distance == 0
    assert answer_error([25, 50, 75, 100, 3, 6], 952, answer.text) is None


def test_a_given_number_alone_can_be_the_answer():
    answer = best_answer([1, 2, 3, 4, 5, 100], 100)
    assert answer.text == "100" and answer.equations == ()
    assert answer_error([1, 2, 3, 4, 5, 100], 100, "100") is None
    assert answer_error([1, 2, 3, 4, 5, 100], 100, "99") == "99 is not one of the numbers"


def test_the_fewest_numbers_make_the_canonical_answer():
    answer = best_answer([7, 1, 2, 50, 8, 3], 100)
    assert answer.equations == ("50*2=100",)


def test_the_closest_value_when_the_target_cannot_be_made():
    answer = best_answer([2, 3], 100)
    assert (answer.value, answer.distance, answer.text) == (6, 94, "3*2=6")
    assert answer_error([2, 3], 100, "3+2=5") == "makes 5, 95 away; 6 is 94 away"
    assert answer_error([2, 3], 100, "3*2=6") is None


def test_answers_that_break_a_rule_are_named():
    numbers = [3, 3, 10]
    assert answer_error(numbers, 30, "10*3=30") is None
    assert answer_error(numbers, 30, "10*3=31") == "equation 1: wrong arithmetic"
    assert answer_error(numbers, 30, "3-3=0,10+0=10").startswith("equation 1: the result is not a whole number")
    assert answer_error(numbers, 30, "10/3=3").startswith("equation 1: the result is not a whole number")
    assert answer_error(numbers, 30, "10*10=100") == "equation 1: uses a number that is not available"
    assert answer_error(numbers, 30, "ten times three") == "equation 1: not of the form a+b=c"


def test_show_draws_follow_the_show():
    rng = random.Random(0)
    for _ in range(200):
        numbers, target = show_draw(rng)
        assert len(numbers) == GAME_NUMBERS and GAME_TARGETS[0] <= target <= GAME_TARGETS[1]
        small = [number for number in numbers if number not in LARGE]
        assert len(numbers) - len(small) <= len(LARGE) and all(small.count(n) <= 2 and n in SMALL for n in small)


def test_best_answers_pass_the_checker():
    rng = random.Random(1)
    for _ in range(30):
        numbers, target = show_draw(rng)
        answer = best_answer(numbers, target)
        assert answer_error(numbers, target, answer.text) is None
        assert answer.distance == min(abs(value - target) for made in values_by_subset(numbers) for value in made)


def play(args: list[str], weights, stdin: str | None = None):
    return runner.invoke(app, ["solve", *args, "--weights", str(weights)], input=stdin)


def test_six_numbers_play_the_tv_game_without_further_flags(tiny_game_weights):
    result = play(["countdown", "--numbers", "25", "50", "75", "100", "3", "6", "--target", "952"], tiny_game_weights)
    assert result.exit_code == 0, result.output
    assert answer_error([25, 50, 75, 100, 3, 6], 952, result.stdout.strip()) is None


def test_the_closest_answer_is_on_stdout_and_its_distance_on_stderr(tiny_game_weights):
    for mode in ([], ["--no-search"]):
        result = play(["countdown", "1,1,1,1,1,1,999", "--format", "jsonl", *mode], tiny_game_weights)
        record = json.loads(result.stdout)
        if mode:  # random weights: the sampler's answer is not the best one, so stdout holds none
            assert record["answer"] is None and result.exit_code == 1
            continue
        assert result.exit_code == 0 and record["remark"] == "closest: 9, 990 away (999 cannot be made)"
        assert answer_error([1] * 6, 999, record["answer"]) is None
        assert "line 1: closest: 9, 990 away" in result.stderr


def test_the_game_option_plays_fewer_numbers_by_the_games_rules(tiny_game_weights):
    result = play(["countdown", "--game", "4,50,56,78,10"], tiny_game_weights)
    assert result.exit_code == 0
    assert answer_error([4, 50, 56, 78], 10, result.stdout.strip()) is None
    assert play(["countdown", "4,50,56,78,10"], tiny_game_weights).exit_code == 2  # the benchmark's task: other weights


def test_bad_games_get_one_line_errors_and_the_good_lines_their_answers(tiny_game_weights):
    lines = "25,50,75,100,3,6,952\n25,50,75,100,3,6,9,952\n25,0,75,100,3,6,952\n25,50,75,100,3,6,-5\n3,4,50,7\n"
    result = play(["countdown"], tiny_game_weights, stdin=lines)
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] and len(result.stdout.splitlines()) == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert [error.split(":")[1] for error in errors] == [" line 2", " line 3", " line 4", " line 5"]
    assert "got 7 numbers" in errors[0] and "number 0 is out of range" in errors[1] and "'-5'" in errors[2]
    assert "this run plays the TV game" in errors[3]
    benchmark_first = play(["countdown"], tiny_game_weights, stdin="3,4,50,7\n25,50,75,100,3,6,952\n")
    assert "six numbers are the TV game" in benchmark_first.stderr  # the run plays the benchmark's rules


def show_games(seed: int, count: int):
    """(numbers, target, parsed problem) of `count` show draws."""
    rng = random.Random(seed)
    for _ in range(count):
        numbers, target = show_draw(rng)
        yield numbers, target, CountdownGame().parse(",".join(map(str, [*numbers, target])))


def test_answer_tokens_decode_to_the_answer_they_encode():
    task = CountdownGame()
    for numbers, target, problem in show_games(2, 30):
        answer = best_answer(numbers, target)
        tokens = task.answer_tokens(problem, answer.equations, answer.value)
        assert task.decode(problem, tokens) == answer.text and not task.dead_end(np.array([tokens]))[0]


def test_the_search_finds_a_best_answer_with_the_rules_alone():
    task = CountdownGame()
    for numbers, target, problem in show_games(4, 40):
        trace = Trace()
        search = task.search(problem, trace, steps=1)
        try:
            tokens = next(search)
            while True:
                tokens = search.send(uniform_probs(tokens[None], task.vocab_size, task.mask_token)[0])
        except StopIteration as stop:
            answer = task.decode(problem, stop.value)
        assert answer_error(numbers, target, answer) is None, (numbers, target, answer)


def test_training_examples_are_best_answers_with_only_the_answer_maskable():
    task = CountdownGame()
    data = task.training_data(task.DataOptions(pool=20), seed=0)
    targets, maskable = data.batch(16, torch.Generator().manual_seed(0))
    prompt = task.layout.prompt_len
    assert targets.shape == maskable.shape == (16, task.seq_len)
    assert not maskable[:, :prompt].any() and maskable[:, prompt:].all()
    for row in targets.tolist():
        problem = task.parse(",".join(chars_of_prompt(row)))
        assert task.check(problem, task.decode(problem, row))


def chars_of_prompt(row: list[int]) -> list[str]:
    width = NUMBER_WIDTH
    return [chars(row[slot * width : (slot + 1) * width]) for slot in range(GAME_NUMBERS + 1)]
