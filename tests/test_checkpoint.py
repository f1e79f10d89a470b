"""Checkpoints hold everything as tensors + JSON, load without running code, fail clearly."""

import os
import pickle

import pytest
import torch

from ganzoo.errors import CheckpointError
from ganzoo.training.checkpoint import load_checkpoint, save_checkpoint


def make_state():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, betas=(0.5, 0.999))
    net(torch.randn(8, 3)).sum().backward()
    opt.step()
    return (
        {
            "model": net.state_dict(),
            "optimizers": {"G": opt.state_dict()},
            "rng": torch.get_rng_state(),
            "step": 7,
            "order": {"epoch": 1, "position": 3},
        },
        net,
        opt,
    )


def test_round_trip_restores_every_tensor_and_value(tmp_path):
    state, net, opt = make_state()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, state, {"step": 7})
    loaded, info = load_checkpoint(path)
    assert info == {"step": 7} and loaded["step"] == 7 and loaded["order"] == {"epoch": 1, "position": 3}
    for key, value in state["model"].items():
        assert torch.equal(loaded["model"][key], value)
    assert torch.equal(loaded["rng"], state["rng"])
    opt2 = torch.optim.Adam(net.parameters(), lr=5.0)
    opt2.load_state_dict(loaded["optimizers"]["G"])  # int keys and betas survive JSON
    assert opt2.param_groups[0]["lr"] == 1e-3
    for k, v in opt.state_dict()["state"][0].items():
        assert torch.equal(opt2.state_dict()["state"][0][k], v)
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


class RunsCode:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_pickle_is_refused_without_running_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps({"weights": RunsCode()}, protocol=4))
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(path)
    assert not (tmp_path / "PWNED").exists()
    torch_file = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(2)}, torch_file)
    with pytest.raises(CheckpointError, match="pickle"):
        load_checkpoint(torch_file)


def test_truncated_and_tampered_files_get_clear_errors(tmp_path):
    state, _, _ = make_state()
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, state)
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(truncated)
    empty = tmp_path / "empty.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError):
        load_checkpoint(empty)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_foreign_safetensors_file_refused(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, str(path))
    with pytest.raises(CheckpointError, match="not a ganzoo checkpoint"):
        load_checkpoint(path)
