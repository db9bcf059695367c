"""The shell contract on a real terminal: under a pseudo-terminal, as a person runs it, stdout
holds exactly the answers while progress and messages go to stderr."""

import json
import os
import pty
import re
import select
import subprocess
import sys

import pytest
from conftest import ROOT, benchmark_lines

SUDOKU = benchmark_lines("easy50.txt", 3)
COUNTDOWN = ["86,28,13,31,96", "1,1,1,50", "60,16,34,87,97"]


def run_on_terminal(args: list[str], stdout_on_terminal: bool, colour: bool = True) -> tuple[str, str, int]:
    """Run `python -m rmdm_cli ARGS` with stderr on a pseudo-terminal and stdout on another one
    or on a pipe, as `rmdm ... > file` and plain `rmdm ...` run in a shell."""
    err_master, err_slave = pty.openpty()
    out_master, out_slave = pty.openpty() if stdout_on_terminal else (None, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "rmdm_cli", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=out_slave if stdout_on_terminal else subprocess.PIPE,
        stderr=err_slave,
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "100", "TERM": "xterm-256color"}
        | ({} if colour else {"NO_COLOR": "1"}),
    )
    os.close(err_slave)
    if out_slave is not None:
        os.close(out_slave)
    streams = {err_master: b"", (out_master if stdout_on_terminal else process.stdout.fileno()): b""}
    while streams:
        readable, _, _ = select.select(list(streams), [], [], 60)
        assert readable, "no output for a minute"
        for fd in readable:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the terminal's other end closed
                chunk = b""
            if not chunk:
                received = streams.pop(fd)
                if fd == err_master:
                    err = received
                else:
                    out = received
            else:
                streams[fd] += chunk
    process.wait(timeout=60)
    os.close(err_master)
    if out_master is not None:
        os.close(out_master)
    return out.decode().replace("\r\n", "\n"), err.decode(), process.returncode


def answers_only(task: str, output_format: str, stdout: str, count: int, unsolved=()) -> None:
    """`count` lines: an answer each, but an empty line for the line numbers `unsolved` (jsonl:
    an object each)."""
    lines = stdout.splitlines()
    assert len(lines) == count and stdout.endswith("\n")
    for line_no, line in enumerate(lines, 1):
        if output_format == "jsonl":
            assert json.loads(line)["line"] == line_no
        elif line_no in unsolved:
            assert line == ""
        elif task == "sudoku":
            assert len(line) == 81 and line.isdigit()
        else:
            assert "=" in line and "\x1b" not in line


@pytest.mark.parametrize("task", ["sudoku", "countdown"])
@pytest.mark.parametrize("output_format", ["text", "jsonl"])
def test_answers_reach_a_redirected_stdout_while_stderr_is_a_terminal(
    task, output_format, tmp_path, tiny_weights, tiny_countdown_weights
):
    puzzles = tmp_path / "puzzles.txt"
    puzzles.write_text("\n".join(SUDOKU if task == "sudoku" else COUNTDOWN) + "\n")
    weights = tiny_weights if task == "sudoku" else tiny_countdown_weights
    out, err, code = run_on_terminal(
        ["solve", task, str(puzzles), "--weights", str(weights), "--no-search", "--format", output_format],
        stdout_on_terminal=False,
    )
    answers_only(task, output_format, out, 3, unsolved={1, 2, 3})
    assert code == 1  # random weights solve nothing
    assert "line 3: not solved: " in err and "3 puzzles: 0 solved, 3 not solved, 0 bad lines" in err


@pytest.mark.parametrize("task", ["sudoku", "countdown"])
def test_both_ends_on_terminals_keep_answers_and_progress_apart(task, tmp_path, tiny_weights, tiny_countdown_weights):
    puzzles = tmp_path / "puzzles.txt"
    puzzles.write_text("\n".join(SUDOKU if task == "sudoku" else COUNTDOWN) + "\n")
    weights = tiny_weights if task == "sudoku" else tiny_countdown_weights
    out, err, _ = run_on_terminal(["solve", task, str(puzzles), "--weights", str(weights)], stdout_on_terminal=True)
    answers_only(task, "text", out, 3, unsolved={2} if task == "countdown" else ())  # 1,1,1,50 has no solution
    assert "solving" in err and "3/3" in err  # the progress line was drawn, on stderr
    first = (SUDOKU if task == "sudoku" else COUNTDOWN)[0]
    one, err, _ = run_on_terminal(
        ["solve", task, first, "--weights", str(weights), "--no-search"], stdout_on_terminal=True
    )
    answers_only(task, "text", one, 1, unsolved={1})
    assert (
        "not solved · " in err and "\x1b[31mred breaks a rule" in err
    )  # the sampler's last frame, its legend in colour
    one, err, _ = run_on_terminal(["solve", task, first, "--weights", str(weights)], stdout_on_terminal=True)
    answers_only(task, "text", one, 1)
    seen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err)  # the screen's text without its styles
    assert "solved · " in seen and "backtracks" in seen and "red breaks a rule" in seen  # the search's view
    answer = one.strip()
    if task == "sudoku":  # the view ends on the answer: its first row drawn
        assert " ".join(answer[:3]) + " | " + " ".join(answer[3:6]) in seen
    else:  # every equation of it
        assert all(
            f"{a} {op} {b} = {c}" in re.sub(" +", " ", seen)
            for a, op, b, c in re.findall(r"(\d+)([-+*/])(\d+)=(\d+)", answer)
        )


def test_without_colour_a_given_is_told_from_the_models_digits(tiny_weights):
    _, err, _ = run_on_terminal(
        ["solve", "sudoku", SUDOKU[0], "--weights", str(tiny_weights)], stdout_on_terminal=True, colour=False
    )
    assert "\x1b[3" not in err and "[5] given" in err  # no colour, marks instead
    first_row = SUDOKU[0][:9]
    marks = [f"[{digit}]" if digit != "0" else "" for digit in first_row]
    assert all(mark in err for mark in marks if mark)


def test_the_live_view_draws_a_six_number_game_to_its_answer(tiny_game_weights):
    args = ["solve", "countdown", "--numbers", "25", "50", "75", "100", "3", "6", "--target", "952"]
    out, err, code = run_on_terminal([*args, "--weights", str(tiny_game_weights)], stdout_on_terminal=True)
    assert code == 0
    seen = re.sub(" +", " ", re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", err))
    assert "numbers 25 50 75 100 3 6 target 952" in seen and "answer 952" in seen
    assert all(f"{a} {op} {b} = {c}" in seen for a, op, b, c in re.findall(r"(\d+)([-+*/])(\d+)=(\d+)", out))
