"""Pipelines end the way a shell user expects: a closed pipe is quiet and ends with the status
`cat` would (141 in a shell), Ctrl-C keeps what was done."""

import signal
import subprocess
import sys

from conftest import benchmark_lines

PUZZLES = benchmark_lines("easy50.txt", 50)


def start_solve(tiny_weights, tmp_path, lines: int) -> subprocess.Popen:
    source = tmp_path / "many.txt"
    source.write_text("\n".join(PUZZLES[i % len(PUZZLES)] for i in range(lines)) + "\n")
    command = [
        sys.executable,
        "-m",
        "rmdm_cli",
        "solve",
        "sudoku",
        str(source),
        "--weights",
        str(tiny_weights),
    ]  # the search: even random weights answer every easy puzzle
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"OMP_NUM_THREADS": "1", "PATH": ""}
    )


def test_closed_pipe_ends_quietly(tiny_weights, tmp_path):
    process = start_solve(tiny_weights, tmp_path, 2000)  # like `rmdm solve sudoku big.txt | head -3`
    first = [process.stdout.readline() for _ in range(3)]
    process.stdout.close()
    process.wait(timeout=60)
    assert all(len(line.strip()) == 81 for line in first)
    assert process.stderr.read() == ""  # no traceback, no summary
    assert process.returncode == -signal.SIGPIPE  # the shell's 141, as for `cat big | head -3`


def test_ctrl_c_keeps_finished_answers_and_exits_130(tiny_weights, tmp_path):
    process = start_solve(tiny_weights, tmp_path, 100_000)
    first = process.stdout.readline()  # the first batch is out: interrupt mid-stream
    process.send_signal(signal.SIGINT)
    rest, errors = process.stdout.read(), process.stderr.read()  # not communicate(): it skips readline's buffer
    process.wait(timeout=60)
    answers = [first, *rest.splitlines()]
    assert process.returncode == 130
    assert 1 <= len(answers) < 100_000 and all(len(line.strip()) == 81 for line in answers)
    assert "Traceback" not in errors and errors.strip().splitlines()[-1] == f"interrupted after {len(answers)} puzzles"
