"""The scaling study: recursion depth versus parameters versus denoising steps.

A grid of cells (width x trained recursion depth L x seed) is trained with the same recipe,
the same number of training examples and seeds 0, 1, ... per cell; every cell is then solved
on one held-out generated set at several step counts, at its trained depth and beyond it
(extrapolation). `write_report` turns the measurements into docs/study.md and figures.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository: study_eval_sets' files are relative to it

EVAL_SEED = 2  # generator seed of the held-out evaluation set (training never draws from it)
LEVELS = (10, 25, 50, 75, 90)  # solved % levels at which claim 2 compares forward passes
# Cell variants beyond the paper: the TrainConfig fields each one changes.
VARIANTS = {
    "base": {},
    "no-reinject": {"reinject": False},  # claim 3a: the input embedding enters once, not every iteration
    "random-depth": {"random_depth": True},  # claim 3c: one model, each step at a depth drawn from 1..L
}


@dataclass(frozen=True)
class Cell:
    task: str
    width: int  # hidden size; parameters grow about as width squared
    depth: int  # recursion depth L at training time
    seed: int  # data, batch and initialisation seed
    variant: str = "base"  # a key of VARIANTS

    @property
    def name(self) -> str:
        suffix = "" if self.variant == "base" else f"-{self.variant}"
        return f"{self.task}-w{self.width}-L{self.depth}-s{self.seed}{suffix}"


def cell_config(cell: Cell, train_steps: int, batch_size: int, threads: int):
    """Every cell: the task's recipe, loss on every iteration, equal examples seen."""
    from rmdm_cli.tasks import get_task_class
    from rmdm_cli.train import TrainConfig

    return TrainConfig(
        width=cell.width,
        heads=4,
        n_layers=2,
        depth=cell.depth,
        grad_iterations=cell.depth,
        batch_size=batch_size,
        train_steps=train_steps,
        warmup_steps=max(1, train_steps // 10),
        seed=cell.seed,
        threads=threads,
        **{**get_task_class(cell.task).train_defaults, **get_task_class(cell.task).study_recipe},
        **VARIANTS[cell.variant],
    )


def train_cells(
    cells: list[Cell], directory: Path, train_steps: int, batch_size: int, threads: int, say: Callable[[str], None]
) -> None:
    """Train each cell not yet in `directory` (an interrupted cell resumes from runs/study/)."""
    from rmdm_cli.checkpoint import save_weights
    from rmdm_cli.tasks import get_task
    from rmdm_cli.train import train

    for cell in cells:
        out = directory / f"{cell.name}.safetensors"
        if out.exists():
            continue
        task = get_task(cell.task)
        config = cell_config(cell, train_steps, batch_size, threads)
        say(f"training {cell.name}")
        model, metadata = train(task, config, Path("runs/study") / f"{cell.name}.state.pt", keep_examples=True)
        metadata["parameters"] = model.parameter_count()
        save_weights(out, model, cell.task, metadata, {"depth": cell.depth, "steps": task.seq_len})
        say(f"wrote {out} ({metadata['parameters']:,} parameters, {metadata['train_seconds'] / 60:.1f} min)")


def eval_sets(task, count: int) -> dict[str, list]:
    """The task's held-out sets, `count` puzzles each: generated with EVAL_SEED, or the first
    `count` of a file of the project's evaluation data."""
    from rich.console import Console

    from rmdm_cli.inputs import read_puzzle_file

    sets = {}
    for name, recipe in task.study_eval_sets.items():
        if "file" in recipe:
            sets[name] = read_puzzle_file(task, ROOT / recipe["file"], count, Console(stderr=True))
        else:
            options = task.GenerateOptions(**recipe)
            sets[name] = [task.parse(text) for text in task.generate(count, EVAL_SEED, options)]
    return sets


def measure_cells(
    directory: Path, task_name: str, count: int, say: Callable[[str], None], known: list[dict] = ()
) -> list[dict]:
    """One row per (cell, held-out set, inference depth, steps): solved % and forward passes.
    A cell whose rows are in `known` (an earlier report's), for the same weights file and
    count, keeps them: the grid grows cell by cell and each cell is measured once."""
    import hashlib

    from rmdm_cli.checkpoint import load_weights
    from rmdm_cli.settings import SamplerSettings
    from rmdm_cli.solving import measure
    from rmdm_cli.tasks import get_task

    paths = sorted(directory.glob(f"{task_name}-w*-L*-s*.safetensors"))
    task, sets, rows = get_task(task_name), None, []
    earlier: dict[tuple, list[dict]] = {}
    for row in known:
        earlier.setdefault((row["cell"], row.get("weights"), row.get("count")), []).append(row)
    for path in paths:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        if kept := earlier.get((path.stem, digest, count)):
            rows += kept
            continue
        sets = sets or eval_sets(task, count)
        model, header = load_weights(path, task_name)
        training = header["training"]
        trained_depth = header["config"]["depth"]
        variant = next(
            (
                name
                for name, fields in VARIANTS.items()
                if fields and all(training["train_config"].get(k) == v for k, v in fields.items())
            ),
            "base",
        )
        # every iteration supervised; a backward pass costs twice the forward
        train_flops = 3 * model.config.forward_flops(trained_depth, trained_depth) * training["examples"]
        for set_name, puzzles in sets.items():
            full_steps = max(task.encode(puzzle).count(task.mask_token) for puzzle in puzzles)  # a token a step
            steps_list = [full_steps // 8, full_steps // 4, full_steps // 2, full_steps]
            if variant == "random-depth":  # one model at every depth up to 2L and every step count: claim 2's map
                settings = [
                    (depth, steps) for depth in (1, 2, 4, 8, 16) if depth <= 2 * trained_depth for steps in steps_list
                ]
            else:  # every step count at the trained depth; extrapolation (2L, not 4L: docs/scaling-study.md)
                settings = [(trained_depth, steps) for steps in steps_list] + [(2 * trained_depth, full_steps)]
            for depth, steps in settings:
                # puzzles/s is left out: it depends on the machine and its load, so every rerun would rewrite every row
                measured = measure(model, task, puzzles, SamplerSettings(depth, steps))
                rows.append(
                    {
                        "cell": path.stem,
                        "weights": digest,
                        "count": count,
                        "set": set_name,
                        "variant": variant,
                        "width": header["config"]["width"],
                        "trained_depth": trained_depth,
                        "seed": training["train_config"]["seed"],
                        "parameters": training["parameters"],
                        "examples": training["examples"],
                        "train_flops": train_flops,
                        "train_cpu_minutes": round(training["train_seconds"] * training["threads"] / 60, 1),
                        "depth": depth,
                        "steps": steps,
                        "puzzles": len(puzzles),
                        "solved_pct": measured["solved_pct"],
                        "mean_forward_passes": measured["mean_forward_passes"],
                    }
                )
        say(f"measured {path.stem}")
    return rows


def wilson(solved: float, count: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval (Wilson score) of a solved share, in %, from `solved` of `count` puzzles."""
    if not count:
        return 0.0, 100.0
    share = solved / count
    centre = (share + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(share * (1 - share) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def mean_by(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict]:
    """Average solved % over seeds; keep the seeds' range for the spread and a 95% interval
    over the puzzles of every seed together."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault(tuple(row[key] for key in keys), []).append(row)
    merged = {}
    for key, members in groups.items():
        puzzles = sum(m.get("puzzles", 0) for m in members)
        solved = sum(m["solved_pct"] * m.get("puzzles", 0) / 100 for m in members)
        merged[key] = {
            **members[0],
            "solved_pct": sum(m["solved_pct"] for m in members) / len(members),
            "train_cpu_minutes": round(sum(m["train_cpu_minutes"] for m in members) / len(members), 1),
            "low": min(m["solved_pct"] for m in members),
            "high": max(m["solved_pct"] for m in members),
            "seeds": len(members),
            "interval": wilson(solved, puzzles) if puzzles else None,
        }
    return merged


def matching_parameters(curve: list[tuple[int, float]], solved: float) -> float | None:
    """Parameters at which the non-recursive curve (params, solved %) first reaches `solved`,
    interpolated linearly in log-parameters; None when it never does."""
    for (p0, s0), (p1, s1) in zip(curve, curve[1:]):
        if s0 >= solved:
            return p0
        if s1 >= solved:
            return math.exp(math.log(p0) + (solved - s0) / (s1 - s0) * (math.log(p1) - math.log(p0)))
    return curve[-1][0] if curve and curve[-1][1] >= solved else None


def parameter_ratio(curve: list[tuple[int, float]], solved: float, parameters: int) -> str:
    """How many times `parameters` the non-recursive curve needs to reach `solved` ("–" for 0%:
    the smallest cell already "matches" it)."""
    if solved == 0:
        return "–"
    match = matching_parameters(curve, solved)
    return "not reached" if match is None else f"{match / parameters:.2f}×"


def claim_1_verdict(curve: list[tuple[int, float]], solved: float, parameters: int, depth: int) -> str:
    match = matching_parameters(curve, solved)
    if match is None:  # only as far as the widest L = 1 cell goes
        widest = curve[-1][0] / parameters
        return (
            f"{'holds' if widest >= depth else 'holds as far as measured'}: no L "
            f"= 1 cell matches it (the widest has {widest:.1f}× its parameters)"
        )
    if match >= depth * parameters:
        return "holds"
    return (
        "partly: more parameters, but fewer than L×"
        if match > parameters
        else "does not hold: L = 1 matches it with no more parameters"
    )


def claim_2_verdict(summary: Summary, depths: list[int]) -> str:
    """Where a recursive depth reaches a solved % level in fewer forward passes than L = 1."""
    wins = []
    for level in LEVELS:
        plain = summary.passes_to_reach(1, level)
        for depth in depths[1:]:
            spent = summary.passes_to_reach(depth, level)
            if spent is not None and (plain is None or spent < plain):
                wins.append(
                    f"{level}% (L = {depth} in {spent:g} passes, L = 1 "
                    + ("never" if plain is None else f"in {plain:g}")
                    + ")"
                )
    if not wins:
        if all(summary.passes_to_reach(depth, LEVELS[0]) is None for depth in depths):
            return f"Claim 2 is undecided here: no depth reaches {LEVELS[0]}%."
        return (
            "Claim 2 does not hold here: no recursive depth reaches "
            "any of these levels in fewer forward passes than L = 1."
        )
    return (
        "Claim 2 holds where a recursive depth reaches a level in fewer forward passes than L = 1: "
        + "; ".join(wins)
        + "."
    )


@dataclass
class Summary:
    """The seed-averaged views of one task's measurements that the tables and figures share."""

    full_steps: int  # the largest step count measured (one token per step)
    cells: dict[tuple[int, int], dict]  # (width, L) -> row at full steps and the trained depth
    widest: int  # the widest width trained at several depths: the one whose depth families claim 2 compares
    family: dict[tuple[int, int], dict]  # (L, steps) -> row of the widest cells at the trained depth

    def parameter_curve(self, depth: int, cost: str = "parameters") -> list[tuple[int, float]]:
        """(cost, solved %) of the cells trained at `depth`, by `cost`: parameters or train_flops."""
        return sorted((cell[cost], cell["solved_pct"]) for (_, L), cell in self.cells.items() if L == depth)

    def passes_curve(self, depth: int) -> list[tuple[float, float]]:  # (forward passes, solved %)
        return sorted(
            (row["mean_forward_passes"], row["solved_pct"]) for (L, _), row in self.family.items() if L == depth
        )

    def passes_to_reach(self, depth: int, level: float) -> float | None:
        """The fewest forward passes at which depth `depth` solves `level` %; None if it never does."""
        return next((passes for passes, solved in self.passes_curve(depth) if solved >= level), None)


def summarise(rows: list[dict]) -> Summary:
    rows = [row for row in rows if row.get("variant", "base") == "base"]
    full_steps = max(row["steps"] for row in rows)
    depths_at = {}  # width -> the trained depths measured at it
    for row in rows:
        depths_at.setdefault(row["width"], set()).add(row["trained_depth"])
    widest = max(
        (width for width, depths in depths_at.items() if len(depths) > 1), default=max(depths_at)
    )  # claim 2 compares depths
    at_trained = [row for row in rows if row["depth"] == row["trained_depth"]]
    return Summary(
        full_steps=full_steps,
        cells=mean_by([row for row in at_trained if row["steps"] == full_steps], ("width", "trained_depth")),
        widest=widest,
        family=mean_by([row for row in at_trained if row["width"] == widest], ("trained_depth", "steps")),
    )


def report_task(task_name: str, rows: list[dict]) -> list[str]:
    """The markdown section of one task."""
    if not any(row["variant"] == "base" for row in rows):  # only the map's model measured so far
        return [f"## {task_name}"] + map_section(rows)
    summary = summarise(rows)
    lines = grid_section(task_name, rows, summary)
    lines += claim_1_section(summary) + claim_2_section(summary) + map_section(rows)
    return lines + extrapolation_section(rows, summary)


def depth_map(rows: list[dict]) -> tuple[int, int, dict[tuple[int, int], dict]] | None:
    """(width, L, {(depth, steps): seed-averaged row}) of the widest random-depth model: one
    model run at every depth and step count; None without such cells."""
    mixed = [row for row in rows if row["variant"] == "random-depth"]
    if not mixed:
        return None
    width = max(row["width"] for row in mixed)
    most = max(row["trained_depth"] for row in mixed if row["width"] == width)
    chosen = [row for row in mixed if row["width"] == width and row["trained_depth"] == most]
    return width, most, {key: row for key, row in mean_by(chosen, ("depth", "steps")).items()}


def map_section(rows: list[dict]) -> list[str]:
    """Claim 2 as a map: solved % over (depth, steps) at inference for one model, and per
    solved % level the fewest model calls and the fewest block applications that reach it."""
    found = depth_map(rows)
    if found is None:
        return []
    width, most, cells = found
    depths, steps = sorted({d for d, _ in cells}), sorted({s for _, s in cells})
    lines = [
        "",
        f"### Claim 2 as a map: one model (width {width}, trained at random depths 1 to {most}) at each depth and "
        "step count",
        "",
        "Solved % (95% interval over the puzzles of every seed; block applications per puzzle, as measured). "
        "Model calls are the steps (the paper's forward passes); block applications, steps × depth, are the "
        "compute.",
        "",
        "| depth | " + " | ".join(f"{count} steps" for count in steps) + " |",
        "|---" * (len(steps) + 1) + "|",
    ]
    for depth in depths:
        entries = [
            "–" if (cell := cells.get((depth, count))) is None
            else "{:.1f}% ({:.0f}–{:.0f}; {:g})".format(
                cell["solved_pct"], *cell["interval"], cell["mean_forward_passes"]
            )
            for count in steps
        ]  # fmt: skip
        lines.append(f"| {depth} | " + " | ".join(entries) + " |")
    lines += [
        "",
        "| solved % | fewest model calls (at depth) | fewest block applications (at depth, steps) |",
        "|---|---|---|",
    ]
    for level in LEVELS:
        reached = [(count, depth, cell) for (depth, count), cell in cells.items() if cell["solved_pct"] >= level]
        if not reached:
            lines.append(f"| {level}% | not reached | not reached |")
            continue
        calls = min(reached, key=lambda item: (item[0], item[2]["mean_forward_passes"]))
        compute = min(reached, key=lambda item: (item[2]["mean_forward_passes"], item[0]))
        lines.append(
            f"| {level}% | {calls[0]} (depth {calls[1]}) "
            f"| {compute[2]['mean_forward_passes']:g} (depth {compute[1]}, {compute[0]} steps) |"
        )
    return lines


def grid_section(task_name: str, rows: list[dict], summary) -> list[str]:
    """Every cell's solved % with its parameters and training time."""
    full_steps, cells = summary.full_steps, summary.cells
    widths = sorted({key[0] for key in cells})
    depths = sorted({key[1] for key in cells})
    examples = " or ".join(f"{count:,}" for count in sorted({row["examples"] for row in rows}))  # one count by design
    lines = [
        f"## {task_name}",
        "",
        f"Every cell saw {examples} training examples. Solved % on the "
        f"held-out set at steps = {full_steps}, run at the trained depth "
        "(mean over seeds; range in brackets when there are several; then the 95% interval over the puzzles of "
        "every seed together), with parameters, training compute (matmul FLOPs: 3 × a forward pass × examples) "
        "and training CPU-minutes (mean over seeds; wall time × threads: inflated for cells trained while other "
        "jobs shared the cores).",
        "",
    ]
    lines += ["| width | " + " | ".join(f"L = {d}" for d in depths) + " |", "|---" * (len(depths) + 1) + "|"]
    for width in widths:
        entries = []
        for depth in depths:
            cell = cells.get((width, depth))
            if cell is None:
                entries.append("–")
                continue
            spread = f" [{cell['low']:.1f}–{cell['high']:.1f}]" if cell["seeds"] > 1 else ""
            if cell.get("interval"):
                spread += " ({:.0f}–{:.0f})".format(*cell["interval"])
            entries.append(
                f"{cell['solved_pct']:.1f}%{spread} · {cell['parameters']:,} p · "
                f"{cell['train_flops'] / 1e12:,.0f} TFLOP · {cell['train_cpu_minutes']} min"
            )
        lines.append(f"| {width} | " + " | ".join(entries) + " |")
    return lines


def claim_1_section(summary) -> list[str]:
    """Claim 1: the parameters a non-recursive model needs to match each recursive cell."""
    cells = summary.cells
    widths = sorted({key[0] for key in cells})
    depths = sorted({key[1] for key in cells})
    lines: list[str] = []
    lines += [
        "",
        "### Claim 1: parameters a non-recursive model (L = 1) needs to match an L-recursive one",
        "",
        (
            "| L | width | recursive solved % | L = 1 parameters to match / recursive "
            "parameters (at the seeds' range) | verdict (the paper: about L×) "
            "| L = 1 training compute to match / recursive training compute |"
        ),
        "|---|---|---|---|---|---|",
    ]
    curve, compute_curve = summary.parameter_curve(1), summary.parameter_curve(1, "train_flops")
    for depth in depths:
        if depth == 1:
            continue
        for width in widths:
            cell = cells.get((width, depth))
            if cell is None:
                continue
            if cell["solved_pct"] == 0:
                ratio, verdict, compute = "– (solves nothing)", "undecided", "–"
            elif not curve:
                ratio, verdict, compute = "–", "undecided: no L = 1 cell yet", "–"
            else:  # with seeds that differ, also the ratios at the seeds' lowest and highest solved %
                ratio = parameter_ratio(curve, cell["solved_pct"], cell["parameters"])
                ends = [parameter_ratio(curve, cell[end], cell["parameters"]) for end in ("low", "high")]
                if ends[0] != ends[1]:
                    ratio += f" [{ends[0]} to {ends[1]}]"
                verdict = claim_1_verdict(curve, cell["solved_pct"], cell["parameters"], depth)
                compute = parameter_ratio(compute_curve, cell["solved_pct"], cell["train_flops"])
            lines.append(f"| {depth} | {width} | {cell['solved_pct']:.1f} | {ratio} | {verdict} | {compute} |")
    return lines


def claim_2_section(summary) -> list[str]:
    """Claim 2: forward passes to reach each solved % level, per trained depth."""
    widest = summary.widest
    depths = sorted({key[1] for key in summary.cells})
    lines: list[str] = []
    lines += [
        "",
        f"### Claim 2: forward passes (steps × depth) to reach a solved % (width {widest}, trained depth)",
        "",
        "| L | " + " | ".join(f"{level}%" for level in LEVELS) + " |",
        "|---" * (len(LEVELS) + 1) + "|",
    ]
    for depth in depths:
        if not summary.passes_curve(depth):  # no cell of this depth at that width
            continue
        needed = [
            "not reached" if (passes := summary.passes_to_reach(depth, level)) is None else f"{passes:g}"
            for level in LEVELS
        ]
        lines.append(f"| {depth} | " + " | ".join(needed) + " |")
    lines += ["", claim_2_verdict(summary, depths)]
    return lines


def extrapolation_section(rows: list[dict], summary) -> list[str]:
    """Running deeper than trained, and the claim-3 variants where the grid has them."""
    full_steps, widest = summary.full_steps, summary.widest
    depths = sorted({key[1] for key in summary.cells})
    lines: list[str] = []
    lines += [
        "",
        f"### Extrapolation: run at 2L (width {widest}, steps = {full_steps})",
        "",
        "| L | at L | at 2L |",
        "|---|---|---|",
    ]
    at_full = mean_by(
        [row for row in rows if row["steps"] == full_steps], ("variant", "width", "trained_depth", "depth")
    )
    for depth in depths:
        values = [at_full.get(("base", widest, depth, depth * factor)) for factor in (1, 2)]
        lines.append(f"| {depth} | " + " | ".join(percent(v) for v in values) + " |")

    ablated = sorted(key[1:3] for key in at_full if key[0] == "no-reinject" and key[3] == key[2])
    if ablated:
        lines += [
            "",
            f"### Claim 3a: input re-injection on and off (steps = {full_steps}, trained depth)",
            "",
            "| width | L | re-injected every iteration | added once |",
            "|---|---|---|---|",
        ]
        for width, depth in ablated:
            lines.append(
                f"| {width} | {depth} | {percent(at_full.get(('base', width, depth, depth)))} "
                f"| {percent(at_full[('no-reinject', width, depth, depth)])} |"
            )
    mixed = sorted(key[1:] for key in at_full if key[0] == "random-depth")
    if mixed:
        lines += [
            "",
            f"### Claim 3c: one model trained at a random depth per step against specialists (steps = {full_steps})",
            "",
            "| width | trained up to L | run at depth | random-depth model | specialist trained at that depth |",
            "|---|---|---|---|---|",
        ]
        for width, most, depth in mixed:
            lines.append(
                f"| {width} | {most} | {depth} | {percent(at_full[('random-depth', width, most, depth)])} "
                f"| {percent(at_full.get(('base', width, depth, depth)))} |"
            )
    return lines


def frontier_section(title: str, summary: Summary) -> list[str]:
    """The training-compute frontier: the cells in order of training compute, each kept when it
    solves more than every cheaper cell, so the last row that fits a budget is the shape to train."""
    frontier, best = [], 0.0  # a cell that solves nothing is no shape to train
    for (width, depth), cell in sorted(summary.cells.items(), key=lambda item: item[1]["train_flops"]):
        if cell["solved_pct"] > best:
            frontier.append((width, depth, cell))
            best = cell["solved_pct"]
    lines = [
        "",
        f"### {title}",
        "",
        "| training compute | CPU-minutes | width | L | parameters | solved % (95% interval) |",
        "|---|---|---|---|---|---|",
    ]
    for width, depth, cell in frontier:
        interval = " ({:.0f}–{:.0f})".format(*cell["interval"]) if cell.get("interval") else ""
        lines.append(
            f"| {cell['train_flops'] / 1e12:,.0f} TFLOP | {cell['train_cpu_minutes']} | {width} | {depth} "
            f"| {cell['parameters']:,} | {cell['solved_pct']:.1f}%{interval} |"
        )
    if not frontier:
        return lines[:3] + ["No cell solves a puzzle of this set."]
    recursive = sum(depth > 1 for _, depth, _ in frontier)
    return lines + ["", f"{recursive} of the {len(frontier)} cells on the frontier are recursive (L > 1)."]


def percent(row: dict | None) -> str:
    return "–" if row is None else f"{row['solved_pct']:.1f}%"


def write_figures(task_name: str, rows: list[dict], docs: Path) -> list[str]:
    """PNG figures when matplotlib is installed (the `study` extra); markdown links to them."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["", "(Figures need matplotlib: `pip install -e '.[study]'`.)"]

    stem = "study-" + re.sub(r"[^a-z0-9]+", "-", task_name.lower()).strip("-")
    links = []
    if any(row["variant"] == "base" for row in rows):
        links += ["", f"![{task_name}]({grid_figure(plt, task_name, rows, docs / f'{stem}.png')})"]
    if found := depth_map(rows):
        links += ["", f"![{task_name}: claim 2's map]({map_figure(plt, task_name, found, docs / f'{stem}-map.png')})"]
    return links


def grid_figure(plt, task_name: str, rows: list[dict], path: Path) -> str:
    """Solved % against parameters (every L) and against forward passes (the widest width);
    returns the file name."""

    def draw(axes, points: list[tuple[float, dict]], depth: int) -> None:
        """Bars: the 95% interval over the puzzles of every seed; dashes: the seeds' lowest and highest."""
        x, cells = zip(*sorted(points, key=lambda point: point[0]))
        y = [cell["solved_pct"] for cell in cells]
        intervals = [cell.get("interval") or (cell["solved_pct"],) * 2 for cell in cells]
        spread = [
            [mean - low for mean, (low, _) in zip(y, intervals)],
            [high - mean for mean, (_, high) in zip(y, intervals)],
        ]
        line = axes.errorbar(x, y, yerr=spread, marker="o", capsize=3, label=f"L = {depth}")
        seeded = [(at, cell) for at, cell in zip(x, cells) if cell["seeds"] > 1]
        for end in ("low", "high"):
            axes.scatter(
                [at for at, _ in seeded],
                [cell[end] for _, cell in seeded],
                marker="_",
                s=120,
                color=line[0].get_color(),
            )

    summary = summarise(rows)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for depth in sorted({L for _, L in summary.cells}):
        draw(left, [(cell["parameters"], cell) for (_, L), cell in summary.cells.items() if L == depth], depth)
    left.set(
        xscale="log",
        xlabel="parameters",
        ylabel="solved %",
        title=f"{task_name}: solved % vs parameters",
    )
    left.legend()
    for depth in sorted({L for L, _ in summary.family}):
        draw(right, [(row["mean_forward_passes"], row) for (L, _), row in summary.family.items() if L == depth], depth)
    right.set(
        xscale="log",
        xlabel="forward passes (steps × depth)",
        ylabel="solved %",
        title=f"width {summary.widest}: solved % vs forward passes",
    )
    right.legend()
    figure.suptitle("bars: 95% interval over the puzzles of every seed; dashes: the seeds' range", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path.name


def map_figure(plt, task_name: str, found: tuple[int, int, dict], path: Path) -> str:
    """Claim 2's map as a heatmap: solved % (95% interval) over steps (model calls) and depth, with
    the block applications each costs; returns the file name."""
    width, most, cells = found
    depths, steps = sorted({d for d, _ in cells}), sorted({s for _, s in cells})
    solved = [[cells[(d, s)]["solved_pct"] if (d, s) in cells else float("nan") for s in steps] for d in depths]
    figure, axes = plt.subplots(figsize=(1.4 * len(steps) + 2, 0.7 * len(depths) + 1.6))
    image = axes.imshow(solved, cmap="viridis", vmin=0, vmax=100, origin="lower", aspect="auto")
    for i, depth in enumerate(depths):
        for j, count in enumerate(steps):
            if (depth, count) in cells:
                cell = cells[(depth, count)]
                low, high = cell["interval"]
                text = f"{cell['solved_pct']:.0f}% ({low:.0f}–{high:.0f})\n{cell['mean_forward_passes']:.0f} blocks"
                shade = "black" if cell["solved_pct"] > 60 else "white"  # readable on the bright end of viridis
                axes.text(j, i, text, ha="center", va="center", fontsize=8, color=shade)
    axes.set(
        xticks=range(len(steps)),
        xticklabels=steps,
        yticks=range(len(depths)),
        yticklabels=depths,
        xlabel="steps (model calls)",
        ylabel="depth at inference",
        title=f"{task_name}: width {width}, trained at depths 1-{most} (95% intervals)",
    )
    figure.colorbar(image, label="solved %")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path.name


def settings_text(settings: dict[str, dict]) -> str:
    """`{task: {"clues": "45-55"}, other: {"data": {"numbers": 3}}}` as `task: clues 45-55;
    other: numbers 3` (task options read like the others)."""

    def flat(fields: dict) -> dict:
        return {
            k: v
            for name, value in fields.items()
            for k, v in (flat(value) if isinstance(value, dict) else {name: value}).items()
        }

    return "; ".join(
        f"{task}: " + (", ".join(f"{name.replace('_', ' ')} {v}" for name, v in flat(fields).items()) or "none")
        for task, fields in settings.items()
    )


def write_report(measurements: dict[str, list[dict]], docs: Path, command: str, eval_count: int) -> Path:
    from rmdm_cli.tasks import get_task_class

    docs.mkdir(parents=True, exist_ok=True)
    recipes = {name: get_task_class(name).study_recipe for name in measurements}
    sets = {name: get_task_class(name).study_eval_sets for name in measurements}
    sets_text = "; ".join(
        f"{task}: "
        + ", ".join(
            f"{name} ({recipe['file']}, the first {eval_count})"
            if "file" in recipe
            else f"{name} (generated, seed {EVAL_SEED})"
            for name, recipe in task_sets.items()
        )
        for task, task_sets in sets.items()
    )
    lines = [
        "# Study: recursion depth versus parameters versus denoising steps",
        "",
        f"Regenerate (from the committed weights under `weights/study/`): `{command}`",
        "",
        "Every cell: 2 distinct blocks recursed L times, loss on every iteration, the "
        f"task's data recipe with the study's changes ({settings_text(recipes)}), the "
        f"same number of training examples within a task; evaluated on {eval_count} held-out puzzles of each "
        f"set ({sets_text}). Forward passes = block-stack applications per puzzle, as measured.",
        "",
    ]
    frontiers = []  # the report ends with them: what the grid says about shaping the models
    for task_name, rows in measurements.items():
        for set_name in dict.fromkeys(row["set"] for row in rows):
            title, subset = f"{task_name}, {set_name}", [row for row in rows if row["set"] == set_name]
            lines += report_task(title, subset) + write_figures(title, subset, docs) + [""]
            if base := [row for row in subset if row["variant"] == "base"]:
                frontiers += frontier_section(title, summarise(base))
    lines += [
        "## Shaping the models: the best cell for a training budget",
        "",
        "Per task and set, the cells in order of training compute (seed means at full steps and the trained "
        "depth), each listed when it solves more than every cheaper cell: for a budget, train the last row that "
        "fits it; run it at its trained depth and one token a step, or where claim 2's map shows a cheaper "
        "depth and step count that solves as much.",
    ] + frontiers
    path = docs / "study.md"
    path.write_text("\n".join(lines) + "\n")
    (docs / "study-measurements.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for task_rows in measurements.values() for row in task_rows)
    )
    return path


def grid(
    task_name: str, widths: list[int], depths: list[int], seeds: list[int], variants: tuple[str, ...] = ("base",)
) -> list[Cell]:
    return [
        Cell(task_name, width, depth, seed, variant)
        for variant in variants
        for seed in seeds
        for width in widths
        for depth in depths
    ]
