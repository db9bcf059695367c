import random

import torch

from rmdm_cli.tasks.countdown import MASK, PAD, PROMPT_LEN, benchmark_targets, random_example
from rmdm_cli.tasks.countdown_text import ANSWER_LEN, CountdownText, answer_tokens


def test_training_rows_decode_to_answers_the_checker_accepts():
    task = CountdownText()
    targets, maskable = task.training_data(task.DataOptions(), seed=0).batch(32, torch.Generator().manual_seed(3))
    assert targets.shape == maskable.shape == (32, task.seq_len)
    assert not maskable[:, :PROMPT_LEN].any() and maskable[:, PROMPT_LEN:].all()
    rng = random.Random(5)
    for _ in range(20):
        problem, equations = random_example(rng, rng.randint(3, 5), benchmark_targets())
        row = task.encode(problem)
        assert row[PROMPT_LEN:] == [MASK] * ANSWER_LEN
        row[PROMPT_LEN:] = answer_tokens(",".join(equations))
        assert task.check(problem, task.decode(problem, row))


def test_padding_inside_an_answer_breaks_it():
    task = CountdownText()
    problem = task.parse("86,28,13,31,96")
    row = task.encode(problem)[:PROMPT_LEN] + answer_tokens("86+28=114,31-13=18,114-18=96")
    assert task.check(problem, task.decode(problem, row))
    row[PROMPT_LEN + 2] = PAD  # "86+ 8=114,..."
    assert not task.check(problem, task.decode(problem, row))
