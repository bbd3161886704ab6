"""Every use of a dependency's private internals, in one place, behind one switch.

A few speed paths of mlnotes call private functions of torch and numba: an upstream
release may change them without notice. This module is the one place that says what is
private, why we use it and what runs instead; the call sites import their switch from
here. Setting the environment variable ``MLNOTES_DISABLE_FASTPATHS=1`` (read once, when
mlnotes is imported) turns every fast path off, so that the public-API fallbacks run
instead; CI runs a subset of the test suite that way (``make test-no-fastpaths``) and
``tests/test_fastpaths.py`` checks that each fast path and its fallback agree.

Fast paths (module that uses it: private API -- why -- fallback):

``mlnotes.base`` (``_Adam``, ``_SGD``: the optimisers of the torch estimators)
    ``torch._fused_adam_`` / ``torch._fused_sgd_`` and ``torch._foreach_*`` -- one kernel
    per step for all tensors instead of a few small ops per tensor -- the same update
    written with public ``Tensor`` methods, one tensor at a time.
``mlnotes.rl.common`` (:func:`fused_adam_step`, :func:`rmsprop_step`)
    ``torch._fused_adam_``, ``torch._foreach_*`` and the optimiser hook registries
    (``Optimizer._optimizer_step_pre_hooks``, ``torch.optim.optimizer._global_optimizer_*``)
    -- the per-call dispatch of ``Optimizer.step`` (profiler records, hook checks,
    grouping by device) costs more than the arithmetic on the agents' small networks --
    ``optimizer.step()``.
``mlnotes.utils._torch.clip_gradients``, ``mlnotes.rl.common.off_policy_algorithm.polyak_update``
    ``torch._foreach_norm`` / ``_foreach_mul_`` / ``_foreach_copy_`` / ``_foreach_lerp_``
    -- one op for all tensors in the agents' hot loops -- the same arithmetic one tensor
    at a time with public ops.
``mlnotes.neural_network._mlp`` (``_MLPModule``)
    overrides ``nn.Module._apply`` to refresh its cached list of layers when ``.to()``
    replaces the parameters -- indexing ``ParameterList`` on every mini-batch costs more
    than the small matrix products -- the list is rebuilt on every forward pass.
``mlnotes.tree``, ``mlnotes.svm._smo`` (kernels decorated with :func:`njit` and ``_nrt=False``)
    numba's private ``_nrt=False`` flag -- no reference counting on the array arguments
    of the hot kernels (about a third of the time on small tree nodes; in the SVM
    solver, the kernel-row cache lookup that reads its arrays from a named tuple a few
    times per iteration, about 5% of an SVC fit on digits) -- numba's default
    (reference counting on). numba caches compiled kernels without recording this flag,
    so with the fast paths off mlnotes points numba at a separate cache directory
    (``<cache>/mlnotes-fastpaths-off``) and never loads a kernel compiled the other way.

Private APIs that are *not* behind the switch, and why:

- torch's multi-tensor ops ``torch._foreach_*`` in the training loop of
  :class:`mlnotes.base.TorchEstimator` (L2 penalty and gradient clipping) and in the
  GAN's weight average. They are the
  ops torch's own optimisers and ``clip_grad_norm_`` run (their ``foreach``
  implementations) and have no fallback yet; ``tests/test_fastpaths.py`` pins the list of
  modules that use them, so a new use has to be added here.
- ``torch.nn.modules.conv._ConvNd`` (``mlnotes.base``, ``mlnotes.utils._torch``): an
  ``isinstance`` test for "any convolution" in the FLOP estimate of the thread-count
  heuristic; a rename would change a thread count, not a result.
- Stable-Baselines3's ``_patch_env`` is no longer used: it converts legacy ``gym``
  environments, and our agents accept only ``gymnasium.Env`` (for which it returned the
  environment unchanged) or a ``VecEnv``.
- scikit-learn's parameter validation (``sklearn.utils._param_validation``: ``Interval``,
  ``StrOptions``, ... in the ``_parameter_constraints`` of ~40 estimators, and
  ``BaseEstimator._validate_params``) and a few validation helpers
  (:data:`SKLEARN_PRIVATE` lists them all). They are not a speed path but the contract
  itself: they raise scikit-learn's ``InvalidParameterError`` with scikit-learn's
  messages, which ``check_estimator``'s ``check_param_validation`` requires and which
  users catch. A public-API rewrite would be a second implementation of the same checks
  that can drift from scikit-learn's. scikit-learn is therefore a *pinned-tested*
  dependency: the declared minimum is tested (``tools/check_min_versions.sh``), CI tests
  the newest release, and ``tests/test_fastpaths.py`` imports every name of
  :data:`SKLEARN_PRIVATE` (one failing test that names what moved) and fails when a
  module imports a private scikit-learn name missing from that list.
"""

import contextlib
import os

ENV_VAR = "MLNOTES_DISABLE_FASTPATHS"

#: Private scikit-learn names mlnotes imports (module -> names): the pinned-tested surface.
SKLEARN_PRIVATE = {
    "sklearn.utils._param_validation": (
        "HasMethods", "Hidden", "Interval", "Options", "RealNotInt", "StrOptions",
        "validate_params",
    ),
    "sklearn.utils.validation": ("_check_sample_weight", "_check_feature_names_in",
                                 "_check_n_features", "_num_samples",
                                 "_is_arraylike_not_scalar"),
    "sklearn.utils": ("_safe_indexing", "_align_api_if_sparse"),
    "sklearn.utils._sparse": ("_align_api_if_sparse",),
    "sklearn.utils._tags": ("get_tags",),
    "sklearn.utils.multiclass": ("_check_partial_fit_first_call",),
    "sklearn.metrics.pairwise": ("_VALID_METRICS",),
    "sklearn.base": ("_fit_context",),
}


def _read_switch():
    value = os.environ.get(ENV_VAR, "").strip().lower()
    return value not in ("", "0", "false", "no", "off")


_enabled = not _read_switch()


def enabled():
    """Whether the fast paths are on (``MLNOTES_DISABLE_FASTPATHS`` unset or ``0``).

    Returns
    -------
    on : bool
        True unless the environment variable was set when mlnotes was imported (or
        :func:`forced` is active).
    """
    return _enabled


@contextlib.contextmanager
def forced(on):
    """Turn the run-time fast paths on or off inside a ``with`` block (for tests).

    Only the switches read at run time follow it (the torch optimisers, the MLP's
    layer cache); numba's flag is read when a kernel is decorated.
    """
    global _enabled
    previous, _enabled = _enabled, bool(on)
    try:
        yield
    finally:
        _enabled = previous


def report():
    """What is on: ``python -c "from mlnotes import _fastpaths; print(_fastpaths.report())"``.

    Returns
    -------
    status : dict
        ``{"enabled": bool, "numba_nrt_off": bool, "numba_cache_dir": str or None}``.
    """
    return {"enabled": _enabled, "numba_nrt_off": _NUMBA_NRT_OFF,
            "numba_cache_dir": os.environ.get("NUMBA_CACHE_DIR")}


# ----------------------------------------------------------------------------- numba

#: numba's ``_nrt`` flag honoured: fixed when mlnotes is imported (kernels are decorated
#: at import time, and numba's cache does not record the flag).
_NUMBA_NRT_OFF = _enabled


def njit(*args, **kwargs):
    """``numba.njit``, dropping the private ``_nrt=False`` when the fast paths are off.

    Parameters
    ----------
    *args, **kwargs
        As for ``numba.njit``.

    Returns
    -------
    decorator_or_dispatcher
        What ``numba.njit`` returns.
    """
    import numba

    if not _NUMBA_NRT_OFF:
        kwargs.pop("_nrt", None)
    return numba.njit(*args, **kwargs)


def separate_numba_cache():
    """With the fast paths off, cache numba kernels apart from those compiled with them.

    Points ``NUMBA_CACHE_DIR`` at ``mlnotes-fastpaths-off`` under the directory numba
    would otherwise use (``$NUMBA_CACHE_DIR``, else the per-user cache). Called once
    by ``mlnotes/__init__.py`` before any kernel is decorated; does nothing when the
    fast paths are on.

    Returns
    -------
    path : str or None
        The directory set, or None.
    """
    if _NUMBA_NRT_OFF:
        return None
    from mlnotes._numba_cache import _user_cache_dir, _writable, set_cache_dir, temp_cache_dir

    base = os.environ.get("NUMBA_CACHE_DIR") or _user_cache_dir()
    path = os.path.join(base, "mlnotes-fastpaths-off")
    if not _writable(path):
        path = temp_cache_dir("mlnotes-fastpaths-off")
    return set_cache_dir(path)


# ----------------------------------------------------------------------------- torch


_TORCH = None


def _torch():
    """``(torch, torch.optim.optimizer)``, imported on first use (mlnotes imports this
    module before torch; importing torch here would slow ``import mlnotes``)."""
    global _TORCH
    if _TORCH is None:
        import torch
        from torch.optim import optimizer as optim_module

        _TORCH = (torch, optim_module)
    return _TORCH


def _fusable(optimizer, name):
    """``torch`` if a fused step may replace ``optimizer.step()``, else None.

    It may when the fast paths are on, ``optimizer`` is exactly ``torch.optim.<name>``
    (a subclass may change the update) and no step hook (the optimiser's own or a
    global one) is registered: the fused step would skip them.
    """
    torch, optim_module = _TORCH or _torch()
    if (not _enabled or type(optimizer) is not getattr(torch.optim, name)
            or optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks
            or optim_module._global_optimizer_pre_hooks
            or optim_module._global_optimizer_post_hooks):
        return None
    return torch


def _fused_adam_cache(optimizer):
    """Per-group lists ``(group params, params, exp_avgs, exp_avg_sqs, steps)`` of a
    plain Adam, kept on the optimiser; None while its state is not initialised."""
    cache = optimizer.__dict__.get("_mlnotes_fused_adam")
    groups = optimizer.param_groups
    if cache is not None and len(cache) == len(groups) and all(
            c[0] is g["params"] and (not c[1] or optimizer.state.get(c[1][0], {}).get(
                "exp_avg") is c[2][0]) for c, g in zip(cache, groups)):
        return cache  # same groups, same state tensors (load_state_dict replaces them)
    cache = []
    for group in groups:
        params = group["params"]
        states = [optimizer.state.get(p) for p in params]
        if not all(st and "exp_avg" in st for st in states):
            return None
        if any(p.is_sparse or p.is_complex() for p in params):
            return None
        cache.append((params, list(params), [st["exp_avg"] for st in states],
                      [st["exp_avg_sq"] for st in states], [st["step"] for st in states]))
    optimizer.__dict__["_mlnotes_fused_adam"] = cache
    return cache


def fused_adam_step(optimizer, drop_grads=False):
    """Step a plain fused ``torch.optim.Adam`` by calling its kernel directly.

    Does what ``optimizer.step()`` does for ``torch.optim.Adam(..., fused=True)`` with
    float hyperparameters, no AMSGrad, no hooks and its state initialised (after the
    first ``step()``); anything else, or with the fast paths off, is left to the
    caller (returns False, nothing done).

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser, after ``backward``.
    drop_grads : bool, default=False
        Set every parameter's ``.grad`` to None after the step (what
        ``optimizer.zero_grad()`` does), when the step was taken.

    Returns
    -------
    done : bool
        Whether the step was taken.
    """
    torch = _fusable(optimizer, "Adam")
    if torch is None:
        return False
    for group in optimizer.param_groups:
        if (not group.get("fused") or group["amsgrad"] or group["maximize"]
                or group["capturable"] or group["differentiable"]
                or group.get("decoupled_weight_decay", False)
                or isinstance(group["lr"], torch.Tensor)
                or isinstance(group["betas"][0], torch.Tensor)):
            return False
    cache = _fused_adam_cache(optimizer)
    if cache is None:
        return False
    grads = []
    for _, params, *_ in cache:
        gs = [p.grad for p in params]
        for g in gs:  # (not "None in gs": that compares tensors with ==)
            if g is None:
                return False
        grads.append(gs)
    with torch.no_grad():
        for group, (_, params, avgs, squares, steps), gs in zip(optimizer.param_groups,
                                                                 cache, grads):
            beta1, beta2 = group["betas"]
            torch._foreach_add_(steps, 1)
            torch._fused_adam_(params, gs, avgs, squares, [], steps, amsgrad=False,
                               lr=group["lr"], beta1=beta1, beta2=beta2,
                               weight_decay=group["weight_decay"], eps=group["eps"],
                               maximize=False, grad_scale=None, found_inf=None)
    if drop_grads:
        for _, params, *_ in cache:
            for p in params:
                p.grad = None
    return True


def rmsprop_step(optimizer):
    """Step a plain ``torch.optim.RMSprop`` with torch's foreach ops directly.

    For SB3's A2C setting (no momentum, not centred, no weight decay, float learning
    rate, no hooks, float32 CPU tensors, state initialised) the same operations as its
    multi-tensor implementation, without the per-call dispatch; anything else, or with
    the fast paths off, is left to the caller (returns False, nothing done). The
    gradients are kept, as ``optimizer.step()`` keeps them.

    Parameters
    ----------
    optimizer : torch.optim.Optimizer
        The optimiser, after ``backward``.

    Returns
    -------
    done : bool
        Whether the step was taken.
    """
    torch = _fusable(optimizer, "RMSprop")
    if torch is None:
        return False
    work = []
    for group in optimizer.param_groups:
        if (group["momentum"] or group["centered"] or group["weight_decay"]
                or group["maximize"] or group["capturable"] or group["differentiable"]
                or isinstance(group["lr"], torch.Tensor)):
            return False
        params, grads, squares, steps = [], [], [], []
        for p in group["params"]:
            if p.grad is None:
                continue
            state = optimizer.state.get(p)
            if (not state or p.grad.is_sparse or p.is_complex() or p.device.type != "cpu"
                    or p.dtype != torch.float32):
                return False
            params.append(p)
            grads.append(p.grad)
            squares.append(state["square_avg"])
            steps.append(state["step"])
        if params:
            work.append((group, params, grads, squares, steps))
    with torch.no_grad():
        one = torch.tensor(1.0)
        for group, params, grads, squares, steps in work:
            alpha = group["alpha"]
            torch._foreach_add_(steps, one, alpha=1.0)
            torch._foreach_mul_(squares, alpha)
            torch._foreach_addcmul_(squares, grads, grads, value=1 - alpha)
            avg = torch._foreach_sqrt(squares)
            torch._foreach_add_(avg, group["eps"])
            torch._foreach_addcdiv_(params, grads, avg, value=-group["lr"])
    return True

