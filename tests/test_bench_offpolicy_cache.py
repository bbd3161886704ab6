"""The offpolicy suite's run cache and the SBX side's parameter translation (no training:
the learning run is replaced by a stub, and no SBX process is started)."""

import pytest

from benchmarks import sbx_speed
from benchmarks.suites import offpolicy


def _fake_run(calls):
    def run(cls, env_id, seed, checkpoints, params):
        calls.append((cls, seed))
        return {"evals": {m: (-100.0 - seed, -110.0 - seed) for m in checkpoints},
                "wall": {m: m / 100 for m in checkpoints}, "train_s": 5.0,
                "steps": checkpoints[-1]}
    return run


def test_cache_round_trip_and_cache_only(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(offpolicy, "train_with_checkpoints", _fake_run(calls))
    monkeypatch.setenv("OFFPOLICY_CACHE", str(tmp_path / "cache.json"))
    params = dict(learning_rate=1e-3, policy_kwargs=dict(net_arch=[8]))
    first = offpolicy.cached_train("pkg:Agent", "Pendulum-v1", 1, [1000, 2000], params)
    again = offpolicy.cached_train("pkg:Agent", "Pendulum-v1", 1, [1000, 2000], params)
    assert calls == [("pkg:Agent", 1)]  # the second call reads the file
    assert again == first and again["evals"][2000] == (-101.0, -111.0)  # int keys back
    monkeypatch.setenv("OFFPOLICY_CACHE_ONLY", "1")
    with pytest.raises(offpolicy.NotRun):
        offpolicy.cached_train("pkg:Agent", "Pendulum-v1", 2, [1000, 2000], params)
    assert len(calls) == 1


def test_seeds_from_environment(monkeypatch):
    monkeypatch.delenv("OFFPOLICY_SEEDS", raising=False)
    assert offpolicy._seeds() == offpolicy.SEEDS
    monkeypatch.setenv("OFFPOLICY_SEEDS", "3,0")
    assert offpolicy._seeds() == (3, 0)


def test_row_with_missing_seeds_is_not_met(tmp_path, monkeypatch):
    """A cache-only report of a part of the seeds says which ran and never says "met"."""
    from concurrent.futures import Future

    case = offpolicy.OffPolicyCase("T", "mlnotes.rl:TD3", "stable_baselines3:TD3", "rl",
                                   "Pendulum-v1", 2000, 1000, det_threshold=-250,
                                   stoch_threshold=-250, checkpoints=(1000,))
    runs = {}
    for seed in offpolicy.SEEDS:
        for key, ok in ((offpolicy.OffPolicySuite._ref_key(case, seed, [1000, 2000]),
                         seed < 2), ((case.name, seed), seed < 4)):
            future = Future()
            if ok:
                future.set_result(_fake_run([])("x", "e", seed, [1000, 2000], {}))
            else:
                future.set_exception(offpolicy.NotRun(str(key)))
            runs[key] = future

    class Ctx:
        quick = False

        @staticmethod
        def log(message):
            pass

    per_seed, curves = [], {}
    row = offpolicy.OffPolicySuite()._rl_row(case, Ctx, offpolicy.SEEDS, runs, per_seed,
                                             curves)
    assert row["success_ours"] == 4 and row["success_ref"] == 2
    assert row["verdict"].startswith("NOT met (4/5, SB3 2/5; run: ours seeds 0, 1, 2, 3, "
                                     "SB3 seeds 0, 1)")
    assert [r["seed"] for r in per_seed] == [0, 1, 2, 3]
    assert per_seed[3]["det_ref"] is None


def test_sbx_params_give_sb3_defaults():
    assert sbx_speed.sbx_name("mlnotes.rl:TD3") == "TD3"
    assert sbx_speed.sbx_name("sb3_contrib:TRPO") is None
    # SB3's TD3/DDPG networks are [400, 300] (SBX's own default is [256, 256])
    assert sbx_speed.sbx_params("TD3", {}) == {"policy_kwargs": {"net_arch": [400, 300]}}
    ddpg = sbx_speed.sbx_params("DDPG", {"policy_kwargs": {"net_arch": [64]}})
    assert ddpg == {"learning_rate": 1e-3, "qf_learning_rate": 1e-3,
                    "policy_kwargs": {"net_arch": [64]}}
    dqn = sbx_speed.sbx_params("DQN", offpolicy.DQN_ZOO_CARTPOLE)
    assert dqn["train_freq"] == 256 and dqn["policy_kwargs"] == {"net_arch": [256, 256]}
    # an object (action noise) cannot be sent to the other process: no SBX side
    assert sbx_speed.sbx_params("TD3", {"action_noise": object()}) is None


def test_sbx_left_out_when_asked(monkeypatch):
    monkeypatch.setenv("BENCH_SBX", "0")
    agent, reason = sbx_speed.open_agent("mlnotes.rl:SAC", "Pendulum-v1", 0, {}, 0,
                                         quick=False)
    assert agent is None and "BENCH_SBX=0" in reason
    agent, reason = sbx_speed.open_agent("sb3_contrib:TRPO", "CartPole-v1", 0, {}, 0,
                                         quick=False)
    assert agent is None and "no such algorithm" in reason
