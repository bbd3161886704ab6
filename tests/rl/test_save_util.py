"""The agent save format: JSON + torch tensors in one zip, no code executed on load."""

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from gymnasium import spaces
from torch import nn

from mlnotes.rl import A2C
from mlnotes.rl.common import LinearSchedule, ConstantSchedule
from mlnotes.rl.common import save_util


def _rewrite(src, dst, edit_meta=None, replace=None):
    """Copy a save file, editing its JSON metadata or replacing members."""
    replace = replace or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == save_util.META and edit_meta is not None:
                meta = json.loads(data)
                edit_meta(meta)
                data = json.dumps(meta).encode()
            zout.writestr(name, replace.get(name, data))


@pytest.fixture
def saved(tmp_path):
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                learning_rate=LinearSchedule(1e-3, 1e-4, 0.5),
                policy_kwargs=dict(net_arch=dict(pi=[16], vf=[8]), activation_fn=nn.ReLU,
                                   optimizer_kwargs=dict(alpha=0.9)))
    agent.learn(40)
    agent.save(tmp_path / "agent.zip")
    return agent, tmp_path / "agent.zip"


def test_archive_layout(saved):
    _, path = saved
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        meta = json.loads(z.read(save_util.META))
    # the last observation is kept as SB3 does (load(force_reset=False) continues)
    assert names == {save_util.META, "policy.pth", "policy.optimizer.pth", "rollout_state.pth"}
    assert meta["format"] == save_util.FORMAT
    assert meta["agent_class"] == "mlnotes.rl.actor_critic._a2c.A2C"
    assert "env" not in meta["params"] and "device" not in meta["params"]
    assert meta["observation_space"]["type"] == "Box"
    assert meta["action_space"] == {"type": "Discrete", "n": 2, "start": 0}
    # hyperparameters readable as plain JSON
    assert meta["params"]["n_steps"] == 5 and meta["params"]["policy"] == "MlpPolicy"


def test_schedule_and_classes_round_trip(saved):
    agent, path = saved
    loaded = A2C.load(path)
    assert loaded.learning_rate == LinearSchedule(1e-3, 1e-4, 0.5)
    assert loaded.policy_kwargs["activation_fn"] is nn.ReLU
    assert loaded.policy_kwargs["net_arch"] == dict(pi=[16], vf=[8])
    assert isinstance(loaded.policy.optimizer, torch.optim.RMSprop)
    assert loaded.policy.optimizer.param_groups[0]["alpha"] == 0.9


def test_foreign_callable_needs_custom_objects(tmp_path):
    def my_schedule(progress):
        return 1e-3 * progress

    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, learning_rate=my_schedule, device="cpu")
    agent.save(tmp_path / "a.zip")
    with pytest.raises(ValueError, match="custom_objects"):
        A2C.load(tmp_path / "a.zip")
    loaded = A2C.load(tmp_path / "a.zip", custom_objects={"learning_rate": my_schedule})
    assert loaded.learning_rate is my_schedule
    loaded = A2C.load(tmp_path / "a.zip", custom_objects={"lr_schedule": 3e-4})
    assert loaded.learning_rate == 3e-4


class _ForeignActivation(nn.Tanh):
    """An activation class from outside the allow-list (this test module)."""


def test_class_outside_allow_list_needs_custom_objects(tmp_path):
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu",
                policy_kwargs=dict(activation_fn=_ForeignActivation))
    agent.save(tmp_path / "a.zip")
    with pytest.raises(ValueError, match="policy_kwargs"):
        A2C.load(tmp_path / "a.zip")
    loaded = A2C.load(tmp_path / "a.zip", custom_objects={
        "policy_kwargs": dict(activation_fn=_ForeignActivation)})
    obs = np.zeros((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                  loaded.predict(obs, deterministic=True)[0])


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen",
                                  "torch.load", "numpy.load"])
def test_import_refuses_names_outside_allow_list(name):
    with pytest.raises(ValueError, match="allowed packages"):
        save_util.import_allowed(name)


def test_tampered_class_name_is_refused(saved, tmp_path):
    _, path = saved

    def edit(meta):
        meta["params"]["policy_kwargs"]["items"]["activation_fn"]["name"] = "os.system"

    _rewrite(path, tmp_path / "bad.zip", edit_meta=edit)
    with pytest.raises(ValueError, match="allowed packages"):
        A2C.load(tmp_path / "bad.zip")

    def edit_fn(meta):  # an allowed module, but not a class
        meta["params"]["policy_kwargs"]["items"]["activation_fn"]["name"] = "torch.nn.init.zeros_"

    _rewrite(path, tmp_path / "bad2.zip", edit_meta=edit_fn)
    with pytest.raises(ValueError, match="not a class"):
        A2C.load(tmp_path / "bad2.zip")


class _Payload:
    def __reduce__(self):
        return (print, ("code executed from the save file",))


def test_pickled_objects_in_tensor_files_are_refused(saved, tmp_path, capsys):
    _, path = saved
    buffer = io.BytesIO()
    torch.save({"x": _Payload()}, buffer)
    _rewrite(path, tmp_path / "evil.zip", replace={"policy.pth": buffer.getvalue()})
    with pytest.raises(ValueError, match="policy.pth"):
        A2C.load(tmp_path / "evil.zip")
    assert "code executed" not in capsys.readouterr().out


def test_wrong_agent_class_and_version(saved, tmp_path):
    _, path = saved
    _rewrite(path, tmp_path / "other.zip",
             edit_meta=lambda m: m.update(agent_class="mlnotes.rl.Other"))
    with pytest.raises(ValueError, match="Other agent"):
        A2C.load(tmp_path / "other.zip")
    _rewrite(path, tmp_path / "future.zip", edit_meta=lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="version"):
        A2C.load(tmp_path / "future.zip")
    _rewrite(path, tmp_path / "notjson.zip", replace={save_util.META: b"\x00{not json"})
    with pytest.raises(ValueError, match="metadata"):
        A2C.load(tmp_path / "notjson.zip")


def test_tensors_that_do_not_fit_are_refused(saved, tmp_path):
    _, path = saved
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(3)}, buffer)
    _rewrite(path, tmp_path / "wrong.zip", replace={"policy.pth": buffer.getvalue()})
    with pytest.raises(ValueError, match="do not fit"):
        A2C.load(tmp_path / "wrong.zip")


def test_load_with_env_checks_spaces(saved):
    _, path = saved
    with pytest.raises(ValueError, match="spaces do not match"):
        A2C.load(path, env="Pendulum-v1")
    agent = A2C.load(path, env="CartPole-v1")
    agent.learn(10)


@pytest.mark.parametrize("space", [
    spaces.Box(-np.inf, np.inf, (3,), np.float32),
    spaces.Box(np.array([-1.0, 0.0]), np.array([2.0, 5.0]), dtype=np.float64),
    spaces.Box(0, 255, (2, 3), np.uint8),
    spaces.Discrete(7, start=-2),
])
def test_space_encoding_round_trip(space):
    data = json.loads(json.dumps(save_util.encode_space(space)))
    assert save_util.decode_space(data) == space


def test_encode_decode_values():
    value = {"a": (1, 2.5, None), "b": [True, "x"], "c": nn.Tanh, "d": ConstantSchedule(2.0),
             "e": float("inf")}
    data, ok = save_util.encode(value)
    assert ok
    assert save_util.decode(json.loads(json.dumps(data))) == value
    _, ok = save_util.encode({"f": lambda x: x})
    assert not ok
