"""Bad and edge-case input over every estimator ``all_estimators`` returns (issue 21).

Hypothesis draws inputs of eight kinds -- non-finite entries (NaN, inf), huge (1e300) and
tiny (1e-300) magnitudes, empty / one-row / constant / wide data, wrong dtypes (strings,
object, complex), a feature count at predict time that differs from fit's, and bad
``sample_weight`` (negative, NaN, all zero, wrong length) -- and accepts only two outcomes:

* success, and then every prediction-time output (``predict``, ``predict_proba``,
  ``decision_function``, ``transform``, ``score_samples``, a clusterer's ``labels_``) is
  finite; or
* a ``ValueError`` or ``TypeError`` with a message.

Some cases are stricter: an empty input, strings, complex numbers, a NaN ``sample_weight``,
a ``sample_weight`` of the wrong length and a feature-count mismatch must raise; NaN in
``X`` must raise unless the estimator's tags say ``allow_nan`` (then it must fit and give
finite outputs, as scikit-learn's HistGradientBoosting and trees do). Which estimator may
take NaN is asked of its tags, never of a list of names.

Every case runs under a time limit (``SIGALRM``, plus a ``faulthandler`` backstop that
ends the process if compiled code does not return), so a hang fails instead of stalling
CI. Iterative and torch estimators run with few iterations (``set_params``). Hypothesis
is derandomised with a fixed, small number of examples per estimator and kind; set
``MLNOTES_SLOW_TESTS=1`` for the variant with more examples (nightly, benchmarks).
"""

import faulthandler
import os
import signal
import warnings
from contextlib import contextmanager

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier, is_clusterer, is_regressor
from sklearn.utils.validation import has_fit_parameter

from mlnotes.utils.discovery import all_estimators

SLOW = os.environ.get("MLNOTES_SLOW_TESTS", "") not in ("", "0")
N_EXAMPLES = 12 if SLOW else 2
# seconds per case; the machine the tests run on may be loaded, so this is generous: it
# exists to turn a hang into a failure, not to measure speed
TIME_LIMIT = int(os.environ.get("MLNOTES_CASE_TIME_LIMIT", "120"))

# Few iterations for iterative estimators (the cases test input handling, not learning).
FAST_PARAMS = {
    "max_iter": 3,
    "n_estimators": 3,
    "n_init": 1,
    "n_steps": 5,
    # a fixed seed keeps each drawn case reproducible: with random_state=None a
    # randomised solver could fail on one run and pass on the next (Hypothesis then
    # reports a FlakyFailure that no rerun reproduces, as ARPACK's start vector in
    # SpectralClustering did once)
    "random_state": 0,
}
# scikit-learn's own test-time parameters (its INIT_PARAMS) where the defaults cannot
# fit the 30 x 3 clean data (n_components="auto" asks for thousands of components)
INIT_PARAMS = {
    "GaussianRandomProjection": {"n_components": 2},
    "SparseRandomProjection": {"n_components": 2},
}
# the check reads these outputs when the estimator has them
OUTPUT_METHODS = ("predict", "predict_proba", "decision_function", "transform", "score_samples")

# Known findings, xfailed strictly with the module named: when the module is fixed, the
# strict xfail fails and the entry is removed. (None open: issue 21's Perceptron, SGD,
# KernelPerceptron, DDPM and VAE findings on 1e300 data are fixed.)
KNOWN_FAILURES = {}


def _fast(cls):
    est = cls()
    params = est.get_params()
    fast = {}
    for key, value in FAST_PARAMS.items():
        if key not in params:
            continue
        current = params[key]
        if key == "n_init" and not isinstance(current, int):
            continue
        if key == "max_iter" and (current is None or current == -1):
            continue
        fast[key] = value
    fast.update(INIT_PARAMS.get(type(est).__name__, {}))
    return est.set_params(**fast)


ESTIMATORS = [(name, cls) for name, cls in all_estimators()]


class CaseTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds):
    def _raise(signum, frame):
        raise CaseTimeout(f"case ran past {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    # compiled code (numba, BLAS) does not return to Python for the alarm: the backstop
    # dumps the tracebacks and ends the process, so CI fails instead of waiting forever
    faulthandler.dump_traceback_later(3 * seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _clean(cls, n=30, p=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = _target(cls, X, rng)
    return X, y


def _target(cls, X, rng):
    n = X.shape[0]
    est = cls()
    if is_classifier(est):
        return np.arange(n) % 2
    if is_regressor(est):
        w = rng.normal(size=X.shape[1]) if X.ndim == 2 else 1.0
        y = X @ w if X.ndim == 2 and X.dtype.kind == "f" else np.zeros(n)
        return y + rng.normal(size=n)
    return None


def _fit_args(cls, X, y):
    return (X,) if y is None else (X, y)


def _outputs(est, X):
    """Every prediction-time output of a fitted estimator on X (numeric arrays)."""
    out = {}
    for method in OUTPUT_METHODS:
        if method == "score_samples" and getattr(est, "noise_variance_", None) == 0:
            # a singular probabilistic-PCA covariance has no density, but scikit-learn's
            # test_pca_zero_noise_variance_edge_cases (gh-12489) requires score to run
            # without an error there: its value (-inf or arbitrary) is not checked
            continue
        if hasattr(est, method):
            out[method] = getattr(est, method)(X)
    if is_clusterer(est) and hasattr(est, "labels_"):
        out["labels_"] = est.labels_
    return out


def _assert_finite(outputs, case):
    for method, value in outputs.items():
        value = value[0] if isinstance(value, tuple) else value
        arr = np.asarray(value)
        if arr.dtype.kind in "fc":
            assert np.all(np.isfinite(arr)), (
                f"{case}: {method} returned non-finite values without an error"
            )


def _run(est, fit_args, fit_kwargs=None, predict_X=None):
    """Fit (and read the outputs); returns ("ok", outputs) or ("error", exception)."""
    fit_kwargs = fit_kwargs or {}
    with _time_limit(TIME_LIMIT), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            est.fit(*fit_args, **fit_kwargs)
            X = fit_args[0] if predict_X is None else predict_X
            return "ok", _outputs(est, X)
        except (ValueError, TypeError) as exc:
            return "error", exc


def _assert_clear_error(exc, case):
    assert str(exc).strip(), f"{case}: {type(exc).__name__} without a message"


def _accept(result, case, must_raise=False):
    kind, value = result
    if kind == "error":
        _assert_clear_error(value, case)
    else:
        assert not must_raise, f"{case}: accepted without an error"
        _assert_finite(value, case)


def _allow_nan(est):
    return est.__sklearn_tags__().input_tags.allow_nan


# ---------------------------------------------------------------------------------
# the cases: each draws its input and checks the outcome
def case_nonfinite(name, cls, kind, data):
    X, y = _clean(cls, seed=data.draw(st.integers(0, 2**16), label="seed"))
    value = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[kind]
    i = data.draw(st.integers(0, X.shape[0] - 1), label="row")
    j = data.draw(st.integers(0, X.shape[1] - 1), label="column")
    X[i, j] = value
    est = _fast(cls)
    result = _run(est, _fit_args(cls, X, y))
    case = f"{name}: X[{i}, {j}] = {value}"
    if np.isnan(value) and _allow_nan(est):
        # the tags promise NaN support: fit, and finite outputs on that input
        assert result[0] == "ok", f"{case}: allow_nan tag, but fit raised {result[1]!r}"
        _assert_finite(result[1], case)
    else:
        _accept(result, case, must_raise=True)


def case_magnitude(name, cls, kind, data):
    X, y = _clean(cls, seed=data.draw(st.integers(0, 2**16), label="seed"))
    scale = {"huge": 1e300, "tiny": 1e-300}[kind] ** data.draw(
        st.sampled_from([1.0, 0.5]), label="power")
    where = data.draw(st.sampled_from(["all", "column", "one"]), label="where")
    if where == "all":
        X = X * scale
    elif where == "column":
        X[:, 0] *= scale
    else:
        X[0, 0] = np.sign(X[0, 0]) * scale
    if y is not None and is_regressor(cls()) and data.draw(st.booleans(), label="y too"):
        y = y * scale
    _accept(_run(_fast(cls), _fit_args(cls, X, y)), f"{name}: {where} scaled by {scale}")


def case_shape(name, cls, kind, data):
    shape = kind
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    if shape == "empty":
        X = np.empty((0, 3))
    elif shape == "one_row":
        X = rng.normal(size=(1, 3))
    elif shape == "constant":
        value = data.draw(st.sampled_from([0.0, 1.0, -3.5, 1e6]), label="value")
        X = np.full((20, data.draw(st.integers(1, 4), label="p")), value)
    else:
        X = rng.normal(size=(data.draw(st.integers(2, 6), label="n"),
                             data.draw(st.integers(50, 300), label="p")))
    y = _target(cls, X, rng)
    if shape == "constant" and y is not None and is_regressor(cls()):
        y = np.full(X.shape[0], 2.0)
    _accept(_run(_fast(cls), _fit_args(cls, X, y)), f"{name}: {shape} X {X.shape}",
            must_raise=shape == "empty")


def case_dtype(name, cls, kind, data):
    X, y = _clean(cls, seed=data.draw(st.integers(0, 2**16), label="seed"))
    if kind == "strings":
        X = np.array([["a", "b", "c"][j] for j in range(3) for _ in range(10)]).reshape(10, 3)
        X = np.tile(X, (3, 1))
    elif kind == "mixed_object":
        X = X.astype(object)
        X[0, 0] = "spam"
    elif kind == "float_object":
        X = X.astype(object)
    else:
        X = X + 1j * X
    est = _fast(cls)
    _accept(_run(est, _fit_args(cls, X, y)), f"{name}: {kind} X",
            must_raise=kind in ("strings", "mixed_object", "complex"))


_FITTED = {}


def _fitted(name, cls):
    if name not in _FITTED:
        X, y = _clean(cls)
        est = _fast(cls)
        kind, value = _run(est, _fit_args(cls, X, y))
        assert kind == "ok", f"{name} does not fit clean data: {value!r}"
        _FITTED[name] = est
    return _FITTED[name]


def case_mismatch(name, cls, kind, data):
    est = _fitted(name, cls)
    p = data.draw(st.sampled_from([1, 2, 4, 7]), label="p at predict")
    X = np.random.default_rng(0).normal(size=(5, p))
    for method in OUTPUT_METHODS:
        if not hasattr(est, method):
            continue
        with _time_limit(TIME_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError, match="feature") as info:
                getattr(est, method)(X)
        _assert_clear_error(info.value, f"{name}.{method} with {p} features")


def case_sample_weight(name, cls, kind, data):
    X, y = _clean(cls, seed=data.draw(st.integers(0, 2**16), label="seed"))
    w = np.ones(X.shape[0])
    if kind == "negative":
        w[data.draw(st.integers(0, X.shape[0] - 1), label="row")] = -data.draw(
            st.sampled_from([0.5, 1.0, 3.0]), label="weight")
    elif kind == "nan":
        w[0] = np.nan
    elif kind == "inf":
        w[0] = np.inf
    elif kind == "zeros":
        w[:] = 0.0
    elif kind == "wrong_length":
        w = np.ones(X.shape[0] + data.draw(st.sampled_from([-2, -1, 1, 5]), label="delta"))
    else:
        w = np.ones((X.shape[0], 2))
    _accept(_run(_fast(cls), _fit_args(cls, X, y), {"sample_weight": w}),
            f"{name}: sample_weight {kind}",
            must_raise=kind in ("nan", "inf", "wrong_length", "2d"))


CASES = {
    case_nonfinite: ["nan", "inf", "-inf"],
    case_magnitude: ["huge", "tiny"],
    case_shape: ["empty", "one_row", "constant", "wide"],
    case_dtype: ["strings", "mixed_object", "float_object", "complex"],
    case_mismatch: ["features"],
    case_sample_weight: ["negative", "nan", "inf", "zeros", "wrong_length", "2d"],
}


def _params():
    for name, cls in ESTIMATORS:
        for case, kinds in CASES.items():
            if case is case_sample_weight and not has_fit_parameter(cls(), "sample_weight"):
                continue
            for kind in kinds:
                case_id = f"{case.__name__[5:]}-{kind}"
                marks = []
                reason = KNOWN_FAILURES.get((name, case_id))
                if reason:
                    marks.append(pytest.mark.xfail(reason=reason, strict=True))
                yield pytest.param(name, cls, case, kind, id=f"{name}-{case_id}", marks=marks)


@pytest.mark.parametrize("name, cls, case, kind", list(_params()))
# no shrinking: a failing case is reported as drawn (shrinking refits dozens of times)
@settings(max_examples=N_EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(data=st.data())
def test_bad_input(name, cls, case, kind, data):
    case(name, cls, kind, data)


def test_time_limit_turns_a_hang_into_a_failure():
    import time

    with pytest.raises(CaseTimeout):
        with _time_limit(1):
            time.sleep(5)
