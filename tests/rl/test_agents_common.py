"""API contract of every agent that ``all_agents()`` returns (CONTRIBUTING.md, "Agents").

Each agent is constructed from an env id with the extra arguments of ``AGENT_KWARGS``
(an expert for DAgger/BC, ...) on the env of ``AGENT_ENVS`` (CartPole-v1 unless said
otherwise), and checked against Stable-Baselines3's tooling: callbacks,
``evaluate_policy``, ``EvalCallback``, ``CheckpointCallback``, save/load, seeding,
scikit-learn's ``clone``/``get_params``/``set_params``.
"""

import io
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from sklearn.base import clone
from stable_baselines3.common.callbacks import (
    BaseCallback,
    CallbackList,
    CheckpointCallback,
    EvalCallback,
    StopTrainingOnRewardThreshold,
)
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

from mlnotes.utils.discovery import all_agents



class ScriptedExpert:
    """A predict-only expert for BC/DAgger (CartPole: a linear controller scoring 500;
    Pendulum: a torque against the angle)."""

    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape[-1] == 4:
            return (obs @ np.array([0.5, 1.5, 20.0, 3.0]) > 0).astype(np.int64), state
        torque = -2.0 * obs[..., 1:2] - 0.5 * obs[..., 2:3]
        return np.clip(torque, -2.0, 2.0).astype(np.float32), state


# Extra constructor arguments per agent name (an expert for BC/DAgger, small batches).
AGENT_KWARGS = {
    "A2C": {},
    "AWAC": {"batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "BC": {"expert": ScriptedExpert(), "n_epochs": 2},
    "DAgger": {"expert": ScriptedExpert(), "steps_per_round": 32, "n_epochs": 2},
    "DDPG": {"learning_starts": 16, "batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "CQL": {"batch_size": 16, "n_action_samples": 2,
            "policy_kwargs": {"net_arch": [32, 32]}},
    "DiscreteCQL": {"batch_size": 16, "target_update_interval": 50},
    "DynaQ": {"n_planning_steps": 3},
    "DQN": {"learning_starts": 16, "buffer_size": 1000, "batch_size": 16},
    "IQL": {"batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "MBPO": {"learning_starts": 16, "batch_size": 16, "gradient_steps": 1,
             "model_train_freq": 32, "model_n_epochs": 1, "n_members": 2,
             "model_net_arch": (16,), "rollout_batch_size": 32,
             "policy_kwargs": {"net_arch": [32, 32]}},
    "NPG": {"n_steps": 32},
    "PETS": {"learning_starts": 16, "train_freq": 32, "n_epochs": 1,
             "policy_kwargs": {"net_arch": [16], "horizon": 3, "n_samples": 8, "n_elites": 2,
                               "n_iterations": 1, "n_particles": 5}},
    "PPO": {"n_steps": 32, "batch_size": 16},
    "QLearning": {},
    "SARSA": {},
    "REINFORCE": {"n_steps": 32},
    "SAC": {"learning_starts": 16, "batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "TD3": {"learning_starts": 16, "batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "TD3BC": {"batch_size": 16, "policy_kwargs": {"net_arch": [32, 32]}},
    "TRPO": {"n_steps": 32, "batch_size": 16},
}
# The env each agent is tested on (default CartPole-v1).
AGENT_ENVS = {"DynaQ": "Taxi-v4", "QLearning": "Taxi-v4", "SARSA": "Taxi-v4"}
# The policy each agent is built with (default "MlpPolicy").
AGENT_POLICIES = {"DynaQ": "TabularPolicy", "QLearning": "TabularPolicy",
                  "SARSA": "TabularPolicy"}
# Agents for Box actions only (their env above is Pendulum-v1; Discrete actions raise).
BOX_ONLY = ("AWAC", "CQL", "DDPG", "IQL", "MBPO", "PETS", "SAC", "TD3", "TD3BC")
AGENT_ENVS.update({name: "Pendulum-v1" for name in BOX_ONLY})
# A continuous-action env for the agents that support Box actions.
CONTINUOUS_ENVS = {
    "A2C": "Pendulum-v1",
    "BC": "Pendulum-v1",
    "DAgger": "Pendulum-v1",
    "NPG": "Pendulum-v1",
    "PPO": "Pendulum-v1",
    "REINFORCE": "Pendulum-v1",
    "TRPO": "Pendulum-v1",
}
# Agents that act for one environment only (model-predictive planners).
SINGLE_ENV = ("PETS",)
# Agents whose predict plans by sampling: a loaded agent restarts its planner's random
# stream, so its actions are not bit-identical (its weights are, which is checked).
SAMPLING_PLANNERS = ("PETS",)
# Steps of the short learn calls.
SHORT = 64

AGENTS = all_agents()
NAMES = [name for name, _ in AGENTS]


def unsaved_kwargs(name):
    """Constructor arguments a save file never holds (an expert): load() needs them."""
    cls = dict(AGENTS)[name]
    return {k: v for k, v in AGENT_KWARGS.get(name, {}).items() if k in cls._unsaved_params}


def make_agent(name, env=None, **kwargs):
    cls = dict(AGENTS)[name]
    env = AGENT_ENVS.get(name, "CartPole-v1") if env is None else env
    params = dict(AGENT_KWARGS.get(name, {}), seed=0, device="cpu")
    params.update(kwargs)
    return cls(AGENT_POLICIES.get(name, "MlpPolicy"), env, **params)


def state_equal(a, b):
    sa, sb = a.policy.state_dict(), b.policy.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class CountingCallback(BaseCallback):
    def __init__(self, stop_after=None):
        super().__init__()
        self.calls = 0
        self.stop_after = stop_after
        self.seen_locals = set()

    def _on_step(self):
        self.calls += 1
        self.seen_locals |= set(self.locals)
        return self.stop_after is None or self.calls < self.stop_after


def test_all_agents_finds_the_agents():
    assert "A2C" in NAMES
    for name, _ in AGENTS:
        assert name in AGENT_KWARGS, f"add {name} to AGENT_KWARGS"


@pytest.mark.parametrize("name", NAMES)
def test_learn_from_env_id_with_callback(name):
    agent = make_agent(name)
    callback = CountingCallback()
    assert agent.learn(SHORT, callback=callback) is agent
    assert agent.num_timesteps >= SHORT
    assert callback.calls * agent.n_envs == agent.num_timesteps
    assert {"dones", "infos", "rewards", "new_obs", "actions",
            "total_timesteps"} <= callback.seen_locals
    assert agent.logger is not None
    assert agent.get_env() is getattr(agent.env, "venv", agent.env)
    assert agent.env.num_envs == agent.n_envs


@pytest.mark.parametrize("name", NAMES)
def test_callback_returning_false_stops_training(name):
    agent = make_agent(name)
    callback = CountingCallback(stop_after=3)
    agent.learn(10 * SHORT, callback=callback)
    assert callback.calls == 3
    assert agent.num_timesteps == 3 * agent.n_envs


@pytest.mark.parametrize("name", NAMES)
def test_callback_list_function_and_progress_bar(name):
    agent = make_agent(name)
    calls = []

    def fn(locals_, globals_):
        calls.append(1)
        return True

    agent.learn(16, callback=fn, progress_bar=True)
    assert len(calls) == agent.num_timesteps // agent.n_envs
    first, second = CountingCallback(), CountingCallback()
    agent.learn(16, callback=[first, second])
    assert first.calls == second.calls == agent.num_timesteps // agent.n_envs


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("continuous", [False, True])
def test_predict_shapes(name, continuous):
    if continuous and name not in CONTINUOUS_ENVS:
        pytest.skip(f"{name} has no continuous-action env")
    agent = make_agent(name, CONTINUOUS_ENVS[name] if continuous else None)
    agent.learn(SHORT)
    space, act_space = agent.observation_space, agent.action_space
    one = space.sample()
    action, state = agent.predict(one)
    assert state is None and isinstance(action, np.ndarray)
    assert action.shape == act_space.shape
    batch = np.stack([space.sample() for _ in range(5)])
    for deterministic in (False, True):
        actions, _ = agent.predict(batch, deterministic=deterministic)
        assert actions.shape == (5, *act_space.shape)
        assert all(act_space.contains(a.astype(act_space.dtype)) for a in actions)
    vec_obs = agent.env.reset()
    actions, _ = agent.predict(vec_obs, deterministic=True)
    assert actions.shape == (agent.n_envs, *act_space.shape)


@pytest.mark.parametrize("name", NAMES)
def test_predict_rejects_wrong_shape(name):
    agent = make_agent(name)
    if isinstance(agent.observation_space, spaces.Discrete):  # tabular agents
        with pytest.raises(ValueError, match="Unexpected observation shape"):
            agent.predict(np.zeros((2, 3), dtype=np.int64))
        return
    bad = np.zeros(agent.observation_space.shape[0] + 1, dtype=np.float32)
    with pytest.raises(ValueError, match="Unexpected observation shape"):
        agent.predict(bad)
    with pytest.raises(ValueError, match="Unexpected observation shape"):
        agent.predict(np.zeros((2, 3, 7), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        agent.predict(np.full(agent.observation_space.shape, np.nan, dtype=np.float32))


@pytest.mark.parametrize("name", NAMES)
def test_evaluate_policy(name):
    agent = make_agent(name).learn(SHORT)
    env = gym.make(AGENT_ENVS.get(name, "CartPole-v1"))
    mean, std = evaluate_policy(agent, env, n_eval_episodes=2)
    assert np.isfinite(mean) and np.isfinite(std)
    if env.spec.id == "CartPole-v1":
        assert mean > 0
    rewards, lengths = evaluate_policy(agent, agent.get_env(), n_eval_episodes=2,
                                       return_episode_rewards=True)
    assert len(rewards) == len(lengths) == 2


@pytest.mark.parametrize("name", NAMES)
def test_eval_and_checkpoint_callbacks(name, tmp_path):
    agent = make_agent(name)
    eval_env = make_vec_env(AGENT_ENVS.get(name, "CartPole-v1"), n_envs=1, seed=1)
    stop = StopTrainingOnRewardThreshold(reward_threshold=1e9)
    eval_cb = EvalCallback(eval_env, eval_freq=8, n_eval_episodes=1, verbose=0,
                           best_model_save_path=str(tmp_path / "best"),
                           log_path=str(tmp_path / "eval"), callback_on_new_best=stop)
    ckpt = CheckpointCallback(save_freq=8, save_path=str(tmp_path / "ckpt"),
                              name_prefix="agent")
    agent.learn(4 * 8 * agent.n_envs, callback=CallbackList([eval_cb, ckpt]))
    assert eval_cb.n_calls > 0 and np.isfinite(eval_cb.last_mean_reward)
    assert (tmp_path / "best" / "best_model.zip").is_file()
    files = sorted((tmp_path / "ckpt").glob("agent_*_steps.zip"))
    assert files, "CheckpointCallback wrote nothing"
    loaded = type(agent).load(files[-1])
    obs = np.stack([agent.observation_space.sample() for _ in range(4)])
    assert loaded.predict(obs, deterministic=True)[0].shape[0] == 4


@pytest.mark.parametrize("name", NAMES)
def test_stop_training_on_reward_threshold(name):
    agent = make_agent(name)
    eval_env = make_vec_env(AGENT_ENVS.get(name, "CartPole-v1"), n_envs=1, seed=1)
    stop = StopTrainingOnRewardThreshold(reward_threshold=-1e9)  # any reward stops
    eval_cb = EvalCallback(eval_env, eval_freq=4, n_eval_episodes=1, verbose=0,
                           callback_on_new_best=stop)
    agent.learn(100 * SHORT, callback=eval_cb)
    assert agent.num_timesteps == 4 * agent.n_envs


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("continuous", [False, True])
def test_save_load_round_trip(name, continuous, tmp_path):
    if continuous and name not in CONTINUOUS_ENVS:
        pytest.skip(f"{name} has no continuous-action env")
    agent = make_agent(name, CONTINUOUS_ENVS[name] if continuous else None).learn(SHORT)
    agent.save(tmp_path / "agent")
    assert (tmp_path / "agent.zip").is_file()
    loaded = type(agent).load(tmp_path / "agent", **unsaved_kwargs(name))
    obs = np.stack([agent.observation_space.sample() for _ in range(20)])
    if name not in SAMPLING_PLANNERS:
        np.testing.assert_array_equal(agent.predict(obs, deterministic=True)[0],
                                      loaded.predict(obs, deterministic=True)[0])
    assert state_equal(agent, loaded)
    assert loaded.num_timesteps == agent.num_timesteps
    assert loaded.observation_space == agent.observation_space
    assert loaded.action_space == agent.action_space
    original = {k: v for k, v in agent.get_params().items() if k not in ("env", "device")}
    restored = {k: v for k, v in loaded.get_params().items() if k not in ("env", "device")}
    assert restored == original
    # optimiser state survives too, and a loaded agent continues learning with an env
    if agent.policy.optimizer is not None:  # tabular agents have none
        opt_a = agent.policy.optimizer.state_dict()["state"]
        opt_b = loaded.policy.optimizer.state_dict()["state"]
        assert opt_a.keys() == opt_b.keys()
    params_a, params_b = agent.get_parameters(), loaded.get_parameters()
    for key in params_a:  # every optimiser (actor.optimizer, critic.optimizer, ...)
        if key.endswith("optimizer"):
            assert params_a[key]["state"].keys() == params_b[key]["state"].keys()
    loaded.set_env(agent.get_env())
    loaded.learn(SHORT, reset_num_timesteps=False)
    assert loaded.num_timesteps >= agent.num_timesteps + SHORT
    # file-like objects work as well
    buffer = io.BytesIO()
    agent.save(buffer)
    buffer.seek(0)
    again = type(agent).load(buffer, env=AGENT_ENVS.get(name, "CartPole-v1")
                             if not continuous else CONTINUOUS_ENVS[name])
    assert state_equal(agent, again)


@pytest.mark.parametrize("name", NAMES)
def test_get_and_set_parameters(name):
    a, b = make_agent(name).learn(SHORT), make_agent(name, seed=1)
    assert not state_equal(a, b)
    b.set_parameters(a.get_parameters())
    assert state_equal(a, b)
    with pytest.raises(ValueError, match="Unknown parameter groups"):
        b.set_parameters({"nonsense": {}})


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_result(name):
    a = make_agent(name, seed=3).learn(SHORT)
    b = make_agent(name, seed=3).learn(SHORT)
    c = make_agent(name, seed=4).learn(SHORT)
    assert state_equal(a, b)
    assert not state_equal(a, c)


@pytest.mark.parametrize("name", NAMES)
def test_clone_gives_untrained_agent_with_same_params(name):
    env = make_vec_env(AGENT_ENVS.get(name, "CartPole-v1"),
                       n_envs=1 if name in SINGLE_ENV else 2, seed=0)
    agent = make_agent(name, env=env).learn(SHORT)
    copy = clone(agent)
    assert type(copy) is type(agent) and copy is not agent
    assert copy.num_timesteps == 0
    assert copy.get_params()["env"] is env
    params, copy_params = agent.get_params(), copy.get_params()
    assert params.keys() == copy_params.keys()
    assert all(copy_params[k] is params[k] for k in params)
    fresh = make_agent(name, env=env)
    assert state_equal(copy, fresh)  # untrained: the initial weights of that seed
    assert not state_equal(copy, agent)


@pytest.mark.parametrize("name", NAMES)
def test_get_params_and_set_params(name):
    agent = make_agent(name)
    params = agent.get_params()
    assert params["policy"] == AGENT_POLICIES.get(name, "MlpPolicy")
    assert params["env"] == AGENT_ENVS.get(name, "CartPole-v1")
    assert params["seed"] == 0
    assert all(not k.startswith("_") for k in params)
    assert agent.get_params(deep=True) == params
    assert agent.set_params(seed=5) is agent
    assert agent.get_params()["seed"] == 5 and agent.seed == 5
    assert state_equal(agent, make_agent(name, seed=5))
    with pytest.raises(ValueError, match="Invalid parameters"):
        agent.set_params(not_a_parameter=1)


@pytest.mark.parametrize("name", NAMES)
def test_corrupted_or_foreign_file_raises(name, tmp_path):
    cls = dict(AGENTS)[name]
    agent = make_agent(name)
    agent.save(tmp_path / "good.zip")
    data = (tmp_path / "good.zip").read_bytes()
    (tmp_path / "truncated.zip").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.zip").write_bytes(b"this is not a zip file at all")
    with zipfile.ZipFile(tmp_path / "foreign.zip", "w") as z:
        z.writestr("data", "{}")
    flipped = bytearray(data)
    mid = len(flipped) // 2
    flipped[mid:mid + 64] = bytes(64)
    (tmp_path / "flipped.zip").write_bytes(bytes(flipped))
    for bad in ("truncated", "garbage", "foreign", "flipped"):
        with pytest.raises(ValueError):
            cls.load(tmp_path / f"{bad}.zip")
    with pytest.raises(FileNotFoundError):
        cls.load(tmp_path / "missing.zip")


class DictObsEnv(gym.Env):
    observation_space = spaces.Dict({"a": spaces.Box(-1, 1, (2,)), "b": spaces.Discrete(3)})
    action_space = spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, True, False, {}


class MultiBinaryActEnv(DictObsEnv):
    observation_space = spaces.Box(-1, 1, (2,))
    action_space = spaces.MultiBinary(3)


class ShiftedDiscreteActEnv(DictObsEnv):
    observation_space = spaces.Box(-1, 1, (2,))
    action_space = spaces.Discrete(3, start=1)


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_spaces_raise_at_construction(name):
    with pytest.raises(ValueError, match="observation space"):
        make_agent(name, env=DictObsEnv())
    with pytest.raises(ValueError, match="action space"):
        make_agent(name, env=MultiBinaryActEnv())
    with pytest.raises(ValueError,
                       match="action space" if name in BOX_ONLY else "must start at 0"):
        make_agent(name, env=ShiftedDiscreteActEnv())


@pytest.mark.parametrize("name", [n for n in NAMES if n in BOX_ONLY])
def test_box_only_agents_reject_discrete_actions(name):
    with pytest.raises(ValueError, match=f"{name} does not support the action space "
                                         "Discrete.*supported action spaces are Box"):
        make_agent(name, env="CartPole-v1")


@pytest.mark.parametrize("name", NAMES)
def test_vec_normalize_env_is_returned(name):
    if name in AGENT_POLICIES:  # VecNormalize supports Box and Dict observations only
        pytest.skip("VecNormalize does not support Discrete observations")
    env = VecNormalize(make_vec_env(AGENT_ENVS.get(name, "CartPole-v1"),
                                    n_envs=1 if name in SINGLE_ENV else 2, seed=0))
    agent = make_agent(name, env=env)
    assert agent.get_vec_normalize_env() is env
    agent.learn(SHORT)
    assert make_agent(name).get_vec_normalize_env() is None
