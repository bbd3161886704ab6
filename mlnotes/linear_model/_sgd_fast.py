"""Compiled epoch loop of plain stochastic gradient descent (chapters 2 and 3 of the notes).

One call of :func:`_plain_sgd` runs up to ``n_epochs`` passes over the data for
one binary classification problem (labels in ``{-1, +1}``, or ``{0, 1}`` for the
log loss) or one regression problem: shuffling, the gradient step of the loss,
the learning-rate schedule, the penalty (weight decay and the cumulative L1
truncation), averaging, and the per-epoch stopping rule (training objective or
validation score). It is the algorithm of scikit-learn's ``_plain_sgd``, shared
by :class:`~mlnotes.linear_model.Perceptron`,
:class:`~mlnotes.linear_model.SGDClassifier` and
:class:`~mlnotes.linear_model.SGDRegressor`.

All state that must survive between calls (random generator, sample order, L1
accumulators, scale of the weights, averaging coefficients, learning rate,
best objective, patience counter, intercepts) lives in small arrays, so a
caller may run the loop in one call (the fast path) or one epoch at a time (to
print progress) with identical results; :func:`_finalize` then folds the scale
into the weights.

The kernel's arguments are grouped into named tuples (numba passes them as
structs, at no cost), so that two arrays or two settings cannot be swapped by
position: :class:`SGDData` (the samples, read only), :class:`SGDParams` (the
fit's settings) and :class:`SGDState` (everything the loop writes). The loop
unpacks them into locals once, at entry, and the helpers it calls per sample
take plain arrays.

The weights are stored as ``wscale * w`` (so that the L2 weight decay costs
O(1) per sample) and the averaged weights as ``(aw + avg_a * w) / avg_b``
(Bottou's trick, so that averaging costs O(nnz) per sample), both exactly as in
scikit-learn. The samples are read either from a dense C-ordered array ``X`` or
from the three arrays of a CSR matrix, all float64 (one compiled specialisation
serves every input); the weights are float64.
"""

import math
from collections import namedtuple

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

# penalty codes
NO_PENALTY, L1, L2, ELASTICNET = 0, 1, 2, 3
PENALTY_CODES = {None: NO_PENALTY, "l1": L1, "l2": L2, "elasticnet": ELASTICNET}

# learning-rate schedules (scikit-learn's numbering)
CONSTANT, OPTIMAL, INVSCALING, ADAPTIVE, PA1, PA2 = 1, 2, 3, 4, 5, 6
LEARNING_RATE_CODES = {"constant": CONSTANT, "optimal": OPTIMAL, "invscaling": INVSCALING,
                       "adaptive": ADAPTIVE, "pa1": PA1, "pa2": PA2}

# losses; the parameter is the margin threshold of the hinge losses, or epsilon
HINGE, SQUARED_HINGE, LOG, MODIFIED_HUBER, SQUARED_ERROR, HUBER = 0, 1, 2, 3, 4, 5
EPSILON_INSENSITIVE, SQUARED_EPSILON_INSENSITIVE = 6, 7

# return codes of _plain_sgd
RAN_ALL, CONVERGED, NONFINITE = 0, 1, 2

# layout of the float state vector
(F_INTERCEPT, F_U, F_BEST_OBJECTIVE, F_BEST_SCORE, F_T, F_ETA, F_WSCALE, F_AVG_A, F_AVG_B,
 F_SQNORM, F_L1NORM, F_AVG_INTERCEPT) = range(12)
N_FSTATE = 12
# layout of the integer state vector
I_PATIENCE, I_COUNT = 0, 1
N_ISTATE = 2
# layout of the float statistics of the last epoch (for verbose output)
S_SUMLOSS, S_OBJECTIVE, S_SCORE = 0, 1, 2
N_STATS = 3

_RESET_WSCALE = 1e-9
_MAX_DLOSS = 1e12
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


#: The samples (read only): dense C-ordered float64 ``X`` (empty when ``sparse``) or
#: the CSR arrays ``data``/``indices``/``indptr`` (empty unless ``sparse``), the
#: targets ``y`` ({-1, +1}, or {0, 1} for the log loss), the sample weights ``sw``
#: and the validation samples ``val_idx`` (read when ``early_stopping``).
SGDData = namedtuple("SGDData", ["X", "data", "indices", "indptr", "sparse", "y", "sw",
                                 "val_idx"])

#: The fit's settings: loss code and parameter (hinge threshold or epsilon),
#: penalty code, ``alpha`` and ``l1_ratio`` (already 0 for L2, 1 for L1), the
#: learning-rate code with ``eta0``, ``power_t`` and ``optimal_init`` (offset
#: :math:`t_0` of the 'optimal' schedule), ``fit_intercept``, ``shuffle``, ``tol``
#: (``-inf`` disables the stopping rule), ``early_stopping``, ``classification``
#: (accuracy, else R^2, as validation score), ``n_iter_no_change``,
#: ``intercept_decay``, the class weights ``weight_pos``/``weight_neg``,
#: ``average`` and ``track_loss`` (sum the loss and objective: the stopping rule
#: on the training objective and verbose output need them).
SGDParams = namedtuple("SGDParams", [
    "loss_type", "loss_param", "penalty_type", "alpha", "l1_ratio", "learning_rate",
    "eta0", "power_t", "optimal_init", "fit_intercept", "shuffle", "tol", "early_stopping",
    "classification", "n_iter_no_change", "intercept_decay", "weight_pos", "weight_neg",
    "average", "track_loss"])

#: Everything the loop writes, kept between calls: the stored weights ``w`` (the
#: weights are ``wscale * w``) and averaged weights ``aw``, the visiting ``order``
#: of the training samples, the generator state ``rng`` (uint64, length 1), the L1
#: penalty ``q`` each weight received, the float state ``fstate`` (``F_*``
#: columns), the integer state ``istate`` (``I_*``) and the statistics of the last
#: epoch ``stats`` (``S_*``).
SGDState = namedtuple("SGDState", ["w", "aw", "order", "rng", "q", "fstate", "istate",
                                   "stats"])


def new_state(seed, train_idx, w, aw, *, intercept=0.0, average_intercept=0.0, t=1.0, eta0=0.01):
    """Fresh loop state for one problem, starting from the weights ``w`` (float64).

    Returns an :class:`SGDState` holding ``w`` and ``aw`` themselves (updated in
    place by the loop), the generator state seeded with ``seed``, the order in
    which the training samples ``train_idx`` are visited, the accumulated L1
    penalty actually applied to each weight, the float state (see the ``F_*``
    constants), the integer state (patience, updates) and zeroed statistics.
    """
    rng = np.array([seed], dtype=np.uint64)
    order = np.array(train_idx, dtype=np.intp)
    q = np.zeros(w.shape[0], dtype=np.float64)
    fstate = np.zeros(N_FSTATE)
    fstate[F_INTERCEPT] = intercept
    fstate[F_BEST_OBJECTIVE] = np.inf
    fstate[F_BEST_SCORE] = -np.inf
    fstate[F_T] = t
    fstate[F_ETA] = eta0
    fstate[F_WSCALE] = 1.0
    fstate[F_AVG_B] = 1.0
    fstate[F_SQNORM] = float(w @ w)
    fstate[F_L1NORM] = float(np.abs(w).sum())
    fstate[F_AVG_INTERCEPT] = average_intercept
    istate = np.zeros(N_ISTATE, dtype=np.int64)
    return SGDState(w, aw, order, rng, q, fstate, istate, np.zeros(N_STATS))


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


_MASK32 = np.uint64(0xFFFFFFFF)
_RAND_R_MOD = np.uint64(2147483648)


@njit(cache=True, nogil=True)
def _shuffle(order, rng):
    """Fisher-Yates shuffle of ``order`` in place, as scikit-learn shuffles.

    The draws come from a 32-bit xorshift generator (shifts 13, 17, 5; a zero
    state becomes 1; each draw taken modulo ``2**31``) started from the seed
    ``rng[0]`` at every call: every epoch applies the same transpositions to
    the previous epoch's order, as scikit-learn's ``SequentialDataset.shuffle``
    does, so that with the same seed the visiting order, and the fit, are
    scikit-learn's.
    """
    n = order.shape[0]
    state = rng[0] & _MASK32
    for k in range(n - 1):
        if state == 0:
            state = np.uint64(1)
        state ^= (state << np.uint64(13)) & _MASK32
        state ^= state >> np.uint64(17)
        state ^= (state << np.uint64(5)) & _MASK32
        j = k + np.intp((state % _RAND_R_MOD) % np.uint64(n - k))
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
def _sqnorm_dense(X, i):
    s = 0.0
    for j in range(X.shape[1]):
        s += X[i, j] * X[i, j]
    return s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _sqnorm_sparse(data, indptr, i):
    s = 0.0
    for jj in range(indptr[i], indptr[i + 1]):
        s += data[jj] * data[jj]
    return s


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _norms(w):
    s2 = 0.0
    s1 = 0.0
    for j in range(w.shape[0]):
        s2 += w[j] * w[j]
        s1 += abs(w[j])
    return s2, s1


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _norms_sparse(w, indices, start, stop):
    s2 = 0.0
    s1 = 0.0
    for jj in range(start, stop):
        v = w[indices[jj]]
        s2 += v * v
        s1 += abs(v)
    return s2, s1


@njit(cache=True, nogil=True)
def _log1pexp(x):
    if x <= -37.0:
        return math.exp(x)
    elif x <= -2.0:
        return math.log1p(math.exp(x))
    elif x <= 18.0:
        return math.log(1.0 + math.exp(x))
    elif x <= 33.3:
        return x + math.exp(-x)
    return x


@njit(cache=True, nogil=True)
def _loss(loss_type, param, y, p):
    """Loss of the prediction ``p`` for the target ``y`` (scikit-learn's definitions)."""
    if loss_type == HINGE:
        z = p * y
        return param - z if z <= param else 0.0
    elif loss_type == SQUARED_HINGE:
        z = param - p * y
        return z * z if z > 0.0 else 0.0
    elif loss_type == LOG:  # half binomial deviance, y in {0, 1}
        return _log1pexp(p) - y * p
    elif loss_type == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return (1.0 - z) * (1.0 - z)
        return -4.0 * z
    elif loss_type == SQUARED_ERROR:
        return 0.5 * (p - y) * (p - y)
    elif loss_type == HUBER:
        r = abs(y - p)
        return 0.5 * r * r if r <= param else param * (r - 0.5 * param)
    elif loss_type == EPSILON_INSENSITIVE:
        r = abs(y - p) - param
        return r if r > 0.0 else 0.0
    else:  # SQUARED_EPSILON_INSENSITIVE
        r = abs(y - p) - param
        return r * r if r > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _dloss(loss_type, param, y, p):
    """Derivative of the loss with respect to the prediction ``p``."""
    if loss_type == HINGE:
        return -y if p * y <= param else 0.0
    elif loss_type == SQUARED_HINGE:
        z = param - p * y
        return -2.0 * y * z if z > 0.0 else 0.0
    elif loss_type == LOG:  # expit(p) - y, evaluated stably
        if p > -37.0:
            e = math.exp(-p)
            return ((1.0 - y) - y * e) / (1.0 + e)
        return math.exp(p) - y
    elif loss_type == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0
        elif z >= -1.0:
            return 2.0 * (1.0 - z) * -y
        return -4.0 * y
    elif loss_type == SQUARED_ERROR:
        return p - y
    elif loss_type == HUBER:
        r = p - y
        if abs(r) <= param:
            return r
        return param if r >= 0.0 else -param
    elif loss_type == EPSILON_INSENSITIVE:
        if y - p > param:
            return -1.0
        elif p - y > param:
            return 1.0
        return 0.0
    else:  # SQUARED_EPSILON_INSENSITIVE
        z = y - p
        if z > param:
            return -2.0 * (z - param)
        elif z < -param:
            return 2.0 * (-z - param)
        return 0.0


@njit(cache=True, nogil=True)
def _log_both(y, p, track):
    lv = _log1pexp(p) - y * p if track else 0.0
    if p > -37.0:
        e = math.exp(-p)
        return lv, ((1.0 - y) - y * e) / (1.0 + e)
    return lv, math.exp(p) - y


@njit(cache=True, nogil=True, inline="always")
def _loss_dloss(loss_type, param, y, p, track):
    if loss_type == HINGE:
        z = p * y
        if z <= param:
            return param - z, -y
        return 0.0, 0.0
    elif loss_type == LOG:
        return _log_both(y, p, track)
    elif loss_type == SQUARED_HINGE:
        z = param - p * y
        if z > 0.0:
            return z * z, -2.0 * y * z
        return 0.0, 0.0
    elif loss_type == MODIFIED_HUBER:
        z = p * y
        if z >= 1.0:
            return 0.0, 0.0
        elif z >= -1.0:
            return (1.0 - z) * (1.0 - z), 2.0 * (1.0 - z) * -y
        return -4.0 * z, -4.0 * y
    elif loss_type == SQUARED_ERROR:
        return 0.5 * (p - y) * (p - y), p - y
    elif loss_type == HUBER:
        r = p - y
        a = abs(y - p)
        lv = 0.5 * a * a if a <= param else param * (a - 0.5 * param)
        if abs(r) <= param:
            return lv, r
        return lv, (param if r >= 0.0 else -param)
    elif loss_type == EPSILON_INSENSITIVE:
        a = abs(y - p) - param
        lv = a if a > 0.0 else 0.0
        if y - p > param:
            return lv, -1.0
        elif p - y > param:
            return lv, 1.0
        return lv, 0.0
    else:
        a = abs(y - p) - param
        lv = a * a if a > 0.0 else 0.0
        z = y - p
        if z > param:
            return lv, -2.0 * (z - param)
        elif z < -param:
            return lv, 2.0 * (-z - param)
        return lv, 0.0


@njit(cache=True, nogil=True)
def _truncate(w, q, j, wscale, u):
    """Cumulative L1 truncation of weight ``j`` (Tsuruoka et al., 2009).

    ``u`` is the total L1 penalty a weight could have received so far and
    ``q[j]`` the penalty weight ``j`` actually received; the weight moves
    towards zero by the difference, never across it.
    """
    z = w[j]
    if wscale * z > 0.0:
        w[j] = max(0.0, z - (u + q[j]) / wscale)
    elif wscale * z < 0.0:
        w[j] = min(0.0, z + (u - q[j]) / wscale)
    q[j] += wscale * (w[j] - z)


@njit(cache=True, nogil=True)
def _fold(w, aw, fstate, averaging):
    """Fold the scale (and the averaging coefficients) into the stored vectors."""
    if averaging:
        a = fstate[F_AVG_A]
        inv_b = 1.0 / fstate[F_AVG_B]
        for j in range(w.shape[0]):
            aw[j] = (aw[j] + a * w[j]) * inv_b
        fstate[F_AVG_A] = 0.0
        fstate[F_AVG_B] = 1.0
    wscale = fstate[F_WSCALE]
    for j in range(w.shape[0]):
        w[j] *= wscale
    fstate[F_WSCALE] = 1.0


@njit(cache=True, nogil=True)
def _finalize(w, aw, fstate, averaging):
    """Make ``w`` (and ``aw``) the actual weights (and averaged weights)."""
    _fold(w, aw, fstate, averaging)


@njit(cache=True, nogil=True)
def _validation_score(samples, w, wscale, intercept, classification):
    """Weighted accuracy (classification) or coefficient of determination R^2.

    Computed on the validation samples of ``samples`` (an :class:`SGDData`).
    """
    X, data, indices, indptr = samples.X, samples.data, samples.indices, samples.indptr
    sparse, y, sw, val_idx = samples.sparse, samples.y, samples.sw, samples.val_idx
    if classification:
        hits = 0.0
        total = 0.0
        for k in range(val_idx.shape[0]):
            i = val_idx[k]
            if sparse:
                p = _dot_sparse(data, indices, indptr, i, w)
            else:
                p = _dot_dense(X, i, w)
            p = p * wscale + intercept
            total += sw[i]
            if (p > 0.0) == (y[i] > 0.0):
                hits += sw[i]
        return hits / total
    total = 0.0
    ybar = 0.0
    for k in range(val_idx.shape[0]):
        i = val_idx[k]
        total += sw[i]
        ybar += sw[i] * y[i]
    ybar /= total
    num = 0.0
    den = 0.0
    for k in range(val_idx.shape[0]):
        i = val_idx[k]
        if sparse:
            p = _dot_sparse(data, indices, indptr, i, w)
        else:
            p = _dot_dense(X, i, w)
        p = p * wscale + intercept
        num += sw[i] * (y[i] - p) * (y[i] - p)
        den += sw[i] * (y[i] - ybar) * (y[i] - ybar)
    if den == 0.0:
        return 1.0 if num == 0.0 else 0.0
    return 1.0 - num / den


@njit(cache=True, nogil=True)
def _plain_sgd(samples, params, state, n_epochs):
    """Run up to ``n_epochs`` epochs of plain SGD on one problem.

    Parameters
    ----------
    samples : SGDData
        The samples, targets ({-1, +1} for classification, {0, 1} for the log
        loss), sample weights and validation samples.
    params : SGDParams
        The fit's settings.
    state : SGDState
        The weights and the loop state, updated in place: the weights are
        ``fstate[F_WSCALE] * w``; ``stats`` receives the summed loss, summed
        objective and validation score of the last epoch.
    n_epochs : int
        Epochs to run at most.

    Returns
    -------
    epochs : int
        Epochs run in this call.
    status : int
        ``RAN_ALL``, ``CONVERGED`` (the stopping rule fired) or ``NONFINITE``
        (the weights overflowed).
    """
    # Unpacked once: the per-sample loop reads locals only.
    X, data, indices, indptr = samples.X, samples.data, samples.indices, samples.indptr
    sparse, y, sw = samples.sparse, samples.y, samples.sw
    w, aw, order, rng, q = state.w, state.aw, state.order, state.rng, state.q
    fstate, istate, stats = state.fstate, state.istate, state.stats
    loss_type, loss_param = params.loss_type, params.loss_param
    penalty_type, alpha, l1_ratio = params.penalty_type, params.alpha, params.l1_ratio
    learning_rate, eta0, power_t = params.learning_rate, params.eta0, params.power_t
    optimal_init, fit_intercept = params.optimal_init, params.fit_intercept
    shuffle, tol, early_stopping = params.shuffle, params.tol, params.early_stopping
    classification, n_iter_no_change = params.classification, params.n_iter_no_change
    intercept_decay, average = params.intercept_decay, params.average
    weight_pos, weight_neg = params.weight_pos, params.weight_neg
    track_loss = params.track_loss
    n_features = w.shape[0]
    n_train = order.shape[0]
    intercept = fstate[F_INTERCEPT]
    u = fstate[F_U]
    t = fstate[F_T]
    eta = fstate[F_ETA]
    wscale = fstate[F_WSCALE]
    avg_a = fstate[F_AVG_A]
    avg_b = fstate[F_AVG_B]
    sq_norm = fstate[F_SQNORM]
    l1_norm = fstate[F_L1NORM]
    avg_intercept = fstate[F_AVG_INTERCEPT]
    count = istate[I_COUNT]
    has_penalty = penalty_type != NO_PENALTY
    has_decay = penalty_type == L2 or penalty_type == ELASTICNET
    has_l1 = penalty_type == L1 or penalty_type == ELASTICNET
    passive_aggressive = learning_rate == PA1 or learning_rate == PA2
    averaging = average > 0
    epochs = 0
    status = RAN_ALL
    while epochs < n_epochs:
        epochs += 1
        sumloss = 0.0
        objective = 0.0
        if shuffle:
            _shuffle(order, rng)
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
                start = indptr[i]
                stop = indptr[i + 1]
                p = _dot_sparse(data, indices, indptr, i, w)
            else:
                start = 0
                stop = 0
                p = _dot_dense(X, i, w)
            p = p * wscale + intercept
            if learning_rate == OPTIMAL:
                eta = 1.0 / (alpha * (optimal_init + t - 1.0))
            elif learning_rate == INVSCALING:
                eta = eta0 / t ** power_t
            yi = y[i]
            loss_value, dloss = _loss_dloss(loss_type, loss_param, yi, p, track_loss)
            if track_loss:
                sumloss += loss_value
                objective += loss_value
                if has_penalty and not passive_aggressive:
                    norm = math.sqrt(sq_norm)
                    objective += alpha * ((1.0 - l1_ratio) * 0.5 * norm * norm
                                          + l1_ratio * l1_norm)
            class_weight = weight_pos if yi > 0.0 else weight_neg

            if passive_aggressive:
                if sparse:
                    xsq = _sqnorm_sparse(data, indptr, i)
                else:
                    xsq = _sqnorm_dense(X, i)
                if learning_rate == PA1:
                    if xsq == 0.0:
                        continue
                    update = min(eta0, _loss(loss_type, loss_param, yi, p) / xsq)
                else:
                    update = _loss(loss_type, loss_param, yi, p) / (xsq + 0.5 / eta0)
                if loss_type == HINGE:
                    update *= yi
                elif yi - p < 0.0:
                    update *= -1.0
            else:
                if dloss < -_MAX_DLOSS:
                    dloss = -_MAX_DLOSS
                elif dloss > _MAX_DLOSS:
                    dloss = _MAX_DLOSS
                update = -eta * dloss
            update *= class_weight * sw[i]

            if has_decay:  # weight decay, never to negative values
                c = max(0.0, 1.0 - ((1.0 - l1_ratio) * eta * alpha))
                wscale *= c
                sq_norm *= c * c
                l1_norm *= abs(c)
                if wscale < _RESET_WSCALE:
                    fstate[F_WSCALE] = wscale
                    fstate[F_AVG_A] = avg_a
                    fstate[F_AVG_B] = avg_b
                    _fold(w, aw, fstate, averaging)
                    wscale = 1.0
                    avg_a = 0.0
                    avg_b = 1.0

            if update != 0.0:
                cs = update / wscale
                if sparse:
                    for jj in range(start, stop):
                        w[indices[jj]] += data[jj] * cs
                    if has_penalty:
                        s2, s1 = _norms_sparse(w, indices, start, stop)
                        sq_norm = s2 * (wscale * wscale)
                        l1_norm = s1 * wscale
                else:
                    for j in range(n_features):
                        w[j] += X[i, j] * cs
                    if has_penalty:
                        s2, s1 = _norms(w)
                        sq_norm = s2 * (wscale * wscale)
                        l1_norm = s1 * wscale
                if fit_intercept:
                    intercept += update * intercept_decay

            if averaging and average <= t:
                num_iter = t - average + 1.0
                ca = -update / wscale
                if sparse:
                    for jj in range(start, stop):
                        aw[indices[jj]] += avg_a * data[jj] * ca
                else:
                    for j in range(n_features):
                        aw[j] += avg_a * X[i, j] * ca
                mu = 1.0 / num_iter
                if num_iter > 1.0:
                    avg_b /= 1.0 - mu
                avg_a += mu * avg_b * wscale
                avg_intercept += (intercept - avg_intercept) / num_iter

            if has_l1:
                u += l1_ratio * eta * alpha
                if sparse:
                    for jj in range(start, stop):
                        _truncate(w, q, indices[jj], wscale, u)
                else:
                    for j in range(n_features):
                        _truncate(w, q, j, wscale, u)
            t += 1.0
            count += 1

        finite = np.isfinite(intercept)
        for j in range(n_features):
            finite = finite and np.isfinite(w[j])
        if not finite:
            status = NONFINITE
            break

        stats[S_SUMLOSS] = sumloss
        stats[S_OBJECTIVE] = objective
        if early_stopping:
            score = _validation_score(samples, w, wscale, intercept, classification)
            stats[S_SCORE] = score
            if score < fstate[F_BEST_SCORE] + tol:
                istate[I_PATIENCE] += 1
            else:
                istate[I_PATIENCE] = 0
            if score > fstate[F_BEST_SCORE]:
                fstate[F_BEST_SCORE] = score
        else:
            mean_objective = objective / n_train
            if mean_objective > fstate[F_BEST_OBJECTIVE] - tol:
                istate[I_PATIENCE] += 1
            else:
                istate[I_PATIENCE] = 0
            if mean_objective < fstate[F_BEST_OBJECTIVE]:
                fstate[F_BEST_OBJECTIVE] = mean_objective
        if istate[I_PATIENCE] >= n_iter_no_change:
            if learning_rate == ADAPTIVE and eta > 1e-6:
                eta = eta / 5.0
                istate[I_PATIENCE] = 0
            else:
                status = CONVERGED
                break
    fstate[F_INTERCEPT] = intercept
    fstate[F_U] = u
    fstate[F_T] = t
    fstate[F_ETA] = eta
    fstate[F_WSCALE] = wscale
    fstate[F_AVG_A] = avg_a
    fstate[F_AVG_B] = avg_b
    fstate[F_SQNORM] = sq_norm
    fstate[F_L1NORM] = l1_norm
    fstate[F_AVG_INTERCEPT] = avg_intercept
    istate[I_COUNT] = count
    return epochs, status
