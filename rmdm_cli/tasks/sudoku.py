"""Sudoku: 81 cells, row-major, digits 1-9, blanks written `.` or `0`.

Token ids: 0 is the mask (a blank), 1-9 are the digits, so a puzzle encodes as itself.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rmdm_cli.tasks.base import PuzzleError, Task, TrainingData

if TYPE_CHECKING:
    import numpy as np
    import torch
    from rich.console import RenderableType


Grid = tuple[int, ...]  # 81 values, 0 for a blank

ROW = [i // 9 for i in range(81)]
COL = [i % 9 for i in range(81)]
BOX = [(i // 27) * 3 + (i % 9) // 3 for i in range(81)]
UNITS = [
    [cell for cell in range(81) if unit_of[cell] == unit] for unit_of in (ROW, COL, BOX) for unit in range(9)
]  # 27 units of 9 cells
CELL_UNITS = [[ROW[cell], 9 + COL[cell], 18 + BOX[cell]] for cell in range(81)]  # each cell's 3 units, indexing UNITS
PEERS = [sorted({other for unit in CELL_UNITS[cell] for other in UNITS[unit]} - {cell}) for cell in range(81)]
UNIT_BITS = [sum(1 << unit for unit in units) for units in CELL_UNITS]  # each cell's 3 units as bits
EVERY_UNIT = (1 << 27) - 1
ALL_DIGITS = 0b1111111110  # bit d set for digit d in 1..9
POPCOUNT = [bin(m).count("1") for m in range(1 << 10)]
DIGITS_OF = [[d for d in range(1, 10) if m >> d & 1] for m in range(1 << 10)]  # a bitmask's digits
HARD_GUESSES = 10  # rule guesses from which a puzzle counts as hard (as in `rmdm generate sudoku --guesses`)


def parse_grid(text: str) -> Grid:
    """Parse 81 characters (digits, `.` or `0` for blanks) and check the givens break no rule."""
    text = text.strip()
    if len(text) != 81:
        raise PuzzleError(f"expected 81 cells, got {len(text)}")
    bad = sorted({ch for ch in text if ch not in ".0123456789"})
    if bad:
        raise PuzzleError(f"unexpected character {bad[0]!r} (cells are 1-9, blanks '.' or '0')")
    grid = tuple(0 if ch == "." else int(ch) for ch in text)
    conflict = find_conflict(grid)
    if conflict:
        raise PuzzleError(conflict)
    return grid


def find_conflict(grid: Sequence[int]) -> str | None:
    """Describe the first repeated digit in a row, column or box, or None."""
    for kind, unit_of in (("row", ROW), ("column", COL), ("box", BOX)):
        seen: dict[tuple[int, int], int] = {}
        for cell, digit in enumerate(grid):
            if digit:
                key = (unit_of[cell], digit)
                if key in seen:
                    return f"digit {digit} appears twice in {kind} {unit_of[cell] + 1}"
                seen[key] = cell
    return None


def conflicting_cells(grid: Sequence[int]) -> set[int]:
    """Every filled cell that shares a row, column or box with the same digit."""
    cells: set[int] = set()
    for unit in UNITS:
        by_digit: dict[int, list[int]] = {}
        for cell in unit:
            if grid[cell]:
                by_digit.setdefault(grid[cell], []).append(cell)
        for group in by_digit.values():
            if len(group) > 1:
                cells.update(group)
    return cells


def is_solution(puzzle: Sequence[int], answer: Sequence[int]) -> bool:
    """The independent rules checker: a full grid, every unit a permutation, givens kept."""
    if len(answer) != 81 or any(not 1 <= d <= 9 for d in answer):
        return False
    if any(given and given != digit for given, digit in zip(puzzle, answer)):
        return False
    return find_conflict(answer) is None


def format_grid(grid: Sequence[int], blank: str = ".") -> str:
    return "".join(str(d) if d else blank for d in grid)


def solve_exact(
    puzzle: Sequence[int], limit: int = 1, rng: random.Random | None = None, nodes: list[int] | None = None
) -> list[Grid]:
    """Exact bitmask search, fewest candidates first. Returns up to `limit` solutions; counts
    the digits it tries (its nodes) into `nodes[0]`.

    With `rng`, digits are tried in random order, which turns solving the empty grid into a
    uniform-ish random complete grid.
    """
    grid = list(puzzle)
    rows, cols, boxes = [0] * 9, [0] * 9, [0] * 9
    for cell, digit in enumerate(grid):
        if digit:
            bit = 1 << digit
            if (rows[ROW[cell]] | cols[COL[cell]] | boxes[BOX[cell]]) & bit:
                return []
            rows[ROW[cell]] |= bit
            cols[COL[cell]] |= bit
            boxes[BOX[cell]] |= bit
    empties = [cell for cell in range(81) if not grid[cell]]
    solutions: list[Grid] = []

    def search() -> bool:  # True once `limit` solutions are found
        best, best_mask, best_count = -1, 0, 10
        for cell in empties:
            if grid[cell]:
                continue
            mask = ALL_DIGITS & ~(rows[ROW[cell]] | cols[COL[cell]] | boxes[BOX[cell]])
            count = POPCOUNT[mask]
            if count < best_count:
                best, best_mask, best_count = cell, mask, count
                if count <= 1:
                    break
        if best < 0:
            solutions.append(tuple(grid))
            return len(solutions) >= limit
        digits = [d for d in range(1, 10) if best_mask >> d & 1]
        if rng is not None:
            rng.shuffle(digits)
        r, c, b = ROW[best], COL[best], BOX[best]
        for digit in digits:
            bit = 1 << digit
            grid[best] = digit
            if nodes is not None:
                nodes[0] += 1
            rows[r] |= bit
            cols[c] |= bit
            boxes[b] |= bit
            done = search()
            grid[best] = 0
            rows[r] &= ~bit
            cols[c] &= ~bit
            boxes[b] &= ~bit
            if done:
                return True
        return False

    search()
    return solutions


def candidates_of(grid: Sequence[int]) -> list[int] | None:
    """Each cell's candidate digits as a bitmask (bit d for digit d): a given's own digit, a
    blank's every digit no given peer holds; None if two givens clash."""
    used = [0] * 27  # digits (bits) given in each unit
    for cell, digit in enumerate(grid):
        if digit:
            for unit in CELL_UNITS[cell]:
                if used[unit] >> digit & 1:
                    return None
                used[unit] |= 1 << digit
    return [
        1 << digit if digit else ALL_DIGITS & ~(used[ROW[cell]] | used[9 + COL[cell]] | used[18 + BOX[cell]])
        for cell, digit in enumerate(grid)
    ]


def settle(candidates: list[int], placed: list[bool], dirty: int = EVERY_UNIT, queue: list[int] | None = None) -> bool:
    """Propagate in place to a fixpoint: a cell with one candidate takes it out of its peers
    (naked single), a digit with one place left in a unit takes that place (hidden single).
    `placed` marks the cells whose digit is already out of their peers; `dirty` (bit u for
    UNITS[u]) the units changed since they were last at a fixpoint, the only ones looked at for
    hidden singles; `queue` the cells with one candidate not yet placed (default: found here).
    False on a contradiction: a cell without candidates, a digit without a place in a unit."""
    popcount, peers, units, units_of = POPCOUNT, PEERS, UNITS, UNIT_BITS  # locals: the search's hottest loop
    if queue is None:
        queue = [cell for cell in range(81) if not placed[cell] and popcount[candidates[cell]] == 1]
    while True:
        while queue:
            cell = queue.pop()
            if placed[cell]:
                continue
            placed[cell] = True
            bit = candidates[cell]
            for peer in peers[cell]:
                mask = candidates[peer]
                if mask & bit:
                    mask &= ~bit
                    if not mask:
                        return False
                    candidates[peer] = mask
                    dirty |= units_of[peer]
                    if popcount[mask] == 1:
                        queue.append(peer)
        if not dirty:
            return True
        while dirty:
            lowest = dirty & -dirty
            dirty ^= lowest
            unit = units[lowest.bit_length() - 1]
            once = twice = 0  # digits seen in at least one, at least two of the unit's cells
            for cell in unit:
                mask = candidates[cell]
                twice |= once & mask
                once |= mask
            if once != ALL_DIGITS:
                return False
            if singles := once & ~twice:
                for cell in unit:
                    mask = candidates[cell] & singles
                    if popcount[mask] > 1:  # two digits with this cell as their only place
                        return False
                    if mask and mask != candidates[cell]:
                        candidates[cell] = mask
                        dirty |= units_of[cell]  # its other digits gone: its units may have new singles
                        queue.append(cell)
        if not queue:
            return True


def branch_choice(candidates: list[int], probs: list[list[float]] | None) -> tuple[int, list[int]]:
    """The cell to branch on and its digits in the order to try: a cell with the fewest
    candidates; without predictions the first such cell, its digits in increasing order; with
    them the one whose most likely candidate the model is surest of, in the model's order."""
    fewest = min(POPCOUNT[mask] for mask in candidates if POPCOUNT[mask] > 1)
    if probs is None:
        cell = next(cell for cell, mask in enumerate(candidates) if POPCOUNT[mask] == fewest)
        return cell, DIGITS_OF[candidates[cell]]
    best, best_share, best_digits = -1, -1.0, []
    for cell, mask in enumerate(candidates):
        if POPCOUNT[mask] == fewest:
            digits = DIGITS_OF[mask]
            weights = [probs[cell][digit] for digit in digits]
            share = max(weights) / max(sum(weights), 1e-12)
            if share > best_share:
                order = sorted(range(len(digits)), key=lambda i: -weights[i])
                best, best_share, best_digits = cell, share, [digits[i] for i in order]
    return best, best_digits


def rule_guesses(puzzle: Grid) -> int:
    """How hard a puzzle is for the rules: the guesses the search makes without the model
    (naked and hidden singles to a fixpoint, then the first cell with the fewest candidates,
    its digits in increasing order) until it reaches the solution; 0: the rules alone solve it."""
    from rmdm_cli.search import Trace

    rules = Sudoku()
    rules.search_patience = math.inf  # never asks the model
    trace = Trace()
    next(rules.search(puzzle, trace, steps=1), None)  # runs to its end: it never stops to ask
    return trace.nodes


def make_hard_puzzle(rng: random.Random) -> tuple[Grid, Grid]:
    """A minimal puzzle that needs HARD_GUESSES or more rule guesses (about 1 in 14 of them).
    Returns (puzzle, solution)."""
    while True:
        puzzle, solution = make_puzzle(rng, 17, 17)
        if rule_guesses(puzzle) >= HARD_GUESSES:
            return puzzle, solution


@functools.lru_cache(maxsize=1)  # the scaling study trains cell after cell on one seed's pool
def training_puzzles(count: int, hard: int, seed: int) -> tuple[tuple[Grid, Grid], ...]:
    """A training pool's (puzzle, solution) pairs: `count` minimal puzzles and `hard` ones that
    need HARD_GUESSES or more rule guesses, from streams of their own ("sudoku-puzzles-*" makes
    the held-out sets of generate())."""
    rng = random.Random(f"sudoku-train-puzzles-{seed}")
    pairs = [make_puzzle(rng, 17, 17) for _ in range(count)]  # 17: remove all it can
    rng = random.Random(f"sudoku-train-hard-{seed}")
    return tuple(pairs + [make_hard_puzzle(rng) for _ in range(hard)])


def random_grid(rng: random.Random) -> Grid:
    """A random complete grid from a randomized search of the empty grid."""
    return solve_exact([0] * 81, rng=rng)[0]


def make_puzzle(rng: random.Random, min_clues: int, max_clues: int) -> tuple[Grid, Grid]:
    """A unique-solution puzzle with min..max clues (as few as uniqueness allows, down to min).

    Clues are removed in random order while the solution stays unique; a clue whose removal
    would break uniqueness stays. Returns (puzzle, solution).
    """
    solution = random_grid(rng)
    target = rng.randint(min_clues, max_clues)
    puzzle = list(solution)
    order = list(range(81))
    rng.shuffle(order)
    clues = 81
    for cell in order:
        if clues <= target:
            break
        digit, puzzle[cell] = puzzle[cell], 0
        if len(solve_exact(puzzle, limit=2)) == 1:
            clues -= 1
        else:
            puzzle[cell] = digit
    return tuple(puzzle), solution


@dataclass(frozen=True)
class SudokuDataOptions:
    pool_size: int = field(default=20000, metadata={"help": "Complete grids generated up front to draw batches from."})
    puzzle_pool: int = field(
        default=0, metadata={"help": "Minimal puzzles generated up front to draw batches from as well (0: none)."}
    )
    hard_pool: int = field(
        default=0,
        metadata={
            "help": "Hard puzzles (minimal, needing 10 or more rule guesses, as `rmdm generate sudoku --guesses"
            " 10-` rates them) generated up front into the puzzle pool; each costs about a second of a core."
        },
    )
    puzzle_share: float = field(
        default=0.5,
        metadata={"help": "With --puzzle-pool or --hard-pool: the share of each batch taken from those puzzles."},
    )

    def __post_init__(self) -> None:
        if self.pool_size < 1 or self.puzzle_pool < 0 or self.hard_pool < 0 or not 0 <= self.puzzle_share <= 1:
            raise ValueError(
                "--pool-size must be at least 1, --puzzle-pool and --hard-pool at least 0, --puzzle-share 0 to 1"
            )


@dataclass(frozen=True)
class SudokuGenerateOptions:
    clues: str = field(
        default="30-36", metadata={"help": "Clue range MIN-MAX; removal stops early when uniqueness would break."}
    )
    minimal: bool = field(
        default=False,
        metadata={"help": "Remove clues until none can go without losing uniqueness (22-26 clues); replaces --clues."},
    )
    guesses: str = field(
        default="0-",
        metadata={
            "help": "Difficulty: keep puzzles whose solve by the rules needs MIN-MAX guesses (MIN- for no upper"
            " bound). The rating: naked and hidden singles filled to a fixpoint, then a guess on a cell with the"
            " fewest candidates, digits in increasing order, counted until the solution (0: the rules alone"
            " solve it; 10 or more: hard)."
        },
    )

    def __post_init__(self) -> None:
        try:
            low, high = (int(part) for part in self.clues.split("-"))
            if not 17 <= low <= high <= 81:
                raise ValueError
        except ValueError:
            raise ValueError(f"--clues: expected MIN-MAX with 17 <= MIN <= MAX <= 81, got {self.clues!r}") from None
        try:
            low, high = self.guess_range
            if not 0 <= low <= high:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"--guesses: expected MIN-MAX or MIN- with 0 <= MIN <= MAX, got {self.guesses!r}"
            ) from None

    @property
    def guess_range(self) -> tuple[int, float]:
        low, _, high = self.guesses.partition("-")
        return int(low), float(high) if high else float("inf")

    @property
    def clue_range(self) -> tuple[int, int]:
        if self.minimal:  # removal then tries every cell once: a clue that stays cannot go
            return 17, 17
        low, high = (int(part) for part in self.clues.split("-"))
        return low, high


class SudokuTrainingData:
    """Complete grids (every cell maskable) and, with a puzzle pool, a share of minimal puzzles'
    solutions (only their blanks maskable), each example relabelled and transformed by a random
    symmetry. A puzzle is stored as (solution, givens) planes."""

    def __init__(self, options: SudokuDataOptions, seed: int):
        self.options, self.seed = options, seed
        self.share = options.puzzle_share if options.puzzle_pool or options.hard_pool else 0.0
        self.grids = self.puzzles = None  # (N, 9, 9) and (M, 2, 9, 9), made at the first batch
        self.recipe = f"{options.pool_size} random complete grids from a randomized search (seed {seed})"
        if self.share:
            hard = f" ({options.hard_pool} of them needing {HARD_GUESSES}+ rule guesses)" if options.hard_pool else ""
            self.recipe += (
                f", and {self.share:.0%} of every batch from {options.puzzle_pool + options.hard_pool} generated"
                f" minimal puzzles{hard} (only their blanks maskable)"
            )
        self.recipe += ", each batch relabelled and transformed by random symmetries"

    def prepare(self) -> None:
        import torch

        rng = random.Random(f"sudoku-train-{self.seed}")
        grids = [random_grid(rng) for _ in range(self.options.pool_size)]
        self.grids = torch.tensor(grids, dtype=torch.long).view(-1, 9, 9)
        if self.share:
            pairs = training_puzzles(self.options.puzzle_pool, self.options.hard_pool, self.seed)
            planes = [(solution, puzzle) for puzzle, solution in pairs]
            self.puzzles = torch.tensor(planes, dtype=torch.long).view(-1, 2, 9, 9)

    def batch(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        if self.grids is None:
            self.prepare()
        from_puzzles = round(batch_size * self.share)
        grids = self.grids[torch.randint(len(self.grids), (batch_size - from_puzzles,), generator=generator)]
        examples = torch.stack([grids, torch.zeros_like(grids)], 1)  # no givens: every cell maskable
        if from_puzzles:
            chosen = self.puzzles[torch.randint(len(self.puzzles), (from_puzzles,), generator=generator)]
            examples = torch.cat([examples, chosen])
        examples = augment(examples, generator)  # (B, 2, 9, 9)
        return examples[:, 0].reshape(batch_size, 81), examples[:, 1].reshape(batch_size, 81) == 0


class Sudoku(Task):
    name = "sudoku"
    position_groups = (tuple(ROW), tuple(COL), tuple(BOX))  # the model sees the three constraint groups directly
    seq_len = 81
    vocab_size = 10  # mask + digits 1-9
    mask_token = 0
    rules = "Fill every blank so that each row, column and 3x3 box holds the digits 1-9 once."
    # About the fixed sampler's accuracy for a fraction of its passes (docs/inference.md).
    # The search calls the model at depth 2 once its rules have made 15 guesses: faster than a
    # classical solver on top95 and hardest with fewer nodes than the rules alone
    # (docs/inference.md); the weights are trained at every depth.
    stored_defaults = {"threshold": 0.9999, "adaptive_depth": True, "search_depth": 2}
    search_patience = 15  # rule guesses the search makes before it asks the model
    DataOptions = SudokuDataOptions
    GenerateOptions = SudokuGenerateOptions
    # Today's recipe: minimal puzzles (unique targets), masks reaching every blank.
    study_recipe = {
        "mask_min": 0.05,
        "mask_max": 1.0,
        "data": {"pool_size": 1, "puzzle_pool": 2000, "puzzle_share": 1.0},
    }
    study_eval_sets = {"minimal": {"minimal": True}, "17-clue": {"file": "data/sudoku/17clue-1000.txt"}}

    def records(self, lines: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
        """Plain 81-character lines; a grid written as 9 lines of 9 cells (spaces, `|` and rule
        lines of `-`, `+` and `=` between them are ignored), numbered by its first line; or CSV
        with a `quizzes` (Kaggle) or `q` (Sudoku-Extreme) column."""
        column = None
        rows: list[tuple[int, str]] = []  # the grid being read, one (line number, 9 cells) a row
        for index, (line_no, text) in enumerate(lines):
            if index == 0 and "," in text:
                header = [name.strip().lower() for name in text.split(",")]
                for name in ("quizzes", "puzzle", "q"):
                    if name in header:
                        column = header.index(name)
                        break
                else:
                    yield line_no, text  # not a header we know: reported as a bad line
                continue
            if column is not None:
                fields = text.split(",")
                yield line_no, fields[column] if column < len(fields) else ""
                continue
            if not text.strip("-+=| \t"):
                continue  # a rule line between a grid's bands
            cells = "".join(text.replace("|", " ").split())
            if len(cells) == 9:
                rows.append((line_no, cells))
                if len(rows) == 9:
                    yield rows[0][0], "".join(cells for _, cells in rows)
                    rows = []
                continue
            if rows:  # a grid cut short: reported as the bad puzzle it is
                yield rows[0][0], "".join(cells for _, cells in rows)
                rows = []
            yield line_no, cells if len(cells) == 81 else text
        if rows:
            yield rows[0][0], "".join(cells for _, cells in rows)

    def parse(self, text: str) -> Grid:
        return parse_grid(text)

    def format_puzzle(self, puzzle: Grid) -> str:
        return format_grid(puzzle)

    def encode(self, puzzle: Grid) -> list[int]:
        return list(puzzle)

    def decode(self, puzzle: Grid, tokens: Sequence[int]) -> str:
        return format_grid(tokens, blank="0")

    def check(self, puzzle: Grid, answer: str) -> bool:
        return len(answer) == 81 and answer.isdigit() and is_solution(puzzle, [int(ch) for ch in answer])

    def violation(self, puzzle: Grid, answer: str) -> str | None:
        if len(answer) != 81 or not answer.isdigit() or "0" in answer:
            return "the grid is not complete"
        grid = [int(ch) for ch in answer]
        changed = next((cell for cell in range(81) if puzzle[cell] and puzzle[cell] != grid[cell]), None)
        if changed is not None:
            return f"the given in row {ROW[changed] + 1}, column {COL[changed] + 1} is changed"
        return find_conflict(grid)

    def solvable(self, puzzle: Grid) -> bool:
        return bool(solve_exact(puzzle))

    def search(self, puzzle: Grid, trace, steps: int):
        """Depth-first over candidate bitmasks: propagate naked and hidden singles, then branch
        on a cell with the fewest candidates. The rules alone choose (the first such cell, its
        digits in increasing order) until they have made `search_patience` guesses; from then on
        the model's predictions for the state where the rules first stalled do: among those
        cells the one whose most likely candidate the model is surest of, its candidates in the
        model's order. The model is asked again once another 1/steps of the blanks is filled
        (by commitments and what the rules then force)."""
        commit_every = max(1, -(-puzzle.count(0) // steps))
        stalled = None  # (tokens, blanks) where the rules first stalled: what the model is first shown
        first = None  # the model's predictions for it, once asked

        def tokens(candidates: list[int]) -> list[int]:
            return [mask.bit_length() - 1 if POPCOUNT[mask] == 1 else 0 for mask in candidates]

        def explore(candidates: list[int], placed: list[bool], probs=None, asked_open: int = 81, guess=None):
            # asked_open: the blanks left when the model was last asked; guess: the cell just
            # narrowed to one digit (None at the start), the one change since the last fixpoint
            nonlocal stalled, first
            changed = (EVERY_UNIT, None) if guess is None else (UNIT_BITS[guess], [guess])
            if not settle(candidates, placed, *changed):
                return None
            if all(placed):  # every cell down to one digit, each out of its peers: solved
                return tokens(candidates)
            still_open = placed.count(False)
            stalled = stalled or (tokens(candidates), still_open)
            if probs is None and trace.nodes >= self.search_patience:
                if first is None:
                    trace.tokens = stalled[0]
                    first = (yield trace.tokens).tolist()  # lists index faster
                probs, asked_open = first, stalled[1]
            elif probs is not None and asked_open - still_open >= commit_every:
                trace.tokens = tokens(candidates)
                probs, asked_open = (yield trace.tokens).tolist(), still_open
            best, best_digits = branch_choice(candidates, probs)
            for digit in best_digits:
                trace.nodes += 1
                branch = list(candidates)
                branch[best] = 1 << digit
                solution = yield from explore(branch, list(placed), probs, asked_open, best)
                if solution is not None:
                    return solution
                trace.backtracks += 1
            return None

        candidates = candidates_of(puzzle)
        return explore(candidates, [False] * 81) if candidates else iter(())

    def dead_end(self, tokens: np.ndarray) -> np.ndarray:
        """A digit repeated in a unit, or an open cell whose units already hold all nine digits."""
        import numpy as np

        digits = np.eye(10, dtype=np.int8)[tokens][..., 1:]  # (B, 81, 9) one-hot; blanks all zero
        per_unit = digits[:, UNITS].sum(2)  # (B, 27, 9) times each digit is in each unit
        repeated = (per_unit > 1).any((1, 2))
        taken = (per_unit[:, CELL_UNITS] > 0).any(2)  # (B, 81, 9) digit already in one of the cell's units
        stuck = ((tokens == 0) & taken.all(2)).any(1)
        return repeated | stuck

    def exact_answer(self, puzzle: Grid, nodes: list[int] | None = None) -> str | None:
        solutions = solve_exact(puzzle, nodes=nodes)
        return format_grid(solutions[0], blank="0") if solutions else None

    def render(
        self, puzzle: Grid, tokens: Sequence[int], confidence: Sequence[float], plain: bool = False
    ) -> RenderableType:
        from rich.table import Table
        from rich.text import Text

        broken = conflicting_cells([given or token for given, token in zip(puzzle, tokens)])
        table = Table(show_header=False, show_lines=False, box=None, padding=(0, 0))
        table.add_column()
        stack = 12 if plain else 6  # a stack's three cells
        rule = "-" * stack + "+" + "-" * (stack + 1) + "+" + "-" * stack
        for band in range(3):
            if band:
                table.add_row(Text(rule, style="dim"))
            for row in range(band * 3, band * 3 + 3):
                line = Text()
                for col in range(9):
                    if col and col % 3 == 0:
                        line.append("| ", style="dim")
                    cell = row * 9 + col
                    digit = puzzle[cell] or tokens[cell]
                    if puzzle[cell]:
                        style = "bold red" if cell in broken else "bold"
                    elif digit:
                        style = "red" if cell in broken else "green" if confidence[cell] >= 0.9 else "yellow"
                    else:
                        style = "dim"
                    text = str(digit) if digit else "·"
                    if plain:  # without colour the marks say what the styles would
                        text = f"[{text}]" if puzzle[cell] else f"({text})" if cell in broken else f" {text} "
                    line.append(f"{text} ", style=style)
                line.rstrip()
                table.add_row(line)
        return table

    def training_data(self, options: SudokuDataOptions, seed: int) -> TrainingData:
        return SudokuTrainingData(options, seed)

    def generate(self, count: int, seed: int, options: SudokuGenerateOptions | None = None) -> Iterator[str]:
        """Unique-solution puzzles in the options' clue range, from a seed stream that training
        (which draws from "sudoku-train-*") never uses."""
        options = options or SudokuGenerateOptions()
        low, high = options.guess_range
        rng = random.Random(f"sudoku-puzzles-{seed}")
        made = 0
        while made < count:
            puzzle = make_puzzle(rng, *options.clue_range)[0]
            if low <= rule_guesses(puzzle) <= high:  # every puzzle is rated: the stream stays the same
                made += 1
                yield format_grid(puzzle)


def augment(grids: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Validity-preserving transforms of (B, P, 9, 9) grids, the same for the P planes of an
    example (a solution and its givens): relabel digits (0 stays 0), permute bands/stacks, rows
    within bands, columns within stacks, and transpose."""
    import torch

    batch, planes = grids.shape[:2]
    relabel = torch.cat(
        [torch.zeros(batch, 1, dtype=torch.long), torch.rand(batch, 9, generator=generator).argsort(1) + 1], 1
    )
    grids = relabel.gather(1, grids.reshape(batch, planes * 81)).view(batch, planes, 9, 9)

    def line_permutation() -> torch.Tensor:  # (B, 9): a random band order, then rows within bands
        bands = torch.rand(batch, 3, generator=generator).argsort(1)
        within = torch.rand(batch, 3, 3, generator=generator).argsort(2)
        return (bands[:, :, None] * 3 + within).view(batch, 9)

    rows = line_permutation()
    grids = grids.gather(2, rows[:, None, :, None].expand(batch, planes, 9, 9))
    cols = line_permutation()
    grids = grids.gather(3, cols[:, None, None, :].expand(batch, planes, 9, 9))
    flip = torch.rand(batch, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], grids.transpose(2, 3), grids)
