"""A textbook Sudoku solver in pure Python, the peer the verified search is timed against: the
digits used in each row, column and box as bitmasks, naked and hidden singles filled to a
fixpoint, then depth-first on the blank with the fewest candidates. No model, nothing shared
with rmdm's own code.

    python benchmarks/classical_sudoku.py FILE...     # puzzles/s and guesses per puzzle
"""

from __future__ import annotations

import sys
import time

FULL = 0x3FE  # digits 1-9 as bits 1-9
BITS = {1 << d: d for d in range(1, 10)}
UNIT_CELLS = (
    [[r * 9 + c for c in range(9)] for r in range(9)]
    + [[r * 9 + c for r in range(9)] for c in range(9)]
    + [[(b // 3 * 3 + i // 3) * 9 + b % 3 * 3 + i % 3 for i in range(9)] for b in range(9)]
)
UNITS_OF = [(i // 9, 9 + i % 9, 18 + i // 27 * 3 + i % 9 // 3) for i in range(81)]


class Board:
    def __init__(self, digits: list[int]):
        self.digits = digits
        self.used = [0] * 27
        for i, d in enumerate(digits):
            if d:
                for u in UNITS_OF[i]:
                    self.used[u] |= 1 << d

    def copy(self) -> Board:
        other = Board.__new__(Board)
        other.digits, other.used = self.digits[:], self.used[:]
        return other

    def free(self, i: int) -> int:
        a, b, c = UNITS_OF[i]
        return FULL & ~(self.used[a] | self.used[b] | self.used[c])

    def put(self, i: int, d: int) -> None:
        self.digits[i] = d
        for u in UNITS_OF[i]:
            self.used[u] |= 1 << d

    def fill_singles(self) -> bool:
        """Naked and hidden singles until none is left; False on a contradiction."""
        progress = True
        while progress:
            progress = False
            for i in range(81):
                if not self.digits[i]:
                    options = self.free(i)
                    if not options:
                        return False
                    if options in BITS:
                        self.put(i, BITS[options])
                        progress = True
            for u, cells in enumerate(UNIT_CELLS):
                blanks = [(i, self.free(i)) for i in cells if not self.digits[i]]
                seen, again = self.used[u], 0
                for _, options in blanks:
                    again |= seen & options
                    seen |= options
                if seen != FULL:  # a digit with nowhere to go
                    return False
                lone = FULL & ~again & ~self.used[u]
                for i, options in blanks:
                    if options & lone and not self.digits[i]:
                        digit = options & lone
                        if digit not in BITS or not self.free(i) & digit:
                            return False
                        self.put(i, BITS[digit])
                        progress = True
        return True


def solve(board: Board, guesses: list[int]) -> list[int] | None:
    if not board.fill_singles():
        return None
    blanks = [i for i in range(81) if not board.digits[i]]
    if not blanks:
        return board.digits
    cell = min(blanks, key=lambda i: bin(board.free(i)).count("1"))
    options = board.free(cell)
    while options:
        bit = options & -options
        options ^= bit
        guesses[0] += 1
        trial = board.copy()
        trial.put(cell, BITS[bit])
        if (found := solve(trial, guesses)) is not None:
            return found
    return None


def solve_text(text: str, guesses: list[int] | None = None) -> str | None:
    """The solution of an 81-character puzzle (`.` or `0` blank), or None."""
    found = solve(Board([0 if ch in ".0" else int(ch) for ch in text]), guesses or [0])
    return None if found is None else "".join(map(str, found))


def main() -> None:
    for path in sys.argv[1:]:
        lines = [line.strip() for line in open(path) if line.strip() and not line.startswith("#")]
        guesses = [0]
        started = time.perf_counter()
        solved = sum(solve_text(line, guesses) is not None for line in lines)
        seconds = time.perf_counter() - started
        print(
            f"{path}: {solved}/{len(lines)} solved, {len(lines) / seconds:.1f} puzzles/s, "
            f"{guesses[0] / len(lines):.1f} guesses a puzzle"
        )


if __name__ == "__main__":
    main()
