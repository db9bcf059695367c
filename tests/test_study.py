import math
import re
from dataclasses import replace

from rmdm_cli import study


def test_matching_parameters_interpolates_in_log_parameters():
    curve = [(100, 10.0), (1000, 50.0)]
    assert math.isclose(study.matching_parameters(curve, 30.0), math.sqrt(100 * 1000))
    assert study.matching_parameters(curve, 5.0) == 100  # the smallest model already matches
    assert study.matching_parameters(curve, 60.0) is None  # not reached on the measured curve


def test_study_trains_missing_cells_once_and_reports_every_claim(tmp_path, monkeypatch):
    original = study.cell_config
    monkeypatch.setattr(
        study, "cell_config", lambda *args: replace(original(*args), data={"pool_size": 8})
    )  # fast data
    monkeypatch.chdir(tmp_path)  # training states go to runs/study/ here
    cells = study.grid("sudoku", [8, 16], [1, 2], [0])
    said = []
    study.train_cells(cells, tmp_path / "weights", 2, 2, 1, said.append)
    assert sorted(p.stem for p in (tmp_path / "weights").iterdir()) == sorted(cell.name for cell in cells)
    said.clear()
    study.train_cells(cells, tmp_path / "weights", 2, 2, 1, said.append)
    assert said == []  # everything trained: a rerun has nothing to do
    rows = study.measure_cells(tmp_path / "weights", "sudoku", 2, lambda _: None)
    assert len(rows) == 4 * 2 * (4 + 1)  # cells x sets (minimal, 17-clue) x (four step counts at L, then 2L)
    assert {row["set"] for row in rows} == {"minimal", "17-clue"} and all(row["puzzles"] == 2 for row in rows)
    assert {row["depth"] for row in rows if row["trained_depth"] == 2} == {2, 4}
    assert all(row["mean_forward_passes"] <= row["steps"] * row["depth"] for row in rows)
    assert (
        study.measure_cells(tmp_path / "weights", "sudoku", 2, lambda _: None) == rows
    )  # nothing timed: a rerun rewrites no row
    monkeypatch.setattr("rmdm_cli.solving.measure", lambda *args, **kwargs: 1 / 0)
    assert study.measure_cells(tmp_path / "weights", "sudoku", 2, lambda _: None, rows) == rows  # measured once
    text = study.write_report({"sudoku": rows}, tmp_path / "docs", "rmdm study report", 2).read_text()
    assert "### Claim 1" in text and "### Claim 2" in text and "### Extrapolation" in text
    assert "| 16 |" in text and "L = 2" in text and "## sudoku, minimal" in text and "## sudoku, 17-clue" in text
    assert "Every cell saw 4 training examples" in text  # 2 steps of 2
    assert (tmp_path / "docs" / "study-sudoku-17-clue.png").exists() or "need matplotlib" in text


def test_variant_cells_answer_claims_3a_and_3c(tmp_path, monkeypatch):
    from rmdm_cli import train as training

    original = study.cell_config
    monkeypatch.setattr(study, "cell_config", lambda *args: replace(original(*args), data={"pool_size": 8}))
    monkeypatch.chdir(tmp_path)
    depths_run = []
    real_loss = training.supervised_loss
    monkeypatch.setattr(
        training, "supervised_loss", lambda model, *args: depths_run.append(args[3]) or real_loss(model, *args)
    )
    cells = study.grid("sudoku", [8], [1, 2], [0]) + study.grid("sudoku", [8], [2], [0], ("no-reinject",))
    study.train_cells(cells, tmp_path / "weights", 3, 2, 1, lambda _: None)
    assert set(depths_run) == {1, 2}  # each cell at its own depth
    depths_run.clear()
    study.train_cells(
        study.grid("sudoku", [8], [2], [0], ("random-depth",)), tmp_path / "weights", 12, 2, 1, lambda _: None
    )
    assert set(depths_run) == {1, 2}  # drawn per step
    rows = study.measure_cells(tmp_path / "weights", "sudoku", 2, lambda _: None)
    assert {row["variant"] for row in rows} == {"base", "no-reinject", "random-depth"}
    mixed = [row for row in rows if row["variant"] == "random-depth" and row["set"] == "minimal"]
    assert {(row["depth"], row["steps"]) for row in mixed} == {
        (depth, row["steps"]) for depth in (1, 2, 4) for row in mixed
    }  # up to 2L, at every step count: claim 2's map
    assert len({row["steps"] for row in mixed}) == 4
    text = study.write_report({"sudoku": rows}, tmp_path / "docs", "rmdm study report", 2).read_text()
    assert "### Claim 3a" in text and "| 8 | 2 |" in text and "### Claim 3c" in text
    assert "### Claim 2 as a map: one model (width 8, trained at random depths 1 to 2)" in text
    assert "| 4 | " in text.split("### Claim 2 as a map")[1]  # run deeper than trained
    assert re.search(r"\| 1 \| \d+\.\d% \(\d+–\d+; \d+", text.split("### Claim 2 as a map")[1])  # with its interval
    # Variants stay out of the main grid and claims 1 and 2.
    assert {row["cell"] for row in study.summarise(rows).cells.values()} == {"sudoku-w8-L1-s0", "sudoku-w8-L2-s0"}


def test_claim_2_uses_the_widest_width_trained_at_several_depths():
    def row(width, depth):
        return {
            "variant": "base",
            "width": width,
            "trained_depth": depth,
            "depth": depth,
            "steps": 10,
            "solved_pct": 50.0,
            "parameters": width * width,
            "mean_forward_passes": 10.0 * depth,
            "train_cpu_minutes": 1.0,
        }

    summary = study.summarise(
        [row(16, 1), row(16, 2), row(16, 4), row(32, 1), row(32, 2), row(32, 4), row(64, 1), row(64, 2), row(128, 1)]
    )
    assert summary.widest == 64  # not 128 (one depth only), nor 16 or 32 (more depths, narrower)
    assert sorted(summary.family) == [(1, 10), (2, 10)]


def measured(width, trained_depth, solved, seed=0, **fields):
    """A report row of a cell, run at its trained depth unless `fields` say otherwise."""
    return {
        "variant": "base",
        "width": width,
        "trained_depth": trained_depth,
        "depth": trained_depth,
        "steps": 10,
        "seed": seed,
        "examples": 64,
        "solved_pct": solved,
        "parameters": width * width,
        "train_flops": width * width * trained_depth,
        "mean_forward_passes": 10.0 * trained_depth,
        "train_cpu_minutes": 1.0,
        **fields,
    }


def test_claims_show_the_seeds_range_and_a_verdict():
    row = measured
    rows = [
        row(10, 1, 0.0),
        row(20, 1, 50.0),
        row(40, 1, 100.0),
        row(10, 2, 0.0),
        row(10, 2, 50.0, seed=1),
        row(20, 2, 50.0),
        row(20, 2, 50.0, seed=1),
    ]
    lines = study.report_task("sudoku", rows)
    # mean 25% lies halfway between 100 and 400 parameters in log space: 200, twice the cell's 100
    # at equal training compute (L x parameters here) L = 1 needs as much (25%) or half as much (50%)
    assert "| 2 | 10 | 25.0 | 2.00× [– to 4.00×] | holds | 1.00× |" in lines
    assert (
        "| 2 | 20 | 50.0 | 1.00× | does not hold: L = 1 matches it with no more parameters | 0.50× |" in lines
    )  # seeds that agree: no range
    assert any(
        line.startswith("Claim 2 does not hold here") for line in lines
    )  # L = 2 spends twice the passes for the same 50%


def test_a_grid_without_l1_cells_reports_claim_1_undecided():
    lines = study.report_task("sudoku", [measured(16, 2, 40.0)])  # a grid still training: its L = 1 cells come later
    assert "| 2 | 16 | 40.0 | – | undecided: no L = 1 cell yet | – |" in lines


def test_a_report_of_the_maps_model_alone_gives_its_map(tmp_path):
    rows = [
        measured(16, 2, 30.0, variant="random-depth", depth=depth, steps=steps, puzzles=10, set="minimal")
        for depth in (1, 2, 4)
        for steps in (5, 10)
    ]  # measured before any cell of the grid
    text = study.write_report({"sudoku": rows}, tmp_path, "rmdm study report", 10).read_text()
    assert "### Claim 2 as a map: one model (width 16, trained at random depths 1 to 2)" in text
    assert "### Claim 1" not in text


def test_the_frontier_keeps_each_cell_that_beats_every_cheaper_one():
    rows = [
        measured(8, 1, 0.0, train_flops=0.5e12),  # solves nothing: no shape to train
        measured(10, 1, 20.0, train_flops=1e12),
        measured(10, 2, 40.0, train_flops=2e12),
        measured(20, 1, 30.0, train_flops=4e12),  # costs more than L = 2 and solves less: off the frontier
        measured(20, 2, 60.0, train_flops=8e12),
    ]
    lines = study.frontier_section("sudoku, minimal", study.summarise(rows))
    kept = [line.split(" | ")[2:4] for line in lines if line.startswith("| ") and "TFLOP" in line]
    assert kept == [["10", "1"], ["10", "2"], ["20", "2"]]
    assert "2 of the 3 cells on the frontier are recursive (L > 1)." in lines
    nothing = study.frontier_section("countdown, 4 numbers", study.summarise([measured(8, 1, 0.0)]))
    assert nothing[-1] == "No cell solves a puzzle of this set."


def test_claim_2_is_undecided_where_no_depth_reaches_the_lowest_level():
    lines = study.report_task("countdown", [measured(16, 1, 2.0), measured(16, 2, 5.0)])
    assert "Claim 2 is undecided here: no depth reaches 10%." in lines
