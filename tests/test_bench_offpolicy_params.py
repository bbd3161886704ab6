"""The offpolicy suite keeps its table's hyperparameters intact: an agent that writes
into the ``policy_kwargs`` it is given (SB3's DDPG adds ``n_critics=1``) must not change
the row's data, or the run-cache keys of later runs in the same process (no training)."""

import copy

from benchmarks.suites import offpolicy


class _MutatingAgent:
    """Stands in for SB3's DDPG: writes into ``policy_kwargs`` like its constructor."""

    def __init__(self, policy, env_id, seed=None, device="cpu", policy_kwargs=None, **kw):
        policy_kwargs["n_critics"] = 1
        self.num_timesteps = 0

    def learn(self, total_timesteps, callback=None):
        self.num_timesteps = total_timesteps
        return self


def test_training_does_not_mutate_the_rows_params(monkeypatch):
    monkeypatch.setattr(offpolicy, "evaluate", lambda model, env_id, seed, det: -1.0)
    params = dict(learning_rate=1e-3, policy_kwargs=dict(net_arch=[8]))
    before = copy.deepcopy(params)
    key = offpolicy._cache_key("x:A", "Pendulum-v1", 0, [10], params)
    out = offpolicy.train_with_checkpoints(_MutatingAgent, "Pendulum-v1", 0, [10], params)
    assert out["evals"][10] == (-1.0, -1.0)
    assert params == before
    assert offpolicy._cache_key("x:A", "Pendulum-v1", 0, [10], params) == key


def test_ddpg_row_names_its_single_critic():
    """The DDPG row's key carries n_critics=1, as the cached runs of earlier sessions do."""
    row = next(c for c in offpolicy.CASES if c.name == "DDPG-zoo")
    assert row.params["policy_kwargs"] == dict(net_arch=[400, 300], n_critics=1)
    assert "n_critics" not in offpolicy.TD3_ZOO_PENDULUM["policy_kwargs"]
