"""Every agent on SubprocVecEnv (2 worker processes) learns exactly what it learns on
DummyVecEnv for the same seed (issue 16; tiny budgets).

The agents, their test-size arguments and envs are those of the common agent contract
(tests/rl/test_agents_common.py), loaded from that file so that a new agent is covered
here as soon as it is registered there.
"""

import importlib.util
from pathlib import Path

import pytest
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

_spec = importlib.util.spec_from_file_location(
    "_agents_common", Path(__file__).resolve().parents[1] / "rl" / "test_agents_common.py")
common = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(common)


@pytest.mark.parametrize("name", common.NAMES)
def test_subproc_vec_env_learns_as_dummy_vec_env(name):
    if name in common.SINGLE_ENV:
        pytest.skip(f"{name} acts for one environment only (a planner)")
    env_id = common.AGENT_ENVS.get(name, "CartPole-v1")
    agents = []
    for cls in (DummyVecEnv, SubprocVecEnv):
        env = make_vec_env(env_id, n_envs=2, seed=0, vec_env_cls=cls)
        try:
            agent = common.make_agent(name, env=env)
            assert agent.n_envs == 2 and isinstance(agent.get_env(), cls)
            agent.learn(common.SHORT)
            agents.append(agent)
        finally:
            env.close()
    dummy, subproc = agents
    assert subproc.num_timesteps == dummy.num_timesteps >= common.SHORT
    # same env transitions in the same order, same seeds: bit-identical weights
    assert common.state_equal(dummy, subproc)
