"""``benchmarks.offline_d3rlpy``: the acceptance's bar, checkpoints over training seeds,
and the return-after-each-budget table of ``--eval-every``."""

from argparse import Namespace

import numpy as np
import pytest

from benchmarks.offline_d3rlpy import aggregate, budget_table, meets_target, run_ours


def _run(returns_at, cpu=(1.0, 2.0)):
    points = [{"steps": 10 * (i + 1), "return": r, "returns": [r], "seconds": c,
               "cpu_seconds": c} for i, (r, c) in enumerate(zip(returns_at, cpu))]
    return {"return": returns_at[-1], "returns": [returns_at[-1]], "seconds": cpu[-1],
            "cpu_seconds": cpu[-1], "checkpoints": points}


def test_meets_target_is_the_expert_bar_or_behaviour_and_bc():
    row = {"behaviour": -200.0, "bc": -150.0}
    assert meets_target("expert", row, -220.0)  # the bar is -220 (10% of the expert)
    assert not meets_target("expert", row, -221.0)
    assert meets_target("medium", row, -149.0)  # above both, whichever is higher
    assert not meets_target("medium", row, -160.0)


def test_aggregate_averages_checkpoints_over_training_seeds():
    row = aggregate([_run([-400.0, -200.0]), _run([-600.0, -300.0], cpu=(3.0, 4.0))])
    assert row["run_returns"] == [-200.0, -300.0]
    assert [c["steps"] for c in row["checkpoints"]] == [10, 20]
    assert [c["return"] for c in row["checkpoints"]] == [-500.0, -250.0]
    assert [c["cpu_seconds"] for c in row["checkpoints"]] == [2.0, 3.0]


def test_budget_table_counts_datasets_per_budget():
    args = Namespace(quality="expert", n_steps=20, eval_every=10, algos=["IQL"])
    rows = [{"seed": 0, "algo": "IQL", "behaviour": -150.0, "bc": -150.0,
             "ours": _run([-400.0, -160.0]), "ref": _run([-170.0, -300.0])},
            {"seed": 1, "algo": "IQL", "behaviour": -200.0, "bc": -190.0,
             "ours": _run([-210.0, -205.0]), "ref": None}]
    lines = budget_table(args, rows)
    assert "| 0 | IQL | -400 / -170 | -160 / -300 |" in lines
    assert "| 1 | IQL | -210 / - | -205 / - |" in lines
    # after 10 steps: ours meets the bar on seed 1 only (seed 0's bar is -165), d3rlpy
    # on its one dataset; after 20 steps ours on both, d3rlpy on none; ours >= d3rlpy
    # is counted where both ran
    assert lines[-1] == "| IQL | 1/2, 0/1; 0/1 | 2/2, 0/1; 1/1 |"


def test_budget_table_is_empty_without_checkpoints():
    args = Namespace(quality="medium", n_steps=20, eval_every=None, algos=["IQL"])
    run = {"return": -1.0, "returns": [-1.0], "seconds": 1.0, "cpu_seconds": 1.0}
    assert budget_table(args, [{"seed": 0, "algo": "IQL", "ours": run, "ref": run}]) == []


@pytest.mark.parametrize("algo", ["TD3BC"])
def test_run_ours_in_pieces_ends_where_one_fit_ends(algo, monkeypatch):
    # the checkpoints come from fit() called in pieces: the last equals one whole fit
    import benchmarks.offline_d3rlpy as offline
    from mlnotes.rl.offline import collect_dataset

    monkeypatch.setitem(offline.OURS, algo, {"batch_size": 32,
                                             "policy_kwargs": {"net_arch": [8]}})
    monkeypatch.setattr(offline, "EPISODES", 2)
    data = collect_dataset("Pendulum-v1", n_steps=200, seed=0)
    whole = run_ours(algo, data, 30, seed=0)
    pieces = run_ours(algo, data, 30, seed=0, every=10)
    assert [c["steps"] for c in pieces["checkpoints"]] == [10, 20, 30]
    assert pieces["returns"] == whole["returns"]
    assert pieces["checkpoints"][-1]["returns"] == whole["returns"]
    assert np.all(np.diff([c["cpu_seconds"] for c in pieces["checkpoints"]]) > 0)
