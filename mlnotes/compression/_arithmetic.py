r"""Arithmetic coding with exact integer arithmetic, driven by a density model."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["decode", "encode"]

_STATE_BITS = 64  # width of the coder's interval [low, high]
_FREQ_BITS = 24  # total of a quantised frequency table
_HALF = 1 << (_STATE_BITS - 1)
_QUARTER = 1 << (_STATE_BITS - 2)
_TOP = (1 << _STATE_BITS) - 1


def _frequency_tables(proba):
    """Integer cumulative frequencies ``(n, K + 1)`` from probabilities ``(n, K)``.

    Every level gets at least 1 (so every symbol stays codable) and the rest of
    :math:`2^{24} - K` in proportion to its probability, rounded down; the coder uses
    each row's own total. Encoder and decoder call this on identical float64 inputs,
    so they get identical tables.
    """
    proba = np.asarray(proba, dtype=np.float64)
    K = proba.shape[1]
    proba = np.clip(proba, 0.0, None)
    proba = proba / proba.sum(axis=1, keepdims=True)
    freq = np.floor(proba * ((1 << _FREQ_BITS) - K)).astype(np.int64) + 1
    cum = np.zeros((proba.shape[0], K + 1), dtype=np.int64)
    np.cumsum(freq, axis=1, out=cum[:, 1:])
    return cum


class _Encoder:
    def __init__(self):
        self.low, self.high, self.pending = 0, _TOP, 0
        self.bits = []

    def _emit(self, bit):
        self.bits.append(bit)
        self.bits.extend([1 - bit] * self.pending)
        self.pending = 0

    def encode(self, lo, hi, total):
        span = self.high - self.low + 1
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                self._emit(0)
            elif self.low >= _HALF:
                self._emit(1)
                self.low -= _HALF
                self.high -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.pending += 1
                self.low -= _QUARTER
                self.high -= _QUARTER
            else:
                break
            self.low <<= 1
            self.high = (self.high << 1) | 1

    def finish(self):
        self.pending += 1
        self._emit(0 if self.low < _QUARTER else 1)
        return np.packbits(np.asarray(self.bits, dtype=np.uint8)).tobytes()


class _Decoder:
    def __init__(self, data):
        self.bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).tolist()
        self.pos = 0
        self.low, self.high, self.value = 0, _TOP, 0
        for _ in range(_STATE_BITS):
            self.value = (self.value << 1) | self._next_bit()

    def _next_bit(self):
        bit = self.bits[self.pos] if self.pos < len(self.bits) else 0
        self.pos += 1
        return bit

    def decode(self, cum):
        """Decode one symbol with cumulative frequencies ``cum`` (length K + 1)."""
        total = int(cum[-1])
        span = self.high - self.low + 1
        target = ((self.value - self.low + 1) * total - 1) // span
        k = int(np.searchsorted(cum, target, side="right")) - 1
        lo, hi = int(cum[k]), int(cum[k + 1])
        self.high = self.low + span * hi // total - 1
        self.low = self.low + span * lo // total
        while True:
            if self.high < _HALF:
                pass
            elif self.low >= _HALF:
                self.low -= _HALF
                self.high -= _HALF
                self.value -= _HALF
            elif self.low >= _QUARTER and self.high < _HALF + _QUARTER:
                self.low -= _QUARTER
                self.high -= _QUARTER
                self.value -= _QUARTER
            else:
                break
            self.low <<= 1
            self.high = (self.high << 1) | 1
            self.value = (self.value << 1) | self._next_bit()
        return k


def _kind(model):
    """``"autoregressive"`` or ``"independent"``; TypeError for other models."""
    from mlnotes.density._base import AutoregressiveDensity, IndependentLevelsMixin

    if isinstance(model, AutoregressiveDensity):
        check_is_fitted(model, "module_")
        return "autoregressive"
    if isinstance(model, IndependentLevelsMixin):
        check_is_fitted(model, "log_probs_")
        return "independent"
    raise TypeError(
        "encode/decode need a fitted discrete density model of mlnotes.density: an "
        "autoregressive model (MADE, PixelCNN, TransformerAR, RNNDensity) or a 1-D "
        f"model (Histogram, DiscretizedLogisticMixture); got {type(model).__name__}."
    )


def _ar_conditionals(model, idx, pos):
    """Frequencies of the feature generated at step ``pos`` for every row.

    The model sees the levels of the features generated before step ``pos`` and
    level 0 elsewhere: exactly the input the decoder has at that step.
    """
    order = np.asarray(model.ordering_)
    known = np.zeros_like(idx)
    known[:, order[:pos]] = idx[:, order[:pos]]
    proba = model.conditional_distribution(model._level_values(known))
    return _frequency_tables(proba[:, order[pos]])


def encode(model, X):
    """Compress the rows of ``X`` into bytes with an arithmetic coder.

    Parameters
    ----------
    model : fitted density estimator
        A discrete model of :mod:`mlnotes.density`: autoregressive (MADE,
        PixelCNN, TransformerAR, RNNDensity) or 1-D (Histogram,
        DiscretizedLogisticMixture).
    X : array-like of shape (n_samples, n_features)
        Rows whose values are levels of the model (integer data); quantised data
        are coded as their bins (then :func:`decode` returns the bin centres).

    Returns
    -------
    data : bytes
        The code. Its length in bits is at most :math:`-\\log_2 p(X)` (the
        model's negative log-likelihood of ``X`` in bits, with ``p`` quantised to
        24-bit frequencies) plus 2 bits and the padding of the last byte.

    Raises
    ------
    ValueError
        If a value of ``X`` is not one of the model's levels (it has no code).

    See Also
    --------
    decode : The inverse.

    Notes
    -----
    Chapter 57 of the notes. An arithmetic coder keeps an interval
    :math:`[l, h)` of integers, :math:`0 \\le l < h \\le 2^{64}`; a symbol with
    cumulative frequencies :math:`c_k \\le c_{k+1}` out of a total :math:`C`
    narrows it to

    .. math::

        l' = l + \\Big\\lfloor \\frac{(h - l)\\, c_k}{C} \\Big\\rfloor, \\qquad
        h' = l + \\Big\\lfloor \\frac{(h - l)\\, c_{k+1}}{C} \\Big\\rfloor,

    and whenever the interval lies in one half of the range the leading bit is
    known: it is written and the interval doubled (with the usual underflow rule
    for an interval straddling the middle). Every operation is exact integer
    arithmetic (Python integers), so encoder and decoder stay in lock step. The
    interval shrinks by the probability of each symbol, so the code length is
    :math:`-\\log_2 \\prod_i q(x_i) + 2` bits, where :math:`q` are the model's
    probabilities rounded to frequencies of total :math:`2^{24}` (every level keeps
    a frequency of at least 1). The symbols are coded feature by feature in
    ``ordering_`` (for every row in turn); an autoregressive model is asked for the
    conditionals of a feature with the features generated before it filled in and
    the others at level 0, which is exactly what the decoder knows at that point,
    so both sides compute the same float64 probabilities. For MADE with
    ``n_masks > 1`` the coder uses the first mask set (``ordering_``), whose
    likelihood is ``conditional_log_likelihood(X).sum(axis=1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.compression import decode, encode
    >>> from mlnotes.density import Histogram
    >>> X = np.random.RandomState(0).binomial(1, 0.1, size=(100, 8))
    >>> model = Histogram().fit(X)
    >>> data = encode(model, X)
    >>> len(data) < X.size // 8
    True
    >>> np.array_equal(decode(model, data, n_rows=100), X)
    True
    """
    kind = _kind(model)
    if kind == "autoregressive":
        idx, valid = model._validated_index(X)
    else:
        from sklearn.utils.validation import validate_data

        X = validate_data(model, X, dtype=np.float64, reset=False)
        idx, valid = model._level_index(X)
    if not valid.all():
        i, j = np.argwhere(~valid)[0]
        raise ValueError(
            f"X[{i}, {j}] is not one of the model's levels (0..{model.n_levels_ - 1}): "
            "it has no code."
        )
    encoder = _Encoder()
    n, d = idx.shape
    if kind == "autoregressive":
        steps = np.asarray(model.ordering_)
        for pos, j in enumerate(steps):
            cum = _ar_conditionals(model, idx, pos)
            for i in range(n):
                k = idx[i, j]
                encoder.encode(int(cum[i, k]), int(cum[i, k + 1]), int(cum[i, -1]))
    else:
        cum_all = _frequency_tables(np.exp(model.log_probs_))
        for j in range(d):
            cum = cum_all[j]
            total = int(cum[-1])
            for i in range(n):
                k = idx[i, j]
                encoder.encode(int(cum[k]), int(cum[k + 1]), total)
    return encoder.finish()


def decode(model, data, n_rows):
    """Decompress the bytes of :func:`encode` back into rows.

    Parameters
    ----------
    model : fitted density estimator
        The model that encoded the data (the same fitted model).
    data : bytes
        The code returned by :func:`encode`.
    n_rows : int
        Number of rows that were encoded.

    Returns
    -------
    X : ndarray of shape (n_rows, n_features_in_)
        The rows: the level values (int64) for integer data, the bin centres
        (float64) for quantised data.

    See Also
    --------
    encode : The coder; its Notes describe the method.

    Examples
    --------
    >>> import numpy as np
    >>> from mlnotes.compression import decode, encode
    >>> from mlnotes.density import Histogram
    >>> X = np.array([[0, 1], [1, 1], [0, 0]])
    >>> model = Histogram().fit(X)
    >>> decode(model, encode(model, X), n_rows=3)
    array([[0, 1],
           [1, 1],
           [0, 0]])
    """
    kind = _kind(model)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}.")
    if isinstance(n_rows, bool) or not isinstance(n_rows, (int, np.integer)) \
            or n_rows < 1:
        raise ValueError(f"n_rows must be a positive int; got {n_rows!r}.")
    n, d = int(n_rows), model.n_features_in_
    decoder = _Decoder(bytes(data))
    idx = np.zeros((n, d), dtype=np.intp)
    if kind == "autoregressive":
        for pos, j in enumerate(np.asarray(model.ordering_)):
            cum = _ar_conditionals(model, idx, pos)
            for i in range(n):
                idx[i, j] = decoder.decode(cum[i])
    else:
        cum_all = _frequency_tables(np.exp(model.log_probs_))
        for j in range(d):
            for i in range(n):
                idx[i, j] = decoder.decode(cum_all[j])
    return model._level_values(idx)
