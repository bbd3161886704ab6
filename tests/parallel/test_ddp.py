"""mlnotes.parallel.fit_distributed: 2 gloo processes give the weights of 1 process
trained on the same global batches (issue 16)."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

from mlnotes.neural_network import MLPClassifier, MLPRegressor
from mlnotes.parallel import fit_distributed


class _CountingMLPRegressor(MLPRegressor):
    """Records the number of rows of every batch loss it computes (unpickled by
    reference in the spawned processes: this module is importable there). The loss
    of the network's output: what autograd's ``_batch_loss`` and the hand-written
    back-propagation both call."""

    def _output_loss(self, z, Y, sample_weight, weight_sum):
        self.__dict__.setdefault("rows_seen", []).append(z.shape[0])
        return super()._output_loss(z, Y, sample_weight, weight_sum)


def _weights(est):
    return [np.asarray(p.detach().numpy()) for p in est.module_.parameters()]


def _assert_same_fit(one, two, atol=1e-5):
    assert one.n_iter_ == two.n_iter_
    for a, b in zip(_weights(one), _weights(two)):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=0, atol=atol)
    np.testing.assert_allclose(two.loss_curve_, one.loss_curve_, rtol=1e-9)


def test_two_processes_same_weights_as_one():
    """An MLP regressor (batches of 20 on 101 rows: the last batch has one row, so
    one process's shard of it is empty) and a 3-class MLP classifier with sample
    weights, each fitted by 2 processes, match the single-process fit."""
    rng = np.random.RandomState(0)
    X = rng.randn(101, 4)
    y = np.c_[X @ [1.0, -2.0, 0.5, 0.0], np.sin(X[:, 0])]
    params = dict(hidden_layer_sizes=(16,), batch_size=20, max_iter=15,
                  learning_rate_init=0.01, random_state=0)
    one = _CountingMLPRegressor(**params).fit(X, y)
    two = fit_distributed(_CountingMLPRegressor(**params), X, y, n_procs=2)
    _assert_same_fit(one, two)
    # process 0 computed the loss of its half of each batch only
    assert one.rows_seen == [20, 20, 20, 20, 20, 1] * 15
    assert two.rows_seen == [10, 10, 10, 10, 10, 0] * 15
    # the single-process fit moved far from its start: the comparison is not vacuous
    start = MLPRegressor(**{**params, "max_iter": 1}).fit(X, y)
    assert max(np.abs(a - b).max() for a, b in zip(_weights(one), _weights(start))) > 0.05


def test_two_processes_classifier_with_sample_weight():
    X, y = make_classification(n_samples=90, n_features=5, n_informative=3,
                               n_classes=3, random_state=1)
    sw = np.random.RandomState(2).uniform(0.2, 2.0, size=90)
    params = dict(hidden_layer_sizes=(8,), batch_size=32, max_iter=10,
                  solver="sgd", learning_rate_init=0.05, alpha=1e-3, random_state=4)
    one = MLPClassifier(**params).fit(X, y, sample_weight=sw)
    est = MLPClassifier(**params)
    out = fit_distributed(est, X, y, n_procs=2, sample_weight=sw)
    assert out is est
    _assert_same_fit(one, est)
    np.testing.assert_allclose(est.predict_proba(X), one.predict_proba(X), atol=1e-6)


def test_bad_input():
    from mlnotes.cluster import KMeans

    X, y = np.zeros((4, 2)), np.zeros(4)
    with pytest.raises(TypeError, match="torch estimators"):
        fit_distributed(KMeans(), X)
    with pytest.raises(ValueError, match="lbfgs"):
        fit_distributed(MLPRegressor(solver="lbfgs"), X, y)
    with pytest.raises(ValueError, match="n_procs"):
        fit_distributed(MLPRegressor(), X, y, n_procs=0)
    with pytest.raises(ValueError, match="backend"):
        fit_distributed(MLPRegressor(), X, y, backend="mpi")


def test_a_failing_process_raises_with_its_traceback():
    X = np.zeros((10, 2))
    y = np.array([0.0] * 9 + [np.nan])  # fit raises a ValueError in every process
    with pytest.raises(RuntimeError, match="(?s)failed.*ValueError"):
        fit_distributed(MLPRegressor(max_iter=2, random_state=0), X, y, n_procs=2)


def test_torchrun_two_processes_same_weights_as_one(tmp_path):
    """``torchrun --standalone --nproc-per-node 2`` on a script that calls
    ``fit_distributed`` without initialising a group: both processes join torchrun's
    group (gloo on this CPU machine) and end with the single-process weights."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    sys.path.insert(0, str(here))
    try:
        from ddp_torchrun_script import PARAMS, data
    finally:
        sys.path.remove(str(here))
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(here.parents[1]),
                                          os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "weights.npz"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         "--nproc-per-node", "2", str(here / "ddp_torchrun_script.py"), str(out)],
        env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    X, y = data()
    one = MLPRegressor(**PARAMS).fit(X, y)
    for rank in (0, 1):
        got = np.load(tmp_path / f"weights-{rank}.npz")
        assert int(got["n_iter"]) == one.n_iter_
        for i, w in enumerate(_weights(one)):
            np.testing.assert_allclose(got[f"w{i}"], w, rtol=0, atol=1e-5)
        np.testing.assert_allclose(got["loss_curve"], one.loss_curve_, rtol=1e-9)


def test_backend_auto_picks_nccl_where_cuda_is(monkeypatch):
    """``backend="auto"``: gloo on this machine, nccl when CUDA devices and NCCL are
    there (checked by faking them: nccl itself cannot run without a GPU)."""
    import torch
    import torch.distributed as dist

    from mlnotes.parallel._ddp import _auto_backend, _group_device

    if not torch.cuda.is_available():
        assert _auto_backend() == "gloo"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)
    assert _auto_backend() == "nccl"
    monkeypatch.setenv("LOCAL_RANK", "5")
    assert _group_device(rank=13) == torch.device("cuda", 1)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: False)
    assert _auto_backend() == "gloo"
