"""Property-based checks of bad input over every estimator ``all_estimators`` returns.

check_estimator tests one fixed bad input per kind; these draw many (where the NaN
sits, which non-finite value, how many features are wrong) and also assert that
the error *names* the problem. Invariances that hold for one method only (row
order for convex fits, label relabelling) live in that method's own tests.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import get_tags

from mlnotes.utils.discovery import all_estimators

SUPERVISED = [
    (name, cls) for name, cls in all_estimators() if is_classifier(cls()) or is_regressor(cls())
]
NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf])
INFINITE = st.sampled_from([np.inf, -np.inf])


def _xy(cls, n, p, seed):
    rng = np.random.default_rng(seed)
    if is_classifier(cls()):
        n = max(n, 3 * (p + 2))  # QDA needs more samples than features in every class
    X = rng.normal(size=(n, p))
    if is_classifier(cls()):
        y = np.arange(n) % 3  # every class present
    else:
        y = X @ rng.normal(size=p) + rng.normal(size=n)
    return X, y


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. ConvergenceWarning on tiny data
        return est.fit(X, y)


@pytest.mark.parametrize("name, cls", SUPERVISED)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_nonfinite_input_is_rejected(name, cls, data):
    n = data.draw(st.integers(6, 30), label="n")
    p = data.draw(st.integers(1, 5), label="p")
    X, y = _xy(cls, n, p, data.draw(st.integers(0, 2**16), label="seed"))
    bad = X.copy()
    i, j = data.draw(st.integers(0, n - 1), label="row"), data.draw(st.integers(0, p - 1))
    # estimators that take missing values (trees, forests, bagging: the allow_nan tag,
    # as scikit-learn's) must still refuse infinities
    allow_nan = get_tags(cls()).input_tags.allow_nan
    bad[i, j] = data.draw(INFINITE if allow_nan else NONFINITE, label="value")
    with pytest.raises(ValueError, match="NaN|infinity"):
        cls().fit(bad, y)
    fitted = _fit(cls(), X, y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        fitted.predict(bad)


@pytest.mark.parametrize("name, cls", [(n, c) for n, c in SUPERVISED if is_regressor(c())])
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), value=NONFINITE)
def test_nonfinite_target_is_rejected(name, cls, seed, value):
    X, y = _xy(cls, 20, 3, seed)
    y[seed % 20] = value
    with pytest.raises(ValueError, match="NaN|infinity"):
        cls().fit(X, y)


@pytest.mark.parametrize("name, cls", SUPERVISED)
@settings(max_examples=10, deadline=None)
@given(p=st.integers(1, 6), delta=st.integers(-5, 5).filter(lambda d: d != 0))
def test_feature_count_mismatch_is_rejected(name, cls, p, delta):
    X, y = _xy(cls, 20, p, 0)
    fitted = _fit(cls(), X, y)
    p_new = max(1, p + delta)
    if p_new == p:
        return
    with pytest.raises(ValueError, match="features"):
        fitted.predict(np.ones((4, p_new)))


@pytest.mark.parametrize("name, cls", SUPERVISED)
def test_wrong_dimensions_are_rejected(name, cls):
    X, y = _xy(cls, 12, 2, 0)
    with pytest.raises(ValueError, match="2D array"):
        cls().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        cls().fit(X, y[:-1])
    with pytest.raises(ValueError, match="0 sample"):
        cls().fit(X[:0], y[:0])


def _sklearn_accepts_one_class(name):
    from sklearn.utils.discovery import all_estimators as sk_all

    twin = dict(sk_all()).get(name)
    if twin is None:
        return False
    X, _ = _xy(twin, 10, 2, 0)
    try:
        twin().fit(X, np.zeros(len(X)))
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name, cls", [(n, c) for n, c in SUPERVISED if is_classifier(c())])
@settings(max_examples=5, deadline=None)
@given(label=st.one_of(st.integers(-5, 5), st.sampled_from(["a", "spam"])))
def test_single_class_as_sklearn(name, cls, label):
    """One class: a clear error where the scikit-learn twin raises one. Where the
    twin fits it (GaussianNB, LDA's svd solver), fitting is allowed too, and must
    then predict that class."""
    X, _ = _xy(cls, 10, 2, 0)
    y = np.full(len(X), label, dtype=object if isinstance(label, str) else int)
    if _sklearn_accepts_one_class(name):
        try:
            fitted = _fit(cls(), X, y)
        except ValueError as exc:
            assert "class" in str(exc)
        else:
            assert np.all(fitted.predict(X) == label)
    else:
        with pytest.raises(ValueError, match="class"):
            cls().fit(X, y)


@pytest.mark.parametrize("name, cls", SUPERVISED)
def test_unfitted_predict_is_rejected(name, cls):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        clone(cls()).predict(np.ones((2, 2)))
