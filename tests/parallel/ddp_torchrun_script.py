"""Run by tests/parallel/test_ddp.py as ``torchrun --standalone --nproc-per-node 2
ddp_torchrun_script.py OUT.npz``: every process fits the same MLP with
``fit_distributed`` (which joins the group torchrun describes) and writes its weights to
``OUT.npz`` with its rank in the name."""

import sys

import numpy as np
import torch
import torch.distributed as dist

from mlnotes.neural_network import MLPRegressor
from mlnotes.parallel import fit_distributed

PARAMS = dict(hidden_layer_sizes=(16,), batch_size=20, max_iter=15,
              learning_rate_init=0.01, random_state=0)


def data():
    rng = np.random.RandomState(0)
    X = rng.randn(101, 4)
    return X, np.c_[X @ [1.0, -2.0, 0.5, 0.0], np.sin(X[:, 0])]


if __name__ == "__main__":
    torch.set_num_threads(1)
    X, y = data()
    est = fit_distributed(MLPRegressor(**PARAMS), X, y)
    assert not dist.is_initialized()  # the group it joined is left again
    rank = int(__import__("os").environ["RANK"])
    weights = {f"w{i}": p.detach().numpy() for i, p in enumerate(est.module_.parameters())}
    np.savez(sys.argv[1].replace(".npz", f"-{rank}.npz"), n_iter=est.n_iter_,
             loss_curve=np.asarray(est.loss_curve_), **weights)
