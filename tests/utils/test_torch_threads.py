"""The torch thread policy: mlnotes chooses its intra-op threads, the caller's survive."""

import inspect
import os
import warnings

import numpy as np
import pytest
import torch

import mlnotes.utils._torch as torch_utils
from mlnotes.utils._torch import (
    AUTO_THREAD_WORK,
    DEFER,
    THREADS_ENV,
    agent_forward_work,
    choose_torch_threads,
    idle_cores,
    module_flops,
    torch_threads,
)


@pytest.fixture
def idle_machine(monkeypatch):
    """Eight idle cores, whatever the machine running the test is doing."""
    monkeypatch.setattr(torch_utils, "idle_cores", lambda: 8)


@pytest.fixture
def user_threads(monkeypatch):
    """The caller sets 3 threads; every torch.set_num_threads call is recorded."""
    monkeypatch.delenv(THREADS_ENV, raising=False)
    original_set = torch.set_num_threads
    before = torch.get_num_threads()
    calls = []

    def recording_set(n):
        calls.append(n)
        original_set(n)

    original_set(3)
    monkeypatch.setattr(torch, "set_num_threads", recording_set)
    yield calls
    original_set(before)


def test_choice_small_work_is_one_thread(monkeypatch, idle_machine):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert choose_torch_threads(None, ceiling=8) == 1
    assert choose_torch_threads(AUTO_THREAD_WORK / 2, ceiling=8) == 1
    # large work: one more thread per multiple of AUTO_THREAD_WORK, capped by the caller
    assert choose_torch_threads(AUTO_THREAD_WORK, ceiling=8) == 2
    assert choose_torch_threads(3.5 * AUTO_THREAD_WORK, ceiling=8) == 4
    assert choose_torch_threads(100 * AUTO_THREAD_WORK, ceiling=3) == 3


def test_choice_on_a_busy_machine_is_one_thread(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.setattr(torch_utils, "idle_cores", lambda: 1)
    assert choose_torch_threads(100 * AUTO_THREAD_WORK, ceiling=8) == 1
    monkeypatch.setattr(torch_utils, "idle_cores", lambda: 3)
    assert choose_torch_threads(100 * AUTO_THREAD_WORK, ceiling=8) == 3


@pytest.mark.parametrize("load, expected", [(0.2, 4), (1.0, 4), (1.4, 4), (1.6, 3),
                                            (3.0, 2), (4.6, 1), (40.0, 1)])
def test_idle_cores_subtracts_other_processes_load(monkeypatch, load, expected):
    # four cores; the load counts this process itself when it runs (about 1)
    monkeypatch.setattr(torch_utils.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3},
                        raising=False)
    monkeypatch.setattr(torch_utils.os, "getloadavg", lambda: (load, load, load),
                        raising=False)
    monkeypatch.setattr(torch_utils, "_running_elsewhere", lambda: None)
    assert idle_cores() == expected


@pytest.mark.parametrize("load, now, expected", [
    (2.0, 0, 2),    # the average still holds a finished two-thread fit: idle now
    (2.0, 1, 1),    # another process is running
    (1.2, 5, 2),    # the average says idle (the instant is not read)
    (30.0, 12, 1),  # busy by both measures
    (30.0, None, 1),  # no instant count (not Linux): the average decides
])
def test_idle_cores_takes_the_smaller_load(monkeypatch, load, now, expected):
    monkeypatch.setattr(torch_utils.os, "sched_getaffinity", lambda pid: {0, 1},
                        raising=False)
    monkeypatch.setattr(torch_utils.os, "getloadavg", lambda: (load, load, load),
                        raising=False)
    monkeypatch.setattr(torch_utils, "_running_elsewhere", lambda: now)
    assert idle_cores() == expected


def test_running_elsewhere_reads_the_kernel_count_at_most_every_half_second(
        monkeypatch, tmp_path):
    if not os.path.exists("/proc/loadavg"):
        pytest.skip("no /proc/loadavg on this system: the count is None there")
    monkeypatch.setattr(torch_utils, "_instant_cache", [])
    first = torch_utils._running_elsewhere()
    assert isinstance(first, int) and first >= 0
    # a cached value is returned within half a second, a fresh read after it
    torch_utils._instant_cache[:] = [(torch_utils.time.monotonic(), 123)]
    assert torch_utils._running_elsewhere() == 123
    torch_utils._instant_cache[:] = [(torch_utils.time.monotonic() - 1.0, 123)]
    assert torch_utils._running_elsewhere() != 123


def test_idle_cores_without_load_average(monkeypatch):
    monkeypatch.setattr(torch_utils.os, "sched_getaffinity", lambda pid: {0, 1},
                        raising=False)

    def unavailable():
        raise OSError("no load average")

    monkeypatch.setattr(torch_utils.os, "getloadavg", unavailable, raising=False)
    monkeypatch.setattr(torch_utils, "_running_elsewhere", lambda: None)
    assert idle_cores() == 2


@pytest.mark.parametrize("value, expected", [("2", 2), ("torch", None), ("auto", 1),
                                             (" 5 ", 5)])
def test_environment_variable_overrides(monkeypatch, value, expected):
    monkeypatch.setenv(THREADS_ENV, value)
    assert choose_torch_threads(None, ceiling=8) == expected


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_environment_variable_bad_value(monkeypatch, value):
    monkeypatch.setenv(THREADS_ENV, value)
    with pytest.raises(ValueError, match=THREADS_ENV):
        choose_torch_threads()


def test_context_restores_on_error(user_threads):
    with pytest.raises(RuntimeError):
        with torch_threads() as n:
            assert n == 1 == torch.get_num_threads()
            raise RuntimeError("boom")
    assert torch.get_num_threads() == 3


def test_nested_blocks_never_exceed_the_callers_setting(user_threads, idle_machine):
    with torch_threads():
        assert torch.get_num_threads() == 1
        with torch_threads(50 * AUTO_THREAD_WORK) as inner:
            assert inner == 3  # the caller's 3, not the 1 of the outer block
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 3


def test_module_flops_counts_dense_and_conv():
    mlp = torch.nn.Sequential(torch.nn.Linear(10, 20), torch.nn.ReLU(),
                              torch.nn.Linear(20, 3))
    assert module_flops(mlp, batch_size=4) == 2 * 4 * (200 + 60)
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.Flatten(),
                               torch.nn.Linear(8, 2))
    assert module_flops(conv, batch_size=2, spatial=100) == 2 * 2 * (16 + 100 * 72)
    # matrices registered outside a ``weight`` attribute (the MLP's ParameterList)
    listed = torch.nn.Module()
    listed.weights = torch.nn.ParameterList(
        [torch.nn.Parameter(torch.zeros(10, 20)), torch.nn.Parameter(torch.zeros(20, 3))])
    listed.bias = torch.nn.Parameter(torch.zeros(3))
    assert module_flops(listed, batch_size=4) == 2 * 4 * (200 + 60)


def _record_during_training(monkeypatch, cls, seen):
    method = cls._fit_stochastic

    def spy(self, *args, **kwargs):
        seen.append(torch.get_num_threads())
        return method(self, *args, **kwargs)

    monkeypatch.setattr(cls, "_fit_stochastic", spy)


def test_mlp_fit_predict_one_thread_and_restores(user_threads, monkeypatch):
    from mlnotes.neural_network import MLPClassifier

    X = np.random.RandomState(0).normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    seen = []
    _record_during_training(monkeypatch, MLPClassifier, seen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X, y)
    assert seen == [1]
    assert torch.get_num_threads() == 3
    clf.predict_proba(X)
    assert torch.get_num_threads() == 3
    assert 1 in user_threads  # the fit did switch


def test_environment_torch_leaves_threads_alone(user_threads, monkeypatch):
    from mlnotes.neural_network import MLPRegressor

    monkeypatch.setenv(THREADS_ENV, "torch")
    X = np.random.RandomState(0).normal(size=(40, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, random_state=0).fit(X, X[:, 0])
    assert user_threads == []
    assert torch.get_num_threads() == 3


def test_agent_learn_and_predict_restore(user_threads):
    from mlnotes.rl import A2C

    seen = []

    def callback(locals_, globals_):
        seen.append(torch.get_num_threads())
        return True

    agent = A2C("MlpPolicy", "CartPole-v1", n_steps=5, seed=0)
    work = agent_forward_work(agent)
    assert 0 < work < AUTO_THREAD_WORK
    agent.learn(20, callback=callback)
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == 3
    agent.predict(np.zeros(4, dtype=np.float32))
    assert torch.get_num_threads() == 3


def test_wrapped_methods_keep_signature_and_docs():
    from mlnotes.neural_network import MLPClassifier
    from mlnotes.rl import A2C

    assert getattr(MLPClassifier.fit, "_mlnotes_threads", False)
    assert "sample_weight" in inspect.signature(MLPClassifier.fit).parameters
    assert getattr(A2C.learn, "_mlnotes_threads", False)
    assert "total_timesteps" in inspect.signature(A2C.learn).parameters
    assert A2C.learn.__doc__
    assert getattr(A2C.predict, "_mlnotes_threads", False)  # inherited, wrapped once
    assert not getattr(A2C.predict.__wrapped__, "_mlnotes_threads", False)


def test_transformer_work_counts_every_position():
    # a transformer's dense layers run at each position: its estimate scales with them
    from mlnotes.base import _forward_work
    from mlnotes.density._transformer import _TransformerModule

    module = _TransformerModule(n_features=64, n_levels=2, ordering=np.arange(64),
                                d_model=32, n_heads=2, n_layers=1, dim_feedforward=64,
                                dropout=0.0)
    per_row = module_flops(module, batch_size=1)
    assert _forward_work(module, 4, 64) == pytest.approx(4 * 64 * per_row)


def test_first_fit_on_the_callers_count_never_switches(user_threads, idle_machine,
                                                       monkeypatch):
    # A fit whose training block chooses the caller's count (large work, idle cores)
    # must make no torch.set_num_threads call at all: a switch away and back leaves
    # torch slower than its untouched default (see mlnotes.utils._torch.DEFER).
    from mlnotes.neural_network import MLPRegressor

    X = np.random.RandomState(0).normal(size=(300, 64))
    reg = MLPRegressor(hidden_layer_sizes=(512, 512), max_iter=2, random_state=0)
    seen = []
    _record_during_training(monkeypatch, MLPRegressor, seen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, X[:, 0])
        reg.predict(X)
    assert seen == [3]
    assert user_threads == []
    assert torch.get_num_threads() == 3


def test_defer_block_sets_nothing_and_caps_nested_blocks(user_threads, idle_machine):
    with torch_threads(DEFER) as n:
        assert n == 3 and user_threads == []
        with torch_threads(None):
            assert torch.get_num_threads() == 1
        with torch_threads(50 * AUTO_THREAD_WORK) as inner:
            assert inner == 3
    assert user_threads == [1, 3]
    assert torch.get_num_threads() == 3
