"""The harness that runs scikit-learn's test files against mlnotes' classes."""

from benchmarks.reference_tests.sklearn import _shim_source, rewrite, summarise

SOURCE = '''
import numpy as np
from sklearn import datasets, linear_model
from sklearn.linear_model import Ridge, LogisticRegression as LR
from sklearn.linear_model._sag import sag_solver, get_auto_step_size
from sklearn.svm import SVC
'''


def test_rewrite_redirects_public_imports_only():
    new, private = rewrite(SOURCE, ["linear_model"])
    assert "from _mlnotes_shim_linear_model import Ridge, LogisticRegression as LR" in new
    assert "import _mlnotes_shim_linear_model as linear_model" in new
    assert "from sklearn import datasets" in new
    # private modules and modules not asked for are left alone
    assert "from sklearn.linear_model._sag import sag_solver" in new
    assert "from sklearn.svm import SVC" in new
    assert private == {"sag_solver", "get_auto_step_size"}


def test_shim_swaps_mirrored_names_and_falls_back_to_sklearn():
    namespace = {}
    exec(_shim_source("linear_model", {"Ridge": "mlnotes.linear_model"}), namespace)
    from sklearn.linear_model import HuberRegressor

    from mlnotes.linear_model import Ridge

    assert namespace["Ridge"] is Ridge
    assert namespace["__getattr__"]("HuberRegressor") is HuberRegressor


def test_summary_counts_reached_tests_and_splits_private_failures():
    records = [
        {"outcome": "passed", "reached": True, "private": False, "message": ""},
        {"outcome": "failed", "reached": True, "private": True, "message": "a"},
        {"outcome": "failed", "reached": True, "private": False, "message": "b"},
        {"outcome": "skipped", "reached": True, "private": False, "message": ""},
        {"outcome": "failed", "reached": False, "private": False, "message": "c"},
    ]
    s = summarise(records)
    assert (s["reached"], s["passed"], s["failed_private"], s["failed_other"]) == (3, 1, 1, 1)


def test_skip_unnamed_looks_for_whole_words():
    from benchmarks.reference_tests.sklearn import names_a_mirrored_name

    assert names_a_mirrored_name("from sklearn.svm import SVC\nSVC().fit(X, y)", ["SVC"])
    assert not names_a_mirrored_name("clf = NuSVC()  # LinearSVCish", ["SVC"])


def test_private_name_imported_from_the_package_is_flagged():
    # sklearn's test_sgd.py monkeypatches ``_stochastic_gradient._ValidationScoreCallback``
    new, private = rewrite(
        "from sklearn.linear_model import Ridge, _stochastic_gradient as sg\n",
        ["linear_model"])
    assert "from _mlnotes_shim_linear_model import Ridge, _stochastic_gradient as sg" in new
    assert private == {"sg"}
