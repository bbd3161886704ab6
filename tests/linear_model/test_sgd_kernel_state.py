"""The SGD kernel takes named state (issue 20: kernels you can read and change safely).

``_plain_sgd`` reads its samples, settings and loop state from three named tuples
(:class:`SGDData`, :class:`SGDParams`, :class:`SGDState`) instead of 37 positional
arguments: the tuples swapped by position fail to compile, and each named field
reaches the place of the update rule it belongs to (a hand-computed epoch).
"""

import inspect

import numpy as np
import pytest
from numba.core.errors import TypingError

from mlnotes.linear_model import SGDClassifier, SGDRegressor
from mlnotes.linear_model import _sgd_fast as k
from mlnotes.linear_model._stochastic_gradient import _kernel_data


def _params(**changes):
    """Settings of a plain, deterministic run (types as the estimators pass them)."""
    base = dict(loss_type=k.SQUARED_ERROR, loss_param=0.0, penalty_type=k.NO_PENALTY,
                alpha=0.0001, l1_ratio=0.0, learning_rate=k.CONSTANT, eta0=0.1,
                power_t=0.25, optimal_init=0.0, fit_intercept=True, shuffle=False,
                tol=-np.inf, early_stopping=False, classification=False,
                n_iter_no_change=5, intercept_decay=1.0, weight_pos=1.0, weight_neg=1.0,
                average=0, track_loss=True)
    base.update(changes)
    return k.SGDParams(**base)


def _two_samples():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    y = np.array([1.0, -1.0])
    sw = np.array([1.0, 2.0])
    X_, values, indices, indptr, is_sparse = _kernel_data(X)
    samples = k.SGDData(X_, values, indices, indptr, is_sparse, y, sw,
                        np.empty(0, dtype=np.intp))
    w, aw = np.zeros(2), np.zeros(2)
    state = k.new_state(0, np.arange(2), w, aw, eta0=0.1)
    return samples, state


def test_kernel_takes_three_named_tuples():
    assert list(inspect.signature(k._plain_sgd).parameters) == [
        "samples", "params", "state", "n_epochs"]
    # every field of the tuples is a distinct name: nothing left positional
    names = k.SGDData._fields + k.SGDParams._fields + k.SGDState._fields
    assert len(names) == len(set(names)) == 36


def test_one_epoch_by_hand():
    # squared error, constant step 0.1, no shuffle, weights 0; the second sample
    # has sample weight 2 and class weight 0.5 (y < 0):
    #   x1 = (1, 0), y1 = 1:  p = 0, update = -0.1 * (0 - 1) = 0.1
    #        w = (0.1, 0), b = 0.1
    #   x2 = (0, 2), y2 = -1: p = 0.1, update = -0.1 * (0.1 + 1) * 0.5 * 2 = -0.11
    #        w = (0.1, -0.22), b = -0.01
    samples, state = _two_samples()
    epochs, status = k._plain_sgd(samples, _params(weight_neg=0.5), state, 1)
    assert (epochs, status) == (1, k.RAN_ALL)
    k._finalize(state.w, state.aw, state.fstate, False)
    np.testing.assert_allclose(state.w, [0.1, -0.22], rtol=1e-12)
    assert state.fstate[k.F_INTERCEPT] == pytest.approx(-0.01, rel=1e-12)
    assert state.istate[k.I_COUNT] == 2
    # summed loss of the epoch: 0.5 * 1^2 + 0.5 * 1.1^2 (before each update)
    assert state.stats[k.S_SUMLOSS] == pytest.approx(0.5 + 0.5 * 1.21, rel=1e-12)


def test_swapped_state_does_not_compile():
    samples, state = _two_samples()
    params = _params()
    with pytest.raises(TypingError):
        k._plain_sgd(params, samples, state, 1)
    with pytest.raises(TypingError):
        k._plain_sgd(samples, state, params, 1)


@pytest.mark.parametrize("Est, y_kind", [(SGDClassifier, "clf"), (SGDRegressor, "reg")])
def test_epoch_by_epoch_equals_one_call(Est, y_kind, capsys):
    # verbose runs the kernel one epoch per call: the state carried between calls
    # in the named tuples must give the model of one call
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = (X[:, 0] > 0).astype(int) if y_kind == "clf" else X @ [1.0, -2.0, 0.5, 0.0]
    params = dict(max_iter=7, tol=None, average=3, penalty="elasticnet", random_state=0)
    one = Est(**params).fit(X, y)
    each = Est(verbose=1, **params).fit(X, y)
    capsys.readouterr()
    np.testing.assert_array_equal(one.coef_, each.coef_)
    np.testing.assert_array_equal(one.intercept_, each.intercept_)
