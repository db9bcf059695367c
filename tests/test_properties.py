"""Property tests: no input makes the CLI raise, and `solved` is never claimed falsely."""

from conftest import benchmark_lines, tiny_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rmdm_cli.cli import app
from rmdm_cli.settings import SamplerSettings
from rmdm_cli.solving import solve_batch
from rmdm_cli.tasks import PuzzleError
from rmdm_cli.tasks.countdown import Countdown
from rmdm_cli.tasks.sudoku import Sudoku, is_solution

runner = CliRunner()
EASY = benchmark_lines("easy50.txt", 50)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def count_lines(task, text: bytes) -> tuple[int, int]:
    """(good, bad) puzzle lines, judged line by line as the CLI must."""
    good = bad = 0
    for raw in text.split(b"\n"):
        line = raw.decode("utf-8", errors="replace").strip()
        if line and not line.startswith("#"):
            try:
                task.parse(line)
                good += 1
            except PuzzleError:
                bad += 1
    return good, bad


def assert_answers_exactly_the_good_lines(task, weights, data: bytes) -> None:
    result = runner.invoke(
        app, ["solve", task.name, "--weights", str(weights), "--no-search", "--steps", "2", "--depth", "1"], input=data
    )
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.stderr
    good, bad = count_lines(task, data)
    assert len(result.stdout.splitlines()) == good
    assert result.exit_code == 2 if bad or not good else result.exit_code in (0, 1)


mutated_puzzle = st.builds(
    lambda base, position, char: base[:position] + char + base[position + 1 :],
    st.sampled_from(EASY),
    st.integers(0, 80),
    st.sampled_from(list("0123456789.x \t")),
)


@SETTINGS
@given(st.lists(st.one_of(st.binary(max_size=100), mutated_puzzle.map(str.encode)), min_size=1, max_size=6))
def test_any_input_answers_exactly_the_good_lines(tiny_weights, chunks):
    assert_answers_exactly_the_good_lines(Sudoku(), tiny_weights, b"\n".join(chunks) + b"\n")


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 6), st.integers(1, 3))
def test_solved_only_when_the_checker_agrees(seed, steps, depth):
    task = Sudoku()
    puzzles = [task.parse(line) for line in EASY]
    answers = solve_batch(tiny_model(seed=seed % 100), task, puzzles, SamplerSettings(depth, steps))
    for puzzle, answer in zip(puzzles, answers):
        grid = [int(ch) for ch in answer.answer]
        assert answer.solved == is_solution(puzzle, grid)
        assert all(given == 0 or given == digit for given, digit in zip(puzzle, grid))


countdown_line = st.one_of(
    # up to 5 numbers and a target: a first line of six numbers plays the TV game, another task
    # with its own weights (tests/test_countdown_game.py)
    st.lists(st.integers(-5, 1200), min_size=1, max_size=6).map(lambda values: ",".join(map(str, values))),
    st.builds(
        lambda text, position, char: text[:position] + char + text[position + 1 :],
        st.just("86,28,13,31,96"),
        st.integers(0, 13),
        st.sampled_from(list("0123456789,.-x {}")),
    ),
)


@SETTINGS
@given(st.lists(st.one_of(st.binary(max_size=60), countdown_line.map(str.encode)), min_size=1, max_size=5))
def test_any_countdown_input_answers_exactly_the_good_lines(tiny_countdown_weights, chunks):
    assert_answers_exactly_the_good_lines(Countdown(), tiny_countdown_weights, b"\n".join(chunks) + b"\n")
