"""Stable-Baselines3 surface of the agents (issue 11): set_env checks, save's
exclude/include, policy save/load, torch.compile, non-finite env output, bad dtypes,
A2C's defaults."""

import inspect
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C as SB3_A2C
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from mlnotes.rl import A2C, BC, DAgger, NPG, REINFORCE
from mlnotes.rl.common import ActorCriticPolicy, save_util


class CartPoleExpert:
    def predict(self, obs, state=None, episode_start=None, deterministic=True):
        obs = np.asarray(obs, dtype=np.float64)
        return (obs @ np.array([0.5, 1.5, 20.0, 3.0]) > 0).astype(np.int64), state


def _agent(cls, env, **kwargs):
    extra = {"A2C": {}, "NPG": {"n_steps": 16}, "REINFORCE": {"n_steps": 16},
             "BC": {"expert": CartPoleExpert(), "n_epochs": 1},
             "DAgger": {"expert": CartPoleExpert(), "steps_per_round": 16, "n_epochs": 1}}
    return cls("MlpPolicy", env, seed=0, device="cpu", **dict(extra[cls.__name__], **kwargs))


# ---------------------------------------------------------------- set_env


def test_set_env_checks_spaces_and_number_of_envs():
    agent = A2C("MlpPolicy", DummyVecEnv([lambda: IdentityEnvBox(-10, 10)]), n_steps=8,
                device="cpu", seed=0)
    with pytest.raises(ValueError, match="Observation spaces do not match"):
        agent.set_env(IdentityEnvBox(-5, 5))
    with pytest.raises(ValueError, match="Action spaces do not match"):
        agent.set_env(_OtherActions())
    two = DummyVecEnv([lambda: IdentityEnvBox(-10, 10) for _ in range(2)])
    # SB3 raises AssertionError; ours is also a ValueError
    with pytest.raises(AssertionError, match="number of environments"):
        agent.set_env(two)
    with pytest.raises(ValueError):
        agent.set_env(two)
    agent.set_env(IdentityEnvBox(-10, 10))  # same spaces, wrapped: accepted
    agent.learn(16)
    agent.set_env(agent.get_env(), force_reset=False)
    assert agent._last_obs is not None


class _OtherActions(gym.Env):
    observation_space = spaces.Box(-10, 10, (1,), np.float32)
    action_space = spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        return np.zeros(1, np.float32), {}

    def step(self, action):
        return np.zeros(1, np.float32), 0.0, True, False, {}


# ---------------------------------------------------------------- save / load


def test_save_exclude_and_include(tmp_path):
    agent = A2C("MlpPolicy", IdentityEnv(4), verbose=2, device="cpu", n_steps=3)
    agent.save(tmp_path / "a", exclude=["verbose", "n_steps"])
    loaded = A2C.load(tmp_path / "a.zip")
    assert loaded.verbose == 0 and loaded.n_steps == 5  # constructor defaults
    with zipfile.ZipFile(tmp_path / "a.zip") as z:
        import json
        params = json.loads(z.read(save_util.META))["params"]
    assert "verbose" not in params and "n_steps" not in params
    # include: the current attribute value, even when also excluded
    loaded.verbose = 2
    loaded.save(tmp_path / "b", exclude=["verbose"], include=["verbose"])
    again = A2C.load(tmp_path / "b.zip", custom_objects=dict(learning_rate=2e-5, dummy=1.0),
                     print_system_info=False)
    assert again.verbose == 2 and again.learning_rate == 2e-5
    assert not hasattr(again, "dummy")


def test_save_path_suffix_as_sb3(tmp_path):
    agent = A2C("MlpPolicy", "CartPole-v1", device="cpu")
    agent.save(tmp_path / "noext")
    agent.save(tmp_path / "model.pkl")
    assert (tmp_path / "noext.zip").exists() and (tmp_path / "model.pkl").exists()
    assert not (tmp_path / "model.pkl.zip").exists()
    A2C.load(tmp_path / "model.pkl")


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_policy_save_and_load(tmp_path, env_id):
    agent = A2C("MlpPolicy", env_id, device="cpu", seed=0,
                policy_kwargs=dict(net_arch=[16], activation_fn=torch.nn.ReLU))
    agent.learn(20)
    policy = agent.policy
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(torch.rand_like(p))
    obs = np.stack([agent.observation_space.sample() for _ in range(6)])
    expected, _ = policy.predict(obs, deterministic=True)
    policy.save(tmp_path / "policy.pkl")  # written at that path exactly, as SB3
    assert zipfile.is_zipfile(tmp_path / "policy.pkl")
    loaded = ActorCriticPolicy.load(tmp_path / "policy.pkl", device="cpu")
    assert type(loaded) is ActorCriticPolicy and loaded.activation_fn is torch.nn.ReLU
    for key, value in policy.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])
    np.testing.assert_allclose(loaded.predict(obs, deterministic=True)[0], expected)
    # the agent format and the policy format are not confused
    agent.save(tmp_path / "agent.zip")
    with pytest.raises(ValueError, match="policy"):
        ActorCriticPolicy.load(tmp_path / "agent.zip")
    with pytest.raises(ValueError, match="agent"):
        A2C.load(tmp_path / "policy.pkl")


def test_policy_file_executes_no_code(tmp_path):
    agent = A2C("MlpPolicy", "CartPole-v1", device="cpu")
    agent.policy.save(tmp_path / "p.zip")
    import io
    import json

    with zipfile.ZipFile(tmp_path / "p.zip") as z:
        meta = json.loads(z.read(save_util.POLICY_META))
        members = {n: z.read(n) for n in z.namelist()}
    meta["params"]["activation_fn"] = {"__mlnotes__": "class", "name": "os.system"}
    members[save_util.POLICY_META] = json.dumps(meta).encode()
    with zipfile.ZipFile(tmp_path / "bad.zip", "w") as z:
        for n, d in members.items():
            z.writestr(n, d)
    with pytest.raises(ValueError, match="allowed packages"):
        ActorCriticPolicy.load(tmp_path / "bad.zip")

    class Payload:
        def __reduce__(self):
            return (print, ("executed",))

    buffer = io.BytesIO()
    torch.save({"x": Payload()}, buffer)
    members[save_util.POLICY_META] = json.dumps(
        json.loads(members[save_util.POLICY_META])).encode()
    members["policy.pth"] = buffer.getvalue()
    with zipfile.ZipFile(tmp_path / "bad2.zip", "w") as z:
        for n, d in members.items():
            z.writestr(n, d)
    with pytest.raises(ValueError, match="policy.pth"):
        ActorCriticPolicy.load(tmp_path / "bad2.zip")


def test_compiled_policy_saves_and_loads(tmp_path):
    agent = A2C("MlpPolicy", "CartPole-v1", device="cpu", seed=0)
    agent.save(tmp_path / "a.zip")
    agent = A2C.load(tmp_path / "a.zip")
    reference = {k: v.clone() for k, v in agent.policy.state_dict().items()}
    agent.policy = torch.compile(agent.policy)
    assert any(k.startswith("_orig_mod.") for k in agent.policy.state_dict())
    agent.save(tmp_path / "compiled.zip")
    loaded = A2C.load(tmp_path / "compiled.zip")
    for key, value in reference.items():
        assert torch.equal(loaded.policy.state_dict()[key], value)
    # the policy alone, and a state dict with the prefixes
    agent.policy.save(tmp_path / "p.zip")
    ActorCriticPolicy.load(tmp_path / "p.zip")
    fresh = A2C("MlpPolicy", "CartPole-v1", device="cpu", seed=1)
    fresh.set_parameters({"policy": agent.policy.state_dict()}, exact_match=False)
    assert torch.equal(fresh.policy.value_net.weight, reference["value_net.weight"])


# ---------------------------------------------------------------- A2C defaults


def test_a2c_defaults_are_sb3s():
    ours = inspect.signature(A2C.__init__).parameters
    theirs = inspect.signature(SB3_A2C.__init__).parameters
    for name in ("learning_rate", "n_steps", "gamma", "gae_lambda", "ent_coef", "vf_coef",
                 "max_grad_norm", "rms_prop_eps", "use_rms_prop", "use_sde", "sde_sample_freq",
                 "rollout_buffer_class", "rollout_buffer_kwargs", "normalize_advantage",
                 "stats_window_size"):
        assert ours[name].default == theirs[name].default, name
    assert ours["gamma"].default == 0.99
    assert list(ours)[1:] == [p for p in theirs if p != "self"]  # same order too


# ---------------------------------------------------------------- non-finite env output


class NaNEnv(gym.Env):
    """CartPole-like spaces; a NaN observation or reward at step ``at``."""

    observation_space = spaces.Box(-1.0, 1.0, (4,), np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, what="obs", at=5):
        self.what, self.at, self.t = what, at, 0

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        obs = np.zeros(4, np.float32)
        if self.what == "reset":
            obs[1] = np.nan
        return obs, {}

    def step(self, action):
        self.t += 1
        obs = np.zeros(4, np.float32)
        reward = 1.0
        if self.t >= self.at:
            if self.what == "obs":
                obs[2] = np.inf
            elif self.what == "reward":
                reward = float("nan")
        return obs, reward, False, self.t >= 50, {}


@pytest.mark.parametrize("cls", [A2C, REINFORCE, NPG, BC, DAgger])
@pytest.mark.parametrize("what", ["obs", "reward", "reset"])
def test_non_finite_env_output_names_the_env(cls, what):
    if cls is BC and what == "reward":
        pytest.skip("BC records expert observations; rewards are not used")
    agent = _agent(cls, NaNEnv(what))
    word = "observation" if what in ("obs", "reset") else "reward"
    with pytest.raises(ValueError, match=f"environment returned a non-finite {word}.*NaNEnv"):
        agent.learn(64)


def test_nan_loss_keeps_its_own_message():
    agent = A2C("MlpPolicy", "CartPole-v1", seed=0, device="cpu", n_steps=4)
    with torch.no_grad():
        agent.policy.value_net.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="diverged"):
        agent.learn(40)


def test_eval_callback_with_vec_normalize_sees_sb3_wrappers():
    """The finite check wraps env outside get_env(): EvalCallback's wrapper comparison
    and VecNormalize synchronisation see the user's wrappers (no warning, no error)."""
    import warnings

    from stable_baselines3.common.env_util import make_vec_env

    env = VecNormalize(make_vec_env("CartPole-v1", n_envs=2, seed=0))
    eval_env = VecNormalize(make_vec_env("CartPole-v1", n_envs=1, seed=1), training=False)
    agent = A2C("MlpPolicy", env, seed=0, device="cpu")
    callback = EvalCallback(eval_env, eval_freq=8, n_eval_episodes=1, verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        agent.learn(32, callback=callback)
    assert agent.get_env() is env
    assert eval_env.obs_rms.count > 1  # statistics copied from the training env


# ---------------------------------------------------------------- predict dtype


@pytest.mark.parametrize("bad", [np.array(["a", "b", "c", "d"]), ["x", 1.0, 2.0, 3.0],
                                 np.array([object(), 1, 2, 3], dtype=object)])
@pytest.mark.parametrize("cls", [A2C, BC])
def test_non_numeric_observation_says_wrong_dtype(cls, bad):
    agent = _agent(cls, "CartPole-v1")
    with pytest.raises(TypeError, match="wrong dtype"):
        agent.predict(bad)


@pytest.mark.parametrize("dict_obs", [False, True])
def test_load_without_reset_continues_from_the_saved_observation(tmp_path, dict_obs):
    """As SB3: the last observation is saved; load(force_reset=False) continues from it."""
    if dict_obs:
        from stable_baselines3.common.envs import SimpleMultiObsEnv

        env, policy = DummyVecEnv([lambda: SimpleMultiObsEnv(random_start=False)]), \
            "MultiInputPolicy"
    else:
        env, policy = DummyVecEnv([lambda: IdentityEnvBox(-10, 10)]), "MlpPolicy"
    agent = A2C(policy, env, n_steps=4, device="cpu", seed=0).learn(8)
    agent.save(tmp_path / "a.zip")
    kept = A2C.load(tmp_path / "a.zip", env=agent.get_env(), force_reset=False)
    if dict_obs:
        for key, value in agent._last_obs.items():
            np.testing.assert_array_equal(kept._last_obs[key], value)
    else:
        np.testing.assert_array_equal(kept._last_obs, agent._last_obs)
    kept.learn(4, reset_num_timesteps=False)
    assert kept.num_timesteps == 12
    assert A2C.load(tmp_path / "a.zip", env=agent.get_env())._last_obs is None


def test_reference_harness_swaps_only_our_agents():
    """benchmarks.reference_tests.sb3 rewrites SB3's algorithm imports to ours (the
    names all_agents() has an SB3 twin for) and leaves every other name SB3's."""
    from benchmarks.reference_tests.sb3 import available_twins, rewrite
    from stable_baselines3 import HerReplayBuffer

    assert available_twins(["A2C"]) == {"A2C": A2C}
    source = ("from stable_baselines3 import A2C, HerReplayBuffer as H, PPO\n"
              "from stable_baselines3.common.envs import IdentityEnv\n")
    text, count = rewrite(source, {"A2C": "mlnotes.rl"})
    assert count == 1
    namespace = {}
    exec(text, namespace)
    assert namespace["A2C"] is A2C and namespace["H"] is HerReplayBuffer
    assert namespace["PPO"].__module__.startswith("stable_baselines3")


def test_gym_reset_tuple_at_predict_says_mixing_apis():
    env = gym.make("CartPole-v1")
    agent = A2C("MlpPolicy", env, device="cpu")
    with pytest.raises(ValueError, match=r"mixing Gym API"):  # SB3's test's pattern
        agent.predict(env.reset())


def test_lr_schedule_values_are_python_floats():
    agent = A2C("MlpPolicy", "CartPole-v1", device="cpu",
                learning_rate=lambda p: np.float64(p) * np.sin(1.0))
    assert type(agent.lr_schedule(1.0)) is float  # as SB3's FloatSchedule (GH#1900)
    assert np.isclose(agent.lr_schedule(0.5), 0.5 * np.sin(1.0))


def test_not_a_zip_says_so_as_sb3(tmp_path):
    bad = tmp_path / "not_a_zip.zip"
    bad.write_text("this is not a zip file")
    with pytest.raises(ValueError, match="wasn't a zip-file"):  # SB3's test's pattern
        A2C.load(bad)
