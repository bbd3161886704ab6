"""Data-parallel training of the torch estimators with ``torch.distributed``."""

import os
import pickle
import tempfile
import traceback
from multiprocessing import connection, get_context
from numbers import Integral

import numpy as np
import torch
import torch.distributed as dist

from ..base import TorchEstimator
from ..utils._random import check_random_state

__all__ = ["fit_distributed"]

_BACKENDS = ("auto", "gloo", "nccl")
# set by torchrun (torch.distributed.run) in every process it starts
_TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def _auto_backend():
    """``"nccl"`` where CUDA devices are present and torch was built with NCCL,
    otherwise ``"gloo"`` (CPUs)."""
    if torch.cuda.is_available() and torch.cuda.device_count() > 0 and \
            dist.is_nccl_available():
        return "nccl"
    return "gloo"


def _launched_by_torchrun():
    """Whether this process was started by ``torchrun`` (its environment variables
    are set) without a process group initialised yet."""
    return all(v in os.environ for v in _TORCHRUN_VARS)


def _group_device(rank):
    """The CUDA device of this process in an NCCL group: ``LOCAL_RANK`` (torchrun),
    else the rank modulo the devices of this machine."""
    local = int(os.environ.get("LOCAL_RANK", rank))
    return torch.device("cuda", local % torch.cuda.device_count())


class _DataParallel:
    """What :meth:`TorchEstimator._fit_stochastic` asks of the process group.

    Every process holds the whole training set and draws the same permutations (same
    integer ``random_state``), so all agree on each global batch; process ``r`` of
    ``P`` computes the loss of rows ``[n r / P, n (r + 1) / P)`` of a batch of ``n``
    rows, normalised by the *batch's* total weight, and the all-reduced sum of these
    gradients is the gradient of the global batch.
    """

    def __init__(self, rank, world_size, group=None):
        self.rank, self.world_size, self.group = rank, world_size, group

    def shard(self, start, stop):
        n = stop - start
        return (start + n * self.rank // self.world_size,
                start + n * (self.rank + 1) // self.world_size)

    def broadcast(self, tensors):
        """Start every process from process 0's parameters (in place)."""
        for t in tensors:
            dist.broadcast(t, 0, group=self.group)

    def all_reduce(self, loss, grads):
        """Sum the gradients (in place) and the losses over the processes, in one
        message; returns the summed loss."""
        flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1)])
        dist.all_reduce(flat, group=self.group)
        offset = 0
        for g in grads:
            n = g.numel()
            g.copy_(flat[offset:offset + n].view_as(g))
            offset += n
        return flat[offset]


def _check(estimator, n_procs, backend):
    if not isinstance(estimator, TorchEstimator):
        raise TypeError("fit_distributed trains mlnotes torch estimators (subclasses of "
                        f"mlnotes.base.TorchEstimator); got {type(estimator).__name__}.")
    if type(estimator)._fit_stochastic is not TorchEstimator._fit_stochastic:
        raise TypeError(f"{type(estimator).__name__} trains with its own loop (not "
                        "TorchEstimator's mini-batch loop), which has no data-parallel "
                        "hook; fit it with fit().")
    solver = estimator._hp("solver")
    if solver == "lbfgs":
        raise ValueError("fit_distributed runs the mini-batch solvers ('adam', 'sgd'); "
                         "got solver='lbfgs'.")
    if not isinstance(n_procs, Integral) or isinstance(n_procs, bool) or n_procs < 1:
        raise ValueError(f"n_procs must be an integer >= 1; got {n_procs!r}.")
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}; got {backend!r}.")


def _fit_in_group(estimator, X, y, fit_params, group=None):
    """Fit ``estimator`` as this process's part of the initialised process group.

    In an NCCL group each process trains on its own GPU (collectives of NCCL run on
    CUDA tensors only): the ``device`` parameter is set to it for the fit."""
    rank = dist.get_rank(group)
    sync = _DataParallel(rank, dist.get_world_size(group), group)
    original_device = estimator.device
    if dist.get_backend(group) == "nccl":
        estimator.set_params(device=str(_group_device(rank)))
    estimator._data_parallel = sync
    try:
        if y is None:
            estimator.fit(X, **fit_params)
        else:
            estimator.fit(X, y, **fit_params)
    finally:
        del estimator._data_parallel
        estimator.set_params(device=original_device)
    return estimator


def _fit_in_initialised_group(estimator, X, y, fit_params):
    """Every process of an initialised group: agree on an integer seed, then fit."""
    group_seed = estimator._hp("random_state")
    if isinstance(group_seed, Integral):
        return _fit_in_group(estimator, X, y, fit_params)
    on = _group_device(dist.get_rank()) if dist.get_backend() == "nccl" else "cpu"
    seed = torch.tensor([check_random_state(group_seed).randint(2**31 - 1)
                         if dist.get_rank() == 0 else 0], device=on)
    dist.broadcast(seed, 0)
    original = estimator.random_state
    estimator.set_params(random_state=int(seed.item()))
    try:
        return _fit_in_group(estimator, X, y, fit_params)
    finally:
        estimator.set_params(random_state=original)


def _worker(rank, world_size, backend, init_file, payload_path, result_path, error_path):
    """One spawned process: join the group, fit, and (process 0) write the result."""
    try:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // world_size))
        with open(payload_path, "rb") as f:
            estimator, X, y, fit_params = pickle.load(f)
        dist.init_process_group(backend, init_method=f"file://{init_file}",
                                rank=rank, world_size=world_size)
        try:
            _fit_in_group(estimator, X, y, fit_params)
            dist.barrier()
        finally:
            dist.destroy_process_group()
        if rank == 0:
            with open(result_path, "wb") as f:
                pickle.dump(estimator, f)
    except BaseException:
        with open(error_path, "w") as f:
            f.write(traceback.format_exc())
        raise SystemExit(1)


def fit_distributed(estimator, X, y=None, *, n_procs=2, backend="auto", **fit_params):
    r"""Fit a torch estimator on several processes, gradients averaged (DDP).

    Data-parallel training: every mini-batch of the estimator's own loop is split into
    ``n_procs`` shards, each process computes the gradient of its shard, and the
    gradients are summed across processes with ``torch.distributed.all_reduce``
    before the (identical) optimiser step, so every process holds the same weights
    throughout. Called outside a process group, it starts ``n_procs`` processes
    itself (``spawn``) and returns the fitted estimator in the caller; called inside
    an initialised group (after ``torch.distributed.init_process_group``), it fits
    this process's part and every process returns the same fitted estimator. In a
    script launched with ``torchrun`` that has not initialised a group, it joins
    the group torchrun describes (its environment variables), fits, and leaves it.

    Parameters
    ----------
    estimator : TorchEstimator
        An mlnotes torch estimator trained by the shared mini-batch loop (the MLPs,
        the CNNs, the flows and autoregressive density models, VAE, DDPM) with
        ``solver="adam"`` or ``"sgd"``. Fitted in place.
    X : array-like of shape (n_samples, n_features)
        Training data, sent whole to every process.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
        Targets (None for density models).
    n_procs : int, default=2
        Number of processes when this call starts them (ignored inside a group or
        under ``torchrun``, whose size counts). ``1`` is a plain ``fit`` in this
        process.
    backend : {"auto", "gloo", "nccl"}, default="auto"
        ``torch.distributed`` backend of the group this call creates (the processes
        it starts, or the group it joins under ``torchrun``): ``"gloo"`` on CPUs,
        ``"nccl"`` on GPUs (process ``r`` then trains on ``cuda:r``, its
        ``LOCAL_RANK`` under torchrun); ``"auto"`` is ``"nccl"`` where CUDA devices
        and NCCL are present, else ``"gloo"``. A group initialised by the caller
        keeps its own backend.
    **fit_params : dict
        Passed to ``estimator.fit`` (e.g. ``sample_weight``).

    Returns
    -------
    estimator : TorchEstimator
        The estimator, fitted.

    Notes
    -----
    With a global batch :math:`B` of total weight :math:`W = \sum_{i\in B} w_i` cut
    into shards :math:`B_1, \dots, B_P` (chapter 59 of the notes), process :math:`p`
    computes

    .. math:: g_p = \nabla_\theta \frac{1}{W} \sum_{i \in B_p} w_i\,\ell_i(\theta),
              \qquad \sum_{p=1}^P g_p = \nabla_\theta \frac{1}{W}
              \sum_{i \in B} w_i\,\ell_i(\theta),

    the gradient one process computes on the whole batch: the result equals
    single-process training up to the order of floating-point summation (the test
    checks 2 processes against 1 within 1e-5). Every process holds the whole data
    and draws the same shuffles, so only the gradients travel: one all-reduce of
    :math:`|\theta| + 1` numbers per step (the losses ride along). A ``random_state``
    that is not an integer is replaced, for the processes only, by an integer drawn
    from it, so that all processes draw the same shuffles; process 0's initial
    weights are broadcast to the others. Losses that sample (dropout, the noise of
    a VAE or a diffusion model) draw on each process for its own rows and so differ
    from a single-process fit in their random draws (the same in distribution), and
    batch normalisation normalises each shard by its own statistics, as
    ``torch.nn.parallel.DistributedDataParallel`` does without ``SyncBatchNorm``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.neural_network import MLPRegressor
    >>> from mlnotes.parallel import fit_distributed
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 3)
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> est = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> est = fit_distributed(est, X, y, n_procs=2)  # doctest: +SKIP
    >>> one = MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    >>> one = fit_distributed(one, X, y, n_procs=1)
    >>> one.predict(X[:2]).shape
    (2,)
    """
    _check(estimator, n_procs, backend)
    if backend == "auto":
        backend = _auto_backend()
    if dist.is_available() and dist.is_initialized():
        return _fit_in_initialised_group(estimator, X, y, fit_params)
    if dist.is_available() and _launched_by_torchrun():
        dist.init_process_group(backend)  # env:// rendezvous from torchrun's variables
        try:
            _fit_in_initialised_group(estimator, X, y, fit_params)
            dist.barrier()
        finally:
            dist.destroy_process_group()
        return estimator
    if n_procs == 1:
        return estimator.fit(X, **fit_params) if y is None else estimator.fit(
            X, y, **fit_params)
    if backend == "nccl" and torch.cuda.device_count() < 1:
        raise ValueError("backend='nccl' needs CUDA devices; use backend='gloo' on CPUs.")

    original = estimator.random_state
    work = estimator
    if not isinstance(original, Integral):
        work = _with_seed(estimator, check_random_state(original).randint(2**31 - 1))
    with tempfile.TemporaryDirectory(prefix="mlnotes-ddp-") as tmp:
        payload = os.path.join(tmp, "payload.pkl")
        result = os.path.join(tmp, "result.pkl")
        with open(payload, "wb") as f:
            pickle.dump((work, X, y, fit_params), f, protocol=pickle.HIGHEST_PROTOCOL)
        ctx = get_context("spawn")
        procs = [ctx.Process(target=_worker, daemon=True,
                             args=(rank, n_procs, backend, os.path.join(tmp, "rendezvous"),
                                   payload, result, os.path.join(tmp, f"error{rank}.txt")))
                 for rank in range(n_procs)]
        for p in procs:
            p.start()
        try:
            _join_all(procs)
        finally:
            for p in procs:
                if p.is_alive():
                    p.terminate()
                p.join()
        failed = [r for r, p in enumerate(procs) if p.exitcode != 0]
        if failed:
            messages = []
            for r in failed:
                path = os.path.join(tmp, f"error{r}.txt")
                if os.path.exists(path):
                    with open(path) as f:
                        messages.append(f"process {r}:\n{f.read()}")
            raise RuntimeError(
                f"fit_distributed: process(es) {failed} failed "
                f"(exit codes {[procs[r].exitcode for r in failed]}).\n"
                + "\n".join(messages))
        with open(result, "rb") as f:
            fitted = pickle.load(f)
    estimator.__dict__.update(fitted.__dict__)
    estimator.random_state = original
    return estimator


def _with_seed(estimator, seed):
    """A shallow copy of ``estimator`` with ``random_state=seed`` (the caller's
    parameter stays as given)."""
    copy = estimator.__class__.__new__(estimator.__class__)
    copy.__dict__.update(estimator.__dict__)
    copy.random_state = int(seed)
    return copy


def _join_all(procs):
    """Wait for every process; once one fails, stop the others (they would wait
    forever in their next collective operation)."""
    pending = {p.sentinel: p for p in procs}
    while pending:
        for sentinel in connection.wait(list(pending)):
            p = pending.pop(sentinel)
            p.join()
            if p.exitcode != 0:
                for q in pending.values():
                    q.terminate()
                return
