import random

import numpy as np
import pytest
import torch
from conftest import benchmark_lines

from rmdm_cli.tasks import PuzzleError
from rmdm_cli.tasks.sudoku import (
    Sudoku,
    augment,
    format_grid,
    is_solution,
    make_puzzle,
    parse_grid,
    random_grid,
    solve_exact,
    training_puzzles,
)

EASY = "003020600900305001001806400008102900700000008006708200002609500800203009005010300"


def test_parse_format_round_trip():
    grid = parse_grid(EASY)
    assert format_grid(grid, blank="0") == EASY
    assert parse_grid(format_grid(grid)) == grid  # '.' blanks parse the same as '0'


@pytest.mark.parametrize(
    "text, reason",
    [
        (EASY[:-1], "expected 81 cells, got 80"),
        (EASY + "1", "expected 81 cells, got 82"),
        (EASY[:5] + "x" + EASY[6:], "unexpected character 'x'"),
        ("11" + EASY[2:], "digit 1 appears twice in row 1"),
        ("3" + EASY[1:], "digit 3 appears twice in row 1"),
        (EASY[:9] + "9" + EASY[10:18] + "9" + EASY[19:], "digit 9 appears twice in column 1"),
        (EASY[:19] + "3" + EASY[20:], "digit 3 appears twice in box 1"),
    ],
)
def test_bad_lines_say_why(text, reason):
    with pytest.raises(PuzzleError, match=reason):
        parse_grid(text)


def test_csv_records_pick_the_puzzle_column():
    task = Sudoku()
    kaggle = [(1, "quizzes,solutions"), (2, f"{EASY},{'1' * 81}")]
    assert list(task.records(kaggle)) == [(2, EASY)]
    extreme = [(1, "source,q,a,rating"), (2, f"src,{EASY},{'1' * 81},3")]
    assert list(task.records(extreme)) == [(2, EASY)]
    assert list(task.records([(1, EASY)])) == [(1, EASY)]


def test_checker_accepts_only_correct_complete_grids():
    puzzle = parse_grid(EASY)
    (solution,) = solve_exact(puzzle)
    assert is_solution(puzzle, solution)
    swapped = list(solution)
    free = [cell for cell in range(81) if not puzzle[cell]]
    a, b = free[0], next(c for c in free if solution[c] != solution[free[0]] and c // 9 == free[0] // 9)
    swapped[a], swapped[b] = swapped[b], swapped[a]
    assert not is_solution(puzzle, swapped)  # column rule broken
    changed_given = list(solution)
    given = next(cell for cell in range(81) if puzzle[cell])
    changed_given[given] = changed_given[given] % 9 + 1
    assert not is_solution(puzzle, changed_given)
    assert not is_solution(puzzle, solution[:80])
    assert not Sudoku().check(puzzle, "0" * 81)


@pytest.mark.parametrize("name", ["easy50.txt", "top95.txt", "hardest.txt", "17clue-1000.txt"])
def test_exact_solver_on_benchmark_puzzles(name):
    for line in benchmark_lines(name, 3):
        puzzle = parse_grid(line)
        solutions = solve_exact(puzzle, limit=2)
        assert len(solutions) == 1 and is_solution(puzzle, solutions[0])


def test_generator_makes_unique_puzzles_in_the_clue_range():
    rng = random.Random(0)
    for _ in range(5):
        puzzle, solution = make_puzzle(rng, 30, 36)
        assert 30 <= sum(1 for d in puzzle if d) <= 36
        assert solve_exact(puzzle, limit=2) == [solution]
    grids = {random_grid(rng) for _ in range(20)}
    assert len(grids) == 20 and all(is_solution([0] * 81, grid) for grid in grids)


def test_generate_is_seeded():
    task = Sudoku()
    assert list(task.generate(3, seed=1)) == list(task.generate(3, seed=1))
    assert list(task.generate(3, seed=1)) != list(task.generate(3, seed=2))


def test_augmentation_keeps_grids_valid_and_varies_them():
    rng = random.Random(0)
    puzzle, solution = make_puzzle(rng, 30, 30)
    examples = torch.tensor([(solution, puzzle)] * 16).view(16, 2, 9, 9)
    out = augment(examples, torch.Generator().manual_seed(0)).reshape(16, 2, 81).tolist()
    assert all(is_solution(given, grid) for grid, given in out)  # the givens move with their solution
    assert len({tuple(grid) for grid, _ in out}) == 16


def test_training_batch_is_complete_grids():
    task = Sudoku()
    targets, maskable = task.training_data(task.DataOptions(pool_size=4), seed=0).batch(
        8, torch.Generator().manual_seed(0)
    )
    assert targets.shape == maskable.shape == (8, 81) and maskable.all()
    assert all(is_solution([0] * 81, grid) for grid in targets.tolist())


def test_training_batch_mixes_in_minimal_puzzles_with_only_their_blanks_maskable():
    task = Sudoku()
    data = task.training_data(task.DataOptions(pool_size=4, puzzle_pool=3, puzzle_share=0.25), seed=0)
    targets, maskable = data.batch(8, torch.Generator().manual_seed(0))
    assert maskable[:6].all() and not maskable[6:].all(1).any()  # 2 of 8 rows are puzzles
    for grid, open_cells in zip(targets[6:].tolist(), maskable[6:].tolist()):
        puzzle = [0 if is_open else digit for digit, is_open in zip(grid, open_cells)]
        assert 17 <= 81 - sum(open_cells) <= 35 and solve_exact(puzzle, limit=2) == [tuple(grid)]  # unique
        assert all(
            len(solve_exact(puzzle[:cell] + [0] + puzzle[cell + 1 :], limit=2)) == 2
            for cell in range(81)
            if puzzle[cell]
        )  # minimal
    assert "25% of every batch from 3 generated minimal puzzles" in data.recipe
    again = task.training_data(task.DataOptions(pool_size=4, puzzle_pool=3, puzzle_share=0.25), seed=0)
    again.prepare()
    assert torch.equal(again.puzzles, data.puzzles)  # the same pool, made once (the study's cells share it)
    assert training_puzzles.cache_info().hits >= 1


def test_dead_end_flags_only_grids_that_cannot_be_completed():
    puzzle = parse_grid(EASY)
    (solution,) = solve_exact(puzzle)
    repeated = list(puzzle)
    repeated[0] = 3  # EASY has a 3 in cell 2 of the same row
    stuck = list(solution)
    stuck[0], stuck[1] = 0, 0  # two blanks ...
    stuck[1] = solution[0]  # ... one filled with the other's digit: cell 0 has no digit left
    grids = np.array([puzzle, solution, repeated, stuck])
    assert Sudoku().dead_end(grids).tolist() == [False, False, True, True]
    assert solve_exact(repeated) == [] and solve_exact(stuck) == []


def test_dead_end_is_never_wrong_on_random_fillings():
    rng = random.Random(0)
    puzzle = parse_grid(EASY)
    (solution,) = solve_exact(puzzle)
    grids = []
    for _ in range(300):  # the solution with some cells blanked and a few set to random digits
        grid = [0 if rng.random() < 0.5 else digit for digit in solution]
        for cell in rng.sample(range(81), rng.randint(0, 2)):
            grid[cell] = rng.randint(1, 9)
        grids.append(grid)
    flags = Sudoku().dead_end(np.array(grids)).tolist()
    assert any(flags) and not all(flags)
    for grid, flag in zip(grids, flags):
        if flag:
            assert solve_exact(grid) == []
        if all(digit in (0, right) for digit, right in zip(grid, solution)):
            assert not flag  # part of the solution
