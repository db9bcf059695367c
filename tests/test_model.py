import numpy as np
import pytest
import torch
from conftest import numpy_copy, tiny_model

from rmdm_cli.checkpoint import WeightsError, load_numpy_weights, load_weights, save_weights
from rmdm_cli.config import ModelConfig
from rmdm_cli.model import RecursiveDenoiser
from rmdm_cli.numpy_model import parameter_shapes
from rmdm_cli.tasks.sudoku import parse_grid

TOKENS = torch.tensor([parse_grid("003020600900305001001806400008102900700000008006708200002609500800203009005010300")])


def test_forward_at_any_depth():
    model = tiny_model(depth=2)
    outputs = {depth: model(TOKENS, depth) for depth in (1, 2, 7)}
    assert all(out.shape == (1, 81, 10) for out in outputs.values())
    assert not torch.allclose(outputs[1], outputs[7])  # depth is used, not ignored
    assert torch.equal(model(TOKENS), outputs[2])  # default: the trained depth


def test_recursion_reinjects_the_input():
    model = tiny_model()
    x = model.embed(TOKENS)
    h1 = model.recurse(x, torch.zeros_like(x), 1)
    assert torch.allclose(model.recurse(x, h1, 1), model.recurse(x, torch.zeros_like(x), 2))
    assert not torch.allclose(model.recurse(torch.zeros_like(x), h1, 1), model.recurse(x, h1, 1))


def test_checkpoint_round_trip_gives_identical_logits(tmp_path):
    model = tiny_model()
    with torch.no_grad():  # the file stores 16 bits: compare against the same rounding
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
    path = tmp_path / "m.safetensors"
    save_weights(path, model, "sudoku", {"steps": 3}, {"depth": 2, "steps": 8})
    loaded, header = load_weights(path, "sudoku")
    assert header["training"] == {"steps": 3} and header["config"]["width"] == 16
    assert torch.equal(loaded(TOKENS, 3), model(TOKENS, 3))


@pytest.mark.parametrize("load", [load_weights, load_numpy_weights])
def test_weights_errors_name_the_file(tmp_path, tiny_weights, load):
    cases = {}
    cases["missing"] = (tmp_path / "none.safetensors", "no such weights file")
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(tiny_weights.read_bytes()[:200])
    cases["truncated"] = (truncated, "not a readable safetensors file")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"this is not a model")
    cases["garbage"] = (garbage, "not a readable safetensors file")
    from safetensors.torch import save_file

    bare = tmp_path / "bare.safetensors"
    save_file({"w": torch.zeros(2)}, str(bare))
    cases["bare"] = (bare, "without rmdm metadata")
    for path, message in cases.values():
        with pytest.raises(WeightsError, match=message) as error:
            load(path, "sudoku")
        assert str(path) in str(error.value)
    with pytest.raises(WeightsError, match="for task 'sudoku', not 'countdown'"):
        load(tiny_weights, "countdown")


def test_weights_for_another_encoding_are_refused(tmp_path):
    from dataclasses import replace as replace_config

    model = tiny_model(task="countdown")
    older = RecursiveDenoiser(replace_config(model.config, seq_len=70, vocab_size=16, position_groups=()))
    path = tmp_path / "old-countdown.safetensors"
    save_weights(path, older, "countdown", {}, {"depth": 2, "steps": 70})
    with pytest.raises(
        WeightsError,
        match=(
            "made for another encoding of countdown .70 tokens, vocabulary "
            "16, 0 position groups. than this version.s .46 tokens"
        ),
    ) as error:
        load_weights(path, "countdown")
    assert str(path) in str(error.value)


@pytest.mark.parametrize("load", [load_weights, load_numpy_weights])
def test_shape_mismatch_is_reported(tmp_path, load):
    import json

    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    path = tmp_path / "m.safetensors"
    save_weights(path, tiny_model(), "sudoku", {}, {"depth": 2, "steps": 8})
    with safe_open(str(path), framework="pt") as handle:
        header = json.loads(handle.metadata()["rmdm"])
    header["config"]["mlp_ratio"] = 2
    save_file(load_file(str(path)), str(path), metadata={"rmdm": json.dumps(header)})
    with pytest.raises(WeightsError, match="has shape"):
        load(path, "sudoku")


def test_position_groups_share_embeddings_and_survive_a_checkpoint(tmp_path):
    from rmdm_cli.tasks.countdown import EQUATION_WIDTH, PROMPT_LEN, Countdown

    _, places, fields = Countdown.position_groups
    # The units digit of the first number and of the first equation's result share a place id.
    units = PROMPT_LEN + EQUATION_WIDTH - 1
    assert places[2] == places[units] == 1 and fields[2] != fields[units]
    model = tiny_model(task="countdown")
    assert model.config.position_groups == Countdown.position_groups
    tokens = torch.tensor([Countdown().encode(Countdown().parse("86,28,13,31,96"))])
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(parameter.half().float())
        before = model(tokens)
        model.group_embeddings[0].weight.zero_()
        assert not torch.allclose(model(tokens), before)  # the groups are part of the embedding
    path = tmp_path / "m.safetensors"
    save_weights(path, model, "countdown", {}, {"depth": 2, "steps": 8})
    loaded, _ = load_weights(path, "countdown")  # the header's JSON lists come back as the same config
    assert loaded.config == model.config and torch.equal(loaded(tokens), model(tokens))


def test_without_reinjection_the_input_enters_once():
    from dataclasses import replace as replace_config

    model = tiny_model()
    plain = RecursiveDenoiser(replace_config(model.config, reinject=False))
    plain.load_state_dict(model.state_dict())
    x = model.embed(TOKENS)
    h1 = plain.recurse(x, plain.initial_state(x), 1)
    assert torch.allclose(h1, model.recurse(x, model.initial_state(x), 1))  # the first iteration is the same
    assert torch.allclose(plain.recurse(x, h1, 1), plain.recurse(x, plain.initial_state(x), 2))
    assert not torch.allclose(plain(TOKENS, 2), model(TOKENS, 2))  # later iterations see no input


@pytest.mark.parametrize(
    ("task", "reinject"), [("sudoku", True), ("sudoku", False), ("countdown", True), ("countdown", False)]
)
def test_the_numpy_copy_computes_the_same_logits(task, reinject):
    from dataclasses import replace as replace_config

    from rmdm_cli.tasks import get_task

    torch.manual_seed(1)
    config = replace_config(tiny_model(task=task).config, reinject=reinject)
    model = RecursiveDenoiser(config).eval()
    spec = get_task(task)
    line = (
        "86,28,13,31,96"
        if task == "countdown"
        else "003020600900305001001806400008102900700000008006708200002609500800203009005010300"
    )
    tokens = torch.tensor([spec.encode(spec.parse(line))] * 2)
    assert dict(parameter_shapes(model.config)) == {name: tuple(t.shape) for name, t in model.state_dict().items()}
    copy = numpy_copy(model)
    assert copy.parameter_count() == model.parameter_count()
    x, h = copy.start(tokens.numpy())
    first = copy.advance(x, h, None, 1)
    second_row_on = copy.advance(x, h, np.array([1]), 2)  # in place: row 1 is now 3 iterations deep
    with torch.no_grad():
        assert torch.allclose(torch.from_numpy(first), model(tokens, 1), atol=1e-5)
        assert torch.allclose(torch.from_numpy(second_row_on), model(tokens[1:], 3), atol=1e-5)


def test_forward_flops_counts_every_matmul_of_a_forward_pass():
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    config = ModelConfig(vocab_size=10, seq_len=81, width=32, heads=4, depth=3)
    model = RecursiveDenoiser(config)
    # the math kernel computes attention with matmuls the counter sees (the CPU's flash kernel it does not)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        model(torch.zeros(2, 81, dtype=torch.long), 3)
    assert counter.get_total_flops() == 2 * config.forward_flops(3)
