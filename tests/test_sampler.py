import numpy as np
import pytest
import torch
from conftest import benchmark_lines, numpy_copy, tiny_model

from rmdm_cli.sampler import denoise, unmask
from rmdm_cli.tasks.sudoku import parse_grid

PUZZLES = np.array([parse_grid(line) for line in benchmark_lines("easy50.txt", 4)])

# The sampler runs the same on the torch model and on its NumPy copy.
ENGINES = {"torch": lambda model: model, "numpy": numpy_copy}


@pytest.fixture(params=list(ENGINES))
def engine(request):
    return ENGINES[request.param]


@pytest.mark.parametrize("steps", [1, 5, 81])
@pytest.mark.parametrize("order", ["confidence", "sampled"])
def test_commits_everything_within_steps_and_keeps_givens(steps, order, engine):
    model = engine(tiny_model())
    states = list(unmask(model, PUZZLES, steps, depth=2, order=order, rng=np.random.default_rng(0)))
    final = states[-1]
    assert len(states) <= steps
    assert (final.tokens != 0).all()
    givens = PUZZLES != 0
    assert np.array_equal(final.tokens[givens], PUZZLES[givens])
    open_counts = (PUZZLES == 0).sum(1)
    rounds = np.minimum(open_counts, steps)  # one commit per round at least
    assert np.array_equal(final.forward_passes, rounds * 2)


def nonlinear_model():
    """A tiny model whose blocks change its predictions: at the usual initial scale the hidden
    state is nearly a multiple of the embedding, and the output norm hides where it started."""
    model = tiny_model()
    with torch.no_grad():
        for parameter in model.blocks.parameters():
            parameter.mul_(30)
    return model


def test_each_round_starts_from_the_initial_state(engine):
    torch_model = nonlinear_model()
    final = list(unmask(engine(torch_model), PUZZLES, 3, depth=2))[-1].tokens
    # the same three rounds written out: commit the most confident third, half, then the rest
    tokens = torch.tensor(PUZZLES)
    with torch.no_grad():
        for rounds_left in (3, 2, 1):
            x = torch_model.embed(tokens)
            h = torch_model.recurse(x, torch_model.initial_state(x), 2)
            logits = torch_model.logits(h)
            logits[..., 0] = float("-inf")
            confidence, prediction = logits.softmax(-1).max(-1)
            is_open = tokens == 0
            quota = (is_open.sum(1) + rounds_left - 1) // rounds_left
            rank = (-confidence.masked_fill(~is_open, float("-inf"))).argsort(dim=1, stable=True).argsort(dim=1)
            commit = (rank < quota[:, None]) & is_open
            tokens = torch.where(commit, prediction, tokens)
    assert np.array_equal(final, tokens.numpy())


def test_states_only_ever_commit(engine):
    model = engine(tiny_model())
    previous = PUZZLES
    for state in unmask(model, PUZZLES, 10, depth=1):
        committed_before = previous != 0
        assert np.array_equal(state.tokens[committed_before], previous[committed_before])
        assert (state.tokens != 0).sum() > (previous != 0).sum()
        previous = state.tokens.copy()


def test_finished_puzzles_leave_the_batch(engine):
    from rmdm_cli.tasks.sudoku import solve_exact

    (solution,) = solve_exact(PUZZLES[0].tolist())
    full_but_one = np.array(solution)
    full_but_one[0] = 0
    state = list(unmask(engine(tiny_model()), np.stack([full_but_one, PUZZLES[1]]), steps=40, depth=3))[-1]
    assert state.forward_passes.tolist() == [3, 3 * 40]


def test_rejects_zero_depth():
    with pytest.raises(ValueError):
        list(unmask(tiny_model(), PUZZLES, 4, depth=0))


def test_threshold_commits_confident_cells_early(engine):
    model = engine(tiny_model())
    everything = list(unmask(model, PUZZLES, 50, depth=1, threshold=0.0))
    assert len(everything) == 1 and (everything[-1].tokens != 0).all()
    never = list(unmask(model, PUZZLES, 50, depth=1, threshold=1.0))
    assert len(never) == 50  # no cell is certain: one quota per round, as without a threshold


def test_adaptive_depth_stops_early_with_the_logits_of_that_depth(engine):
    model = tiny_model(depth=2)
    is_open = PUZZLES == 0
    denoiser = engine(model)
    x, h = denoiser.start(PUZZLES)
    logits, used = denoise(denoiser, x, h, is_open, 12, adaptive_depth=True)
    assert used.min() >= 2 and used.max() <= 12  # two iterations are needed to see stability
    with torch.no_grad():
        for row, depth in enumerate(used.tolist()):
            tokens = torch.tensor(PUZZLES[row : row + 1])
            assert np.allclose(logits[row], model(tokens, depth)[0].numpy(), atol=1e-4)
            if depth < 12:  # stopped: the open cells' argmax did not change in the last iteration
                before = model(tokens, depth - 1)[0].argmax(-1).numpy()
                assert np.array_equal(before[is_open[row]], logits[row].argmax(-1)[is_open[row]])


def test_adaptive_depth_counts_the_passes_it_used(engine):
    model = engine(tiny_model(depth=2))
    fixed = list(unmask(model, PUZZLES, 6, depth=12))[-1].forward_passes
    adaptive = list(unmask(model, PUZZLES, 6, depth=12, adaptive_depth=True))[-1].forward_passes
    assert (adaptive <= fixed).all() and (adaptive < fixed).any() and (adaptive >= 2 * 6).all()


def test_dead_end_puzzles_are_committed_at_once(engine):
    model = engine(tiny_model())

    def flag_second(tokens):  # the sampler passes only the puzzles still open
        return np.arange(len(tokens)) == 1 if len(tokens) == len(PUZZLES) else np.zeros(len(tokens), dtype=bool)

    states = [
        (state.tokens.copy(), state.forward_passes.copy())
        for state in unmask(model, PUZZLES, 10, depth=2, dead_end=flag_second)
    ]
    first_tokens, _ = states[0]
    last_tokens, passes = states[-1]
    assert (first_tokens[1] != 0).all() and (first_tokens[0] == 0).any()
    assert (last_tokens != 0).all() and passes.tolist() == [20, 2, 20, 20]
