r"""Concentration and uniform-convergence bounds (chapter 22 of the notes: learning theory).

Every function validates its arguments (clear ``ValueError`` naming the parameter),
broadcasts array arguments where the formula is closed-form, and returns a Python
scalar for scalar input.
"""

import math
from numbers import Integral

import numpy as np
from scipy.special import gammaln, logsumexp

from ..utils._validation import check_int

# ----------------------------------------------------------------------------- checks


def _as_array(name, value, *, low=None, high=None, low_open=False, high_open=False,
              integer=False):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers; got "
                        f"{value!r}.") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite; got {value!r} (NaN or infinity).")
    if integer and not np.all(arr == np.round(arr)):
        raise ValueError(f"{name} must be an integer; got {value!r}.")
    if low is not None and np.any(arr <= low if low_open else arr < low):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{name} must be {bound}; got {value!r}.")
    if high is not None and np.any(arr >= high if high_open else arr > high):
        bound = f"< {high}" if high_open else f"<= {high}"
        raise ValueError(f"{name} must be {bound}; got {value!r}.")
    return arr


def _check_range(lower, upper):
    lo = _as_array("lower", lower)
    hi = _as_array("upper", upper)
    if np.any(hi <= lo):
        raise ValueError(f"upper must be greater than lower; got lower={lower!r}, "
                         f"upper={upper!r}.")
    return hi - lo


def _out(value, as_int=False):
    """Python scalar for 0-d results, else an ndarray."""
    value = np.asarray(value)
    if as_int:
        value = value.astype(np.int64)
    if value.ndim == 0:
        return int(value) if as_int else float(value)
    return value


def _ceil(x):
    # guard against 1e-12 overshoots of exact integers (e.g. 10.000000000000002)
    return np.ceil(np.asarray(x) * (1 - 1e-13))


# -------------------------------------------------------------------------- Hoeffding


def hoeffding_bound(n_samples, epsilon, *, lower=0.0, upper=1.0, two_sided=True):
    r"""Hoeffding's bound on the probability that a sample mean deviates by ``epsilon``.

    Parameters
    ----------
    n_samples : int or array-like
        Number :math:`n \ge 1` of independent variables averaged.
    epsilon : float or array-like
        Deviation :math:`\varepsilon > 0`.
    lower, upper : float, default=0.0, 1.0
        Almost-sure range :math:`[a, b]` of each variable.
    two_sided : bool, default=True
        Bound :math:`P(|\bar X - \mu| \ge \varepsilon)` (True) or
        :math:`P(\bar X - \mu \ge \varepsilon)` (False).

    Returns
    -------
    bound : float or ndarray
        :math:`2 \exp(-2 n \varepsilon^2 / (b - a)^2)` (without the 2 when
        one-sided). Values of 1 or more are vacuous; they are not clipped.

    Notes
    -----
    Chapter 22 of the notes. For independent :math:`X_i \in [a, b]` with mean
    :math:`\mu` and :math:`\bar X = \frac1n\sum_i X_i`, **Hoeffding's inequality**
    is

    .. math::

        P\big(|\bar X - \mu| \ge \varepsilon\big) \le
        2 \exp\!\Big(-\frac{2 n \varepsilon^2}{(b - a)^2}\Big) ;

    with :math:`X_i = 1[h(x_i) \ne y_i]` it bounds the deviation of the training
    error of one fixed hypothesis from its generalisation error.

    References
    ----------
    W. Hoeffding, "Probability inequalities for sums of bounded random variables",
    *JASA* 58(301), 1963.

    Examples
    --------
    >>> from mlnotes.learning_theory import hoeffding_bound
    >>> round(hoeffding_bound(1000, 0.05), 4)
    0.0135
    """
    n = _as_array("n_samples", n_samples, low=1, integer=True)
    eps = _as_array("epsilon", epsilon, low=0, low_open=True)
    width = _check_range(lower, upper)
    factor = 2.0 if two_sided else 1.0
    return _out(factor * np.exp(-2.0 * n * eps**2 / width**2))


def hoeffding_epsilon(n_samples, delta, *, lower=0.0, upper=1.0, two_sided=True):
    r"""Deviation that Hoeffding's inequality guarantees with probability ``1 - delta``.

    Parameters
    ----------
    n_samples : int or array-like
        Number :math:`n \ge 1` of independent variables averaged.
    delta : float or array-like
        Failure probability, in :math:`(0, 1)`.
    lower, upper : float, default=0.0, 1.0
        Almost-sure range :math:`[a, b]` of each variable.
    two_sided : bool, default=True
        Two-sided (:math:`\ln(2/\delta)`) or one-sided (:math:`\ln(1/\delta)`).

    Returns
    -------
    epsilon : float or ndarray
        :math:`(b - a)\sqrt{\ln(2/\delta) / (2n)}`: with probability at least
        :math:`1 - \delta`, :math:`|\bar X - \mu| < \varepsilon`.

    Notes
    -----
    Chapter 22: :func:`hoeffding_bound` set equal to :math:`\delta` and solved for
    :math:`\varepsilon`.

    Examples
    --------
    >>> from mlnotes.learning_theory import hoeffding_epsilon
    >>> round(hoeffding_epsilon(1000, 0.05), 4)
    0.0429
    """
    n = _as_array("n_samples", n_samples, low=1, integer=True)
    d = _as_array("delta", delta, low=0, high=1, low_open=True, high_open=True)
    width = _check_range(lower, upper)
    log_term = np.log(2.0 / d) if two_sided else np.log(1.0 / d)
    return _out(width * np.sqrt(log_term / (2.0 * n)))


def hoeffding_sample_size(epsilon, delta, *, lower=0.0, upper=1.0, two_sided=True):
    r"""Samples needed for Hoeffding's inequality to give ``epsilon`` with probability ``1 - delta``.

    Parameters
    ----------
    epsilon : float or array-like
        Deviation :math:`\varepsilon > 0`.
    delta : float or array-like
        Failure probability, in :math:`(0, 1)`.
    lower, upper : float, default=0.0, 1.0
        Almost-sure range :math:`[a, b]` of each variable.
    two_sided : bool, default=True
        Two-sided (:math:`\ln(2/\delta)`) or one-sided (:math:`\ln(1/\delta)`).

    Returns
    -------
    n_samples : int or ndarray of int
        :math:`\lceil (b - a)^2 \ln(2/\delta) / (2 \varepsilon^2) \rceil`.

    Notes
    -----
    Chapter 22: the smallest :math:`n` with
    :math:`2 e^{-2 n \varepsilon^2 / (b-a)^2} \le \delta`.

    Examples
    --------
    >>> from mlnotes.learning_theory import hoeffding_sample_size
    >>> hoeffding_sample_size(0.05, 0.05)
    738
    """
    eps = _as_array("epsilon", epsilon, low=0, low_open=True)
    d = _as_array("delta", delta, low=0, high=1, low_open=True, high_open=True)
    width = _check_range(lower, upper)
    log_term = np.log(2.0 / d) if two_sided else np.log(1.0 / d)
    return _out(np.maximum(_ceil(width**2 * log_term / (2.0 * eps**2)), 1), as_int=True)


# ----------------------------------------------------------------- finite classes


def finite_class_bound(n_hypotheses, n_samples, delta, *, realizable=False):
    r"""Generalisation guarantee for a finite hypothesis class (union bound).

    Parameters
    ----------
    n_hypotheses : int or array-like
        Size :math:`|\mathcal H| = k \ge 1` of the class.
    n_samples : int or array-like
        Training set size :math:`m \ge 1`.
    delta : float or array-like
        Failure probability, in :math:`(0, 1)`.
    realizable : bool, default=False
        False (agnostic): the uniform deviation :math:`\gamma` of training from
        true error. True (realizable): the largest true error of a hypothesis that
        makes no training mistake.

    Returns
    -------
    bound : float or ndarray
        Agnostic: :math:`\gamma = \sqrt{\ln(2k/\delta) / (2m)}`, so that with
        probability at least :math:`1 - \delta` every :math:`h \in \mathcal H` has
        :math:`|\hat\varepsilon(h) - \varepsilon(h)| \le \gamma`, and the empirical
        risk minimiser :math:`\hat h` has
        :math:`\varepsilon(\hat h) \le \min_h \varepsilon(h) + 2\gamma`.
        Realizable: :math:`(\ln k + \ln(1/\delta)) / m`.

    Notes
    -----
    Chapter 22 of the notes. Hoeffding's inequality for each of the :math:`k`
    hypotheses and the **union bound**:

    .. math::

        P\big(\exists h \in \mathcal H : |\hat\varepsilon(h) - \varepsilon(h)| >
        \gamma\big) \le \sum_{h} P\big(|\hat\varepsilon(h) - \varepsilon(h)| >
        \gamma\big) \le 2 k e^{-2 \gamma^2 m} = \delta .

    In the realizable case a hypothesis of error above :math:`\varepsilon` is
    consistent with :math:`m` independent examples with probability at most
    :math:`(1 - \varepsilon)^m \le e^{-\varepsilon m}`, and the union bound over
    the :math:`k` hypotheses gives :math:`k e^{-\varepsilon m} = \delta`.

    Examples
    --------
    >>> from mlnotes.learning_theory import finite_class_bound
    >>> round(finite_class_bound(1000, 10_000, 0.05), 4)
    0.023
    >>> round(finite_class_bound(1000, 10_000, 0.05, realizable=True), 5)
    0.00099
    """
    k = _as_array("n_hypotheses", n_hypotheses, low=1, integer=True)
    m = _as_array("n_samples", n_samples, low=1, integer=True)
    d = _as_array("delta", delta, low=0, high=1, low_open=True, high_open=True)
    if realizable:
        return _out((np.log(k) + np.log(1.0 / d)) / m)
    return _out(np.sqrt(np.log(2.0 * k / d) / (2.0 * m)))


def finite_class_sample_size(n_hypotheses, epsilon, delta, *, realizable=False):
    r"""Sample complexity of a finite hypothesis class (union bound).

    Parameters
    ----------
    n_hypotheses : int or array-like
        Size :math:`k \ge 1` of the class.
    epsilon : float or array-like
        Target :math:`\gamma` (agnostic: uniform deviation) or :math:`\varepsilon`
        (realizable: error of consistent hypotheses), positive.
    delta : float or array-like
        Failure probability, in :math:`(0, 1)`.
    realizable : bool, default=False
        Which guarantee of :func:`finite_class_bound` to reach.

    Returns
    -------
    n_samples : int or ndarray of int
        Agnostic: :math:`\lceil \ln(2k/\delta) / (2\gamma^2) \rceil`; realizable:
        :math:`\lceil (\ln k + \ln(1/\delta)) / \varepsilon \rceil`.

    Notes
    -----
    Chapter 22: :func:`finite_class_bound` solved for :math:`m`. The agnostic
    sample complexity grows like :math:`1/\gamma^2`, the realizable one like
    :math:`1/\varepsilon`, both only logarithmically in :math:`k`.

    Examples
    --------
    >>> from mlnotes.learning_theory import finite_class_sample_size
    >>> finite_class_sample_size(1000, 0.05, 0.05)
    2120
    >>> finite_class_sample_size(1000, 0.05, 0.05, realizable=True)
    199
    """
    k = _as_array("n_hypotheses", n_hypotheses, low=1, integer=True)
    eps = _as_array("epsilon", epsilon, low=0, low_open=True)
    d = _as_array("delta", delta, low=0, high=1, low_open=True, high_open=True)
    if realizable:
        m = (np.log(k) + np.log(1.0 / d)) / eps
    else:
        m = np.log(2.0 * k / d) / (2.0 * eps**2)
    return _out(np.maximum(_ceil(m), 1), as_int=True)


# ------------------------------------------------------------------ VC dimension


def _log_sauer(n_samples, vc_dim):
    """:math:`\\ln \\sum_{i=0}^{d} \\binom{m}{i}` (exactly :math:`m \\ln 2` when m <= d)."""
    m, d = int(n_samples), int(vc_dim)
    if m <= d:
        return m * math.log(2.0)
    i = np.arange(d + 1)
    log_binom = gammaln(m + 1) - gammaln(i + 1) - gammaln(m - i + 1)
    return float(logsumexp(log_binom))


def _check_int(name, value, low):
    return check_int(value, name, low, integral_float=True, type_error=TypeError)


def _check_delta(delta):
    d = _as_array("delta", delta, low=0, high=1, low_open=True, high_open=True)
    if d.ndim != 0:
        raise ValueError(f"delta must be a scalar; got {delta!r}.")
    return float(d)


def sauer_lemma(n_samples, vc_dim):
    r"""Sauer-Shelah bound on the growth function of a class of VC dimension ``vc_dim``.

    Parameters
    ----------
    n_samples : int
        Number of points :math:`m \ge 0`.
    vc_dim : int
        VC dimension :math:`d \ge 0`.

    Returns
    -------
    growth : int
        :math:`\sum_{i=0}^{d} \binom{m}{i}` (:math:`= 2^m` when :math:`m \le d`),
        an exact integer.

    Notes
    -----
    Chapter 22 of the notes. The growth function
    :math:`\Pi_{\mathcal H}(m) = \max_{x_1..x_m} |\{(h(x_1), \dots, h(x_m)) : h \in
    \mathcal H\}|` counts the labellings a class realises on :math:`m` points; the
    VC dimension is the largest :math:`m` with :math:`\Pi_{\mathcal H}(m) = 2^m`.
    **Sauer's lemma**:

    .. math::

        \Pi_{\mathcal H}(m) \le \sum_{i=0}^{d} \binom{m}{i} \le
        \Big(\frac{e m}{d}\Big)^d \quad (m \ge d \ge 1) ,

    polynomial in :math:`m` instead of exponential. It is tight, e.g. for
    intervals on the line (:math:`d = 2`).

    Examples
    --------
    >>> from mlnotes.learning_theory import sauer_lemma
    >>> sauer_lemma(10, 2)  # 1 + 10 + 45
    56
    >>> sauer_lemma(3, 5)
    8
    """
    m = _check_int("n_samples", n_samples, 0)
    d = _check_int("vc_dim", vc_dim, 0)
    if m <= d:
        return 2**m
    return sum(math.comb(m, i) for i in range(d + 1))


def growth_function_bound(n_samples, growth, delta):
    r"""Uniform-convergence bound from the growth function (Vapnik and Chervonenkis).

    Parameters
    ----------
    n_samples : int
        Training set size :math:`m \ge 1`.
    growth : callable or float
        The growth function: a callable ``growth(k)`` returning
        :math:`\Pi_{\mathcal H}(k)` (it is evaluated at :math:`k = 2m`), or the
        value :math:`\Pi_{\mathcal H}(2m) \ge 1` itself.
    delta : float
        Failure probability, in :math:`(0, 1)`.

    Returns
    -------
    gap : float
        :math:`\sqrt{\frac{8}{m}\big(\ln \Pi_{\mathcal H}(2m) + \ln\frac{4}{\delta}
        \big)}`: with probability at least :math:`1 - \delta`, every
        :math:`h \in \mathcal H` has :math:`|\hat\varepsilon(h) - \varepsilon(h)|
        \le` gap.

    Notes
    -----
    Chapter 22 of the notes. By symmetrisation with a ghost sample of size
    :math:`m`, only the :math:`\Pi_{\mathcal H}(2m)` labellings of the
    :math:`2m` points matter, and a union bound over them gives

    .. math::

        P\Big(\sup_{h \in \mathcal H} |\hat\varepsilon(h) - \varepsilon(h)| >
        \gamma\Big) \le 4\, \Pi_{\mathcal H}(2m)\, e^{-m \gamma^2 / 8} ,

    which equals :math:`\delta` at the returned :math:`\gamma`. For a finite class
    :math:`\Pi_{\mathcal H} \le |\mathcal H|`.

    References
    ----------
    V. N. Vapnik and A. Ya. Chervonenkis, "On the uniform convergence of relative
    frequencies of events to their probabilities", *Theory of Probability and its
    Applications* 16(2), 1971.

    Examples
    --------
    >>> from mlnotes.learning_theory import growth_function_bound
    >>> round(growth_function_bound(10_000, lambda k: k + 1, 0.05), 4)
    0.1069
    """
    m = _check_int("n_samples", n_samples, 1)
    d = _check_delta(delta)
    if callable(growth):
        value = growth(2 * m)
    else:
        value = growth
    log_growth = _log_growth(value)
    return float(math.sqrt(8.0 / m * (log_growth + math.log(4.0 / d))))


def _log_growth(value):
    if isinstance(value, Integral | np.integer) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"the growth function must be >= 1; got {value!r}.")
        return math.log(int(value))  # exact for huge Python integers
    value = float(value)
    if not math.isfinite(value) or value < 1:
        raise ValueError(f"the growth function must be finite and >= 1; got {value!r}.")
    return math.log(value)


def vc_bound(n_samples, vc_dim, delta):
    r"""VC generalisation bound: :func:`growth_function_bound` with Sauer's lemma.

    Parameters
    ----------
    n_samples : int
        Training set size :math:`m \ge 1`.
    vc_dim : int
        VC dimension :math:`d \ge 0` of the class.
    delta : float
        Failure probability, in :math:`(0, 1)`.

    Returns
    -------
    gap : float
        :math:`\sqrt{\frac{8}{m}\big(\ln \sum_{i=0}^{d}\binom{2m}{i} +
        \ln\frac4\delta\big)}`: with probability at least :math:`1 - \delta`,
        :math:`|\hat\varepsilon(h) - \varepsilon(h)| \le` gap for every :math:`h`.

    Notes
    -----
    Chapter 22 of the notes (the VC theorem). With Sauer's lemma
    :math:`\Pi_{\mathcal H}(2m) \le (2em/d)^d`, the gap is

    .. math::

        O\Big(\sqrt{\frac{d}{m}\ln\frac{m}{d} + \frac1m \ln\frac1\delta}\Big) ,

    so :math:`m = O(d / \gamma^2 \cdot \ln(1/\gamma))` samples suffice: the
    sample complexity is linear in the VC dimension.

    Examples
    --------
    >>> from mlnotes.learning_theory import vc_bound
    >>> round(vc_bound(10_000, 1, 0.05), 4)  # thresholds on the line
    0.1069
    """
    m = _check_int("n_samples", n_samples, 1)
    dim = _check_int("vc_dim", vc_dim, 0)
    d = _check_delta(delta)
    return float(math.sqrt(8.0 / m * (_log_sauer(2 * m, dim) + math.log(4.0 / d))))


def vc_sample_size(vc_dim, epsilon, delta):
    r"""Smallest training set size for which :func:`vc_bound` is at most ``epsilon``.

    Parameters
    ----------
    vc_dim : int
        VC dimension :math:`d \ge 0`.
    epsilon : float
        Target uniform deviation :math:`\gamma > 0`.
    delta : float
        Failure probability, in :math:`(0, 1)`.

    Returns
    -------
    n_samples : int
        The smallest :math:`m` with ``vc_bound(m, vc_dim, delta) <= epsilon``.

    Notes
    -----
    Chapter 22. The bound decreases in :math:`m` (its square is
    :math:`8 (g(m) + \ln(4/\delta)) / m` with :math:`g(m) = \ln \Pi(2m)` concave
    and :math:`g(0) = 0`), so doubling finds a bracket and bisection the smallest
    :math:`m`; the answer is checked against its predecessor.

    Examples
    --------
    >>> from mlnotes.learning_theory import vc_bound, vc_sample_size
    >>> m = vc_sample_size(1, 0.1, 0.05)
    >>> vc_bound(m, 1, 0.05) <= 0.1 < vc_bound(m - 1, 1, 0.05)
    True
    """
    dim = _check_int("vc_dim", vc_dim, 0)
    eps = _as_array("epsilon", epsilon, low=0, low_open=True)
    if eps.ndim != 0:
        raise ValueError(f"epsilon must be a scalar; got {epsilon!r}.")
    eps = float(eps)
    d = _check_delta(delta)

    def bound(m):
        return math.sqrt(8.0 / m * (_log_sauer(2 * m, dim) + math.log(4.0 / d)))

    if bound(1) <= eps:
        return 1
    hi = 1
    while bound(hi) > eps:
        hi *= 2
        if hi > 2**62:
            raise ValueError(f"no sample size below 2**62 reaches epsilon={epsilon!r}.")
    lo = hi // 2  # bound(lo) > eps >= bound(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if bound(mid) <= eps:
            hi = mid
        else:
            lo = mid
    while hi > 1 and bound(hi - 1) <= eps:  # guard: never return a non-minimal m
        hi -= 1
    return hi
