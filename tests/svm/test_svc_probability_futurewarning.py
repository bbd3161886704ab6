"""SVC's ``probability`` deprecation warnings as scikit-learn 1.9's (issue 21)."""

import warnings

import numpy as np
import pytest
from sklearn import svm as sk_svm
from sklearn.datasets import make_classification

from mlnotes.svm import SVC

X, Y = make_classification(n_samples=60, n_informative=5, random_state=0)


def _warning_kinds(est):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        est.fit(X, Y)
    return sorted({w.category.__name__ for w in record})


def test_default_is_deprecated_and_silent_as_sklearn():
    assert SVC().get_params()["probability"] == sk_svm.SVC().get_params()["probability"]
    assert _warning_kinds(SVC()) == _warning_kinds(sk_svm.SVC()) == []
    assert not hasattr(SVC().fit(X, Y), "predict_proba")


@pytest.mark.parametrize("probability", [True, False])
def test_setting_probability_warns_as_sklearn(probability):
    for cls in (SVC, sk_svm.SVC):
        with pytest.warns(FutureWarning, match="probability.+parameter.+deprecated"):
            est = cls(probability=probability, random_state=0).fit(X, Y)
        assert hasattr(est, "predict_proba") is probability


def test_reading_probA_probB_warns_and_still_gives_platt_parameters():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        est = SVC(probability=True, random_state=0).fit(X, Y)
        plain = SVC().fit(X, Y)
    for name in ("probA_", "probB_"):
        with pytest.warns(FutureWarning, match=f"Attribute `{name}` was deprecated"):
            value = getattr(est, name)
        assert value.shape == (1,) and np.isfinite(value).all()
        with pytest.warns(FutureWarning):
            assert getattr(plain, name).size == 0
    # predict_proba reads them without warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        proba = est.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
