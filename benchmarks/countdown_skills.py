"""Which part of Countdown a model gets wrong: the arithmetic, the operands, or the plan.

    python benchmarks/countdown_skills.py [--weights weights/countdown.safetensors] [--count 300] [--numbers 3]
        [--file FILE --limit N]

On generated problems in the training distribution (benchmark targets excluded), one forward
pass fills one masked field of a complete reference answer: an equation's result from its
operands (arithmetic), or its first operand from the rest (picking a number that is
available). Then the model solves the same problems from a fully masked answer with the
weights' default decoding. High field accuracy with a low solve rate means the local skills
are there and the failures come from choosing a consistent plan. With --file, the model also
solves the first --limit problems of a benchmark file, and its rejected answers are counted by
where they first break a rule.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from pathlib import Path

import torch
from rich.console import Console

from rmdm_cli.checkpoint import load_weights
from rmdm_cli.inputs import read_puzzle_file
from rmdm_cli.settings import SamplerSettings
from rmdm_cli.solving import solve_all
from rmdm_cli.tasks.countdown import (
    EQUATION_WIDTH,
    PROMPT_LEN,
    Countdown,
    answer_error,
    benchmark_targets,
    encode_solution,
    random_example,
)

FIELDS = {  # offsets inside one equation slot: a, op, b (one token each), result digits
    "result from operands (arithmetic)": range(3, EQUATION_WIDTH),
    "first operand from the rest": range(0, 1),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=Path("weights/countdown.safetensors"))
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--numbers", type=int, default=3)
    parser.add_argument("--file", type=Path, help="a benchmark file whose failures to classify")
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = Countdown()
    model, header = load_weights(args.weights, "countdown")
    rng = random.Random("countdown-skills")
    examples = [random_example(rng, args.numbers, benchmark_targets()) for _ in range(args.count)]
    answers = torch.tensor([encode_solution(problem, equations) for problem, equations in examples])
    print(f"{args.weights}: {args.count} generated {args.numbers}-number problems")
    with torch.inference_mode():
        for name, offsets in FIELDS.items():
            for slot in range(args.numbers - 1):
                positions = [PROMPT_LEN + slot * EQUATION_WIDTH + offset for offset in offsets]
                inputs = answers.clone()
                inputs[:, positions] = task.mask_token
                predicted = model(inputs).argmax(-1)[:, positions]
                exact = (predicted == answers[:, positions]).all(1).float().mean().item()
                print(f"  {name}, equation {slot + 1}: {100 * exact:.1f}% exact")
    decoding = SamplerSettings().with_defaults(header["defaults"])
    solved = solve_all(model, task, [problem for problem, _ in examples], decoding)
    print(
        f"  whole answer from a fully masked start (depth {decoding.depth}, steps {decoding.steps}): "
        f"{100 * sum(answer.solved for answer in solved) / len(solved):.1f}% solved"
    )
    if args.file:
        problems = read_puzzle_file(task, args.file, args.limit, Console(stderr=True))
        answers = solve_all(model, task, problems, decoding)
        errors = Counter(answer_error(p.numbers, p.target, a.answer) for p, a in zip(problems, answers) if not a.solved)
        print(
            f"{args.file.name}, first {len(problems)}: {sum(a.solved for a in answers)} "
            "solved; where the others first break a rule:"
        )
        for error, count in errors.most_common():
            print(f"  {error}: {count}")


if __name__ == "__main__":
    main()
