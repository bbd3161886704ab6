"""Compiled epoch loop of the perceptron (plain SGD on the perceptron loss).

One call of :func:`_plain_sgd` runs up to ``n_epochs`` passes over the data for
one binary problem (labels in ``{-1, +1}``): shuffling, the mistake-driven
update, the penalty, the per-epoch stopping rule (training objective or
validation accuracy). All state that must survive between calls (random
generator, sample order, L1 accumulators, best objective, patience counter,
intercept) lives in small arrays, so a caller may run the loop in one call
(the fast path) or one epoch at a time (to print progress) with identical
results.

The samples are read either from a dense C-ordered array ``X`` or from the
three arrays of a CSR matrix; the weights are always float64.
"""

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# penalty codes
NO_PENALTY, L1, L2, ELASTICNET = 0, 1, 2, 3
PENALTY_CODES = {None: NO_PENALTY, "l1": L1, "l2": L2, "elasticnet": ELASTICNET}

# return codes of _plain_sgd
RAN_ALL, CONVERGED, NONFINITE = 0, 1, 2

# layout of the float state vector
F_INTERCEPT, F_U, F_BEST_OBJECTIVE, F_BEST_SCORE = 0, 1, 2, 3
N_FSTATE = 4
# layout of the float statistics of the last epoch (for verbose output)
S_SUMLOSS, S_OBJECTIVE, S_SCORE = 0, 1, 2
N_STATS = 3

_RESET_WSCALE = 1e-9
# Rows are visited in random order: fetch the row that comes this many samples
# later into the cache while the current one is processed.
_PREFETCH_DISTANCE = 16
# Only the summation order of dot products may change (vectorised reductions);
# no assumption about NaN or inf, which the overflow check must still see.
_FASTMATH = {"reassoc", "contract"}
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def new_state(seed, train_idx, n_features):
    """Fresh loop state for one binary problem.

    Returns ``(rng, order, q, fstate, patience)``: the generator state seeded
    with ``seed``, the order in which the training samples are visited, the
    accumulated L1 penalty actually applied to each weight, the float state
    (intercept, total L1 penalty ``u``, best objective, best score) and the
    count of epochs without improvement.
    """
    rng = np.array([seed], dtype=np.uint64)
    order = np.array(train_idx, dtype=np.intp)
    q = np.zeros(n_features, dtype=np.float64)
    fstate = np.array([0.0, 0.0, np.inf, -np.inf])
    patience = np.zeros(1, dtype=np.int64)
    return rng, order, q, fstate, patience


@intrinsic
def _prefetch(typingctx, X, i, j):
    """Hint the CPU to bring the cache line of ``X[i, j]`` (2-D array) into cache."""
    if not (isinstance(X, types.Array) and X.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        inds = [context.cast(builder, v, t, types.intp)
                for v, t in zip(args[1:], signature.args[1:])]
        ptr = cgutils.get_item_pointer2(
            context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
            strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout,
            inds=inds, wraparound=False, boundscheck=False,
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        # read access, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0),
                          ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(X, i, j), codegen


@njit(cache=True, nogil=True)
def _next_uint64(rng):
    """SplitMix64: one 64-bit draw, advancing ``rng[0]``."""
    z = rng[0] + _GOLDEN
    rng[0] = z
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@njit(cache=True, nogil=True)
def _shuffle(order, rng):
    """Fisher-Yates shuffle of ``order`` in place."""
    n = order.shape[0]
    for k in range(n - 1):
        j = k + np.intp(_next_uint64(rng) % np.uint64(n - k))
        tmp = order[k]
        order[k] = order[j]
        order[j] = tmp


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _dot_dense(X, i, w):
    s = 0.0
    for j in range(X.shape[1]):
        s += w[j] * X[i, j]
    return s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _dot_sparse(data, indices, indptr, i, w):
    s = 0.0
    for jj in range(indptr[i], indptr[i + 1]):
        s += w[indices[jj]] * data[jj]
    return s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _norms(w):
    s2 = 0.0
    s1 = 0.0
    for j in range(w.shape[0]):
        s2 += w[j] * w[j]
        s1 += abs(w[j])
    return s2, s1


@njit(cache=True, nogil=True)
def _truncate(w, q, j, wscale, u):
    """Cumulative L1 truncation of weight ``j`` (Tsuruoka et al., 2009).

    ``u`` is the total L1 penalty a weight could have received so far and
    ``q[j]`` the penalty weight ``j`` actually received; the weight moves
    towards zero by the difference, never across it. Returns the old stored
    value so that the caller can update its running norms.
    """
    z = w[j]
    if wscale * z > 0.0:
        w[j] = max(0.0, z - (u + q[j]) / wscale)
    elif wscale * z < 0.0:
        w[j] = min(0.0, z + (u - q[j]) / wscale)
    q[j] += wscale * (w[j] - z)
    return z


@njit(cache=True, nogil=True)
def _plain_sgd(X, data, indices, indptr, sparse, y, step, sw, val_idx,
               w, order, rng, q, fstate, patience, stats,
               n_epochs, penalty_type, alpha, l1_ratio, eta, fit_intercept,
               shuffle, tol, early_stopping, n_iter_no_change, intercept_decay):
    """Run up to ``n_epochs`` epochs of the perceptron on one binary problem.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Dense samples (C order); ignored (may be empty) when ``sparse``.
    data, indices, indptr : ndarray
        CSR arrays of the samples; ignored (may be empty) unless ``sparse``.
    sparse : bool
        Whether the samples are read from the CSR arrays.
    y : ndarray of shape (n_samples,)
        Labels in {-1, +1}.
    step : ndarray of shape (n_samples,)
        Signed update of each sample on a mistake:
        ``eta0 * y_i * class_weight(y_i) * sample_weight_i``.
    sw : ndarray of shape (n_samples,)
        Sample weights (weights of the validation accuracy).
    val_idx : ndarray of int
        Validation samples (used when ``early_stopping``).
    w : ndarray of shape (n_features,), float64
        Weights, updated in place.
    order : ndarray of int
        Training samples, in the order of the last epoch (shuffled in place).
    rng : ndarray of shape (1,), uint64
        SplitMix64 state.
    q : ndarray of shape (n_features,)
        L1 penalty received by each weight (L1 and elastic net only).
    fstate : ndarray of shape (4,)
        Intercept, total L1 penalty ``u``, best objective, best score.
    patience : ndarray of shape (1,), int64
        Epochs without improvement so far.
    stats : ndarray of shape (3,)
        Output: summed loss, summed objective and validation score of the
        last epoch.
    n_epochs : int
        Epochs to run at most.
    penalty_type, alpha, l1_ratio, eta, fit_intercept, shuffle, tol, \
early_stopping, n_iter_no_change, intercept_decay
        As in the estimator; ``l1_ratio`` already set to 0 (L2) or 1 (L1),
        ``tol=-inf`` disables the stopping rule.

    Returns
    -------
    epochs : int
        Epochs run in this call.
    status : int
        ``RAN_ALL``, ``CONVERGED`` (the stopping rule fired) or ``NONFINITE``
        (the weights overflowed).
    """
    n_features = w.shape[0]
    n_train = order.shape[0]
    intercept = fstate[F_INTERCEPT]
    u = fstate[F_U]
    wscale = 1.0
    has_penalty = penalty_type != NO_PENALTY
    has_l1 = penalty_type == L1 or penalty_type == ELASTICNET
    decay = 1.0
    if penalty_type == L2 or penalty_type == ELASTICNET:
        decay = max(0.0, 1.0 - (1.0 - l1_ratio) * eta * alpha)
    l1_step = l1_ratio * eta * alpha
    s2 = 0.0
    s1 = 0.0
    epochs = 0
    status = RAN_ALL
    while epochs < n_epochs:
        epochs += 1
        sumloss = 0.0
        objective = 0.0
        if shuffle:
            _shuffle(order, rng)
        if has_penalty:
            s2, s1 = _norms(w)  # stored (unscaled) squared and absolute norms
        for k in range(n_train):
            if not sparse and k + _PREFETCH_DISTANCE < n_train:
                ahead = order[k + _PREFETCH_DISTANCE]
                for j in range(0, n_features, 8):
                    _prefetch(X, ahead, j)
                _prefetch(X, ahead, n_features - 1)
            i = order[k]
            # (the branch stays here: behind a shared helper the dense loop is
            # no longer vectorised)
            if sparse:
                p = _dot_sparse(data, indices, indptr, i, w)
            else:
                p = _dot_dense(X, i, w)
            z = y[i] * (p * wscale + intercept)
            mistake = z <= 0.0
            if mistake:
                sumloss -= z
            if has_penalty:
                objective += alpha * ((1.0 - l1_ratio) * 0.5 * wscale * wscale * s2
                                      + l1_ratio * wscale * s1)
            if decay != 1.0:
                wscale *= decay
                if wscale < _RESET_WSCALE:
                    for j in range(n_features):
                        w[j] *= wscale
                    s2 *= wscale * wscale
                    s1 *= wscale
                    wscale = 1.0
            if mistake and step[i] != 0.0:
                c = step[i] / wscale
                if sparse:
                    for jj in range(indptr[i], indptr[i + 1]):
                        j = indices[jj]
                        old = w[j]
                        w[j] = old + c * data[jj]
                        if has_penalty:
                            s2 += w[j] * w[j] - old * old
                            s1 += abs(w[j]) - abs(old)
                else:
                    for j in range(n_features):
                        w[j] += c * X[i, j]
                    if has_penalty:
                        s2, s1 = _norms(w)
                if fit_intercept:
                    intercept += step[i] * intercept_decay
            if has_l1:
                u += l1_step
                if sparse:
                    for jj in range(indptr[i], indptr[i + 1]):
                        j = indices[jj]
                        old = _truncate(w, q, j, wscale, u)
                        s2 += w[j] * w[j] - old * old
                        s1 += abs(w[j]) - abs(old)
                else:
                    for j in range(n_features):
                        _truncate(w, q, j, wscale, u)
                    s2, s1 = _norms(w)
        objective += sumloss

        if wscale != 1.0:
            for j in range(n_features):
                w[j] *= wscale
            wscale = 1.0
        finite = np.isfinite(intercept)
        for j in range(n_features):
            finite = finite and np.isfinite(w[j])
        if not finite:
            status = NONFINITE
            break

        stats[S_SUMLOSS] = sumloss
        stats[S_OBJECTIVE] = objective
        if early_stopping:
            hits = 0.0
            total = 0.0
            for k in range(val_idx.shape[0]):
                i = val_idx[k]
                if sparse:
                    p = _dot_sparse(data, indices, indptr, i, w) + intercept
                else:
                    p = _dot_dense(X, i, w) + intercept
                total += sw[i]
                if (p > 0.0) == (y[i] > 0.0):
                    hits += sw[i]
            score = hits / total
            stats[S_SCORE] = score
            if score < fstate[F_BEST_SCORE] + tol:
                patience[0] += 1
            else:
                patience[0] = 0
            if score > fstate[F_BEST_SCORE]:
                fstate[F_BEST_SCORE] = score
        else:
            mean_objective = objective / n_train
            if mean_objective > fstate[F_BEST_OBJECTIVE] - tol:
                patience[0] += 1
            else:
                patience[0] = 0
            if mean_objective < fstate[F_BEST_OBJECTIVE]:
                fstate[F_BEST_OBJECTIVE] = mean_objective
        if patience[0] >= n_iter_no_change:
            status = CONVERGED
            break
    fstate[F_INTERCEPT] = intercept
    fstate[F_U] = u
    return epochs, status
