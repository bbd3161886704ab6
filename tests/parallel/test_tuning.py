"""Hyperparameter search over an agent with Optuna through the agents' get_params /
set_params / clone protocol (issue 16; tiny budgets). The Ray Tune search is in
test_joblib_backends.py, which holds the module's one Ray instance."""

import pytest
from sklearn.base import clone
from stable_baselines3.common.evaluation import evaluate_policy

from mlnotes.rl import PPO

optuna = pytest.importorskip("optuna")

STEPS = 128
PPO_SMALL = dict(n_steps=32, batch_size=16, n_epochs=2, seed=0, device="cpu",
                 policy_kwargs={"net_arch": [16]})


def score(agent):
    """Train a configured (untrained) agent briefly; its mean return on 3 seeded
    evaluation episodes, actions sampled (seeded: the agent seeds torch in learn)."""
    agent.learn(STEPS)
    env = agent.get_env()
    env.seed(123)
    mean, _ = evaluate_policy(agent, env, n_eval_episodes=3, deterministic=False)
    return float(mean)


def test_optuna_search_over_an_agent():
    base = PPO("MlpPolicy", "CartPole-v1", **PPO_SMALL)
    seen = []

    def objective(trial):
        agent = clone(base).set_params(
            learning_rate=trial.suggest_float("learning_rate", 1e-3, 1e-1, log=True),
            gamma=trial.suggest_float("gamma", 0.9, 0.999))
        assert agent is not base and agent.num_timesteps == 0
        seen.append(agent.get_params())
        return score(agent)

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0))
    study.optimize(objective, n_trials=3)
    # each trial trained an agent with the suggested values and the base's others
    for trial, params in zip(study.trials, seen):
        assert params["learning_rate"] == trial.params["learning_rate"]
        assert params["gamma"] == trial.params["gamma"]
        assert params["n_steps"] == 32 and params["seed"] == 0
    assert base.get_params()["learning_rate"] == PPO("MlpPolicy", "CartPole-v1"
                                                      ).get_params()["learning_rate"]
    # the best value is reproduced by the best parameters (seeded training)
    values = [t.value for t in study.trials]
    assert len(set(values)) > 1, "every trial scored the same: the search saw nothing"
    best = clone(base).set_params(**study.best_params)
    assert score(best) == study.best_value
