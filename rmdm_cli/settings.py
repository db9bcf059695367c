"""How a batch is solved: the sampler's settings or the verified search's, each with its own
defaults from the weights. Settings left None take the weights' stored defaults."""

from __future__ import annotations

from dataclasses import dataclass, replace

SEARCH_BUDGET = 4000  # forward passes a searched puzzle may spend (docs/inference.md: well above what the sets need)
# The search asks the model once, about where the rules first stall (Sudoku's once its rules have
# made a few guesses): those first predictions order the later choices about as well as fresh
# ones, at a fraction of the passes (docs/inference.md).
SEARCH_STEPS = 1


@dataclass(frozen=True)
class SamplerSettings:
    """Iterative unmasking (sampler.py); the threshold and adaptive depth, left unset, take the
    weights' stored defaults unless `fixed`."""

    depth: int | None = None  # block-stack applications per denoising step
    steps: int | None = None  # denoising rounds (upper bound with a threshold)
    order: str = "confidence"  # which open tokens a round commits first
    threshold: float | None = None  # also commit every open token at least this confident
    adaptive_depth: bool = False  # stop recursing once the open tokens' predictions are stable
    fixed: bool = False  # ignore the threshold and adaptive depth the weights store
    give_up: bool = False  # stop a puzzle once its committed tokens rule out every solution (the task's dead_end)
    retries: int = 0  # re-runs of puzzles the checker rejects, each with a sampled commit order
    seed: int = 0  # for the random and sampled commit orders

    def with_defaults(self, defaults: dict) -> SamplerSettings:
        stored = {} if self.fixed else defaults
        return replace(
            self,
            depth=self.depth or defaults["depth"],
            steps=self.steps or defaults["steps"],
            threshold=stored.get("threshold") if self.threshold is None else self.threshold,
            adaptive_depth=self.adaptive_depth or stored.get("adaptive_depth", False),
        )


@dataclass(frozen=True)
class SearchSettings:
    """The verified search (search.py)."""

    depth: int | None = None  # block-stack applications per model call (default: the weights' search_depth)
    steps: int | None = None  # the model is asked again once another 1/steps of the blanks is filled
    budget: int = SEARCH_BUDGET  # forward passes a puzzle may spend
    uniform: bool = False  # uniform predictions instead of the model's: the rules alone guide it

    def with_defaults(self, defaults: dict) -> SearchSettings:
        depth = self.depth or defaults.get("search_depth", defaults["depth"])
        return replace(self, depth=depth, steps=self.steps or SEARCH_STEPS)


Settings = SamplerSettings | SearchSettings
