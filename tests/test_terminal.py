"""The shell contract on a real terminal: under a pseudo-terminal, as a person runs it, stdout
holds exactly the answers while progress and messages go to stderr."""

import json
import os
import pty
import select
import subprocess
import sys

import pytest
from conftest import ROOT, benchmark_lines

SUDOKU = benchmark_lines("easy50.txt", 3)
COUNTDOWN = ["86,28,13,31,96", "1,1,1,50", "60,16,34,87,97"]


def run_on_terminal(args: list[str], stdout_on_terminal: bool) -> tuple[str, str, int]:
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
        env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "100", "TERM": "xterm-256color"},
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
    assert "step " in err and "red breaks a rule" in err  # the sampler's live view and its legend, on stderr
    one, err, _ = run_on_terminal(["solve", task, first, "--weights", str(weights)], stdout_on_terminal=True)
    answers_only(task, "text", one, 1)
    assert "solved" in err and "backtracks" in err and "red breaks a rule" in err  # the search's view
