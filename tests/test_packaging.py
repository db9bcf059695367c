"""An installed rmdm (a wheel, `pip install .`, pipx) carries and finds its weights."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, benchmark_lines


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built from a copy of the checkout (an in-tree build would leave build/ in it)."""
    source, out = tmp_path_factory.mktemp("source") / "rmdm", tmp_path_factory.mktemp("wheel")
    skip = shutil.ignore_patterns(".git", "runs", "build", "*.egg-info", "__pycache__", "study", "experiments")
    shutil.copytree(ROOT, source, ignore=skip)
    build = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        str(source),
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
    ]
    subprocess.run(build, check=True, cwd=out)
    (path,) = out.glob("rmdm-*.whl")
    return path


def test_the_wheel_holds_the_code_and_the_shipped_weights_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    weights = sorted(name for name in names if name.endswith(".safetensors"))
    assert weights == [
        "rmdm_cli/weights/countdown-game.safetensors",
        "rmdm_cli/weights/countdown.safetensors",
        "rmdm_cli/weights/sudoku.safetensors",
    ]  # no study cells
    assert "rmdm_cli/data/countdown_benchmark_targets.txt" in names
    code = {path.relative_to(ROOT).as_posix() for path in (ROOT / "rmdm_cli").rglob("*.py")}
    assert code <= set(names)  # every module, in every subpackage
    assert all(name.startswith(("rmdm_cli/", "rmdm-")) for name in names)
    assert wheel.stat().st_size < 4_000_000


def test_an_installed_wheel_solves_with_its_own_weights(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True
    )
    away = tmp_path / "elsewhere"
    away.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "RMDM_WEIGHTS_DIR"}
    env["PYTHONPATH"] = str(target)  # ahead of the editable checkout on sys.path
    puzzle = benchmark_lines("easy50.txt", 1)[0]
    code = "import rmdm_cli, sys; print(rmdm_cli.__file__, file=sys.stderr); from rmdm_cli.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "solve", "sudoku", puzzle], cwd=away, env=env, capture_output=True, text=True
    )
    assert str(target) in result.stderr.splitlines()[0]  # the installed copy ran, not the checkout
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip()) == 81
    version = subprocess.run(
        [sys.executable, "-c", "from rmdm_cli.cli import main; main()", "--version"],
        cwd=away,
        env=env,
        capture_output=True,
        text=True,
    )
    assert f"weights: {target / 'rmdm_cli' / 'weights'}" in version.stdout
