"""Each fast path of mlnotes/_fastpaths.py agrees with its public-API fallback, and
``MLNOTES_DISABLE_FASTPATHS=1`` turns them all off (mlnotes/_fastpaths.py; CONTRIBUTING.md,
"Fast paths and private APIs")."""

import importlib
import json
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from mlnotes import _fastpaths
from mlnotes.base import _SGD, _Adam

ROOT = pathlib.Path(__file__).resolve().parents[1]

fast_on = pytest.mark.skipif(not _fastpaths.enabled(),
                             reason="MLNOTES_DISABLE_FASTPATHS is set: no fast path to compare")


def _run(code, env_extra, tmp_path=None):
    env = dict(os.environ, **env_extra)
    if tmp_path is not None:
        env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env=env, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ the switch itself

REPORT = """
    import json
    import mlnotes
    from mlnotes import _fastpaths

    @_fastpaths.njit(nogil=True, _nrt=False)
    def kernel(x):
        return x + 1

    print(json.dumps(dict(_fastpaths.report(), nrt=kernel.targetoptions.get("_nrt"))))
"""


@pytest.mark.parametrize("value, on", [("1", False), ("0", True)])
def test_environment_switch_turns_every_fast_path_off(value, on, tmp_path):
    status = _run(REPORT, {_fastpaths.ENV_VAR: value}, tmp_path)
    assert status["enabled"] is on and status["numba_nrt_off"] is on
    # numba's private flag reaches the kernels only with the fast paths on
    assert status["nrt"] is (False if on else None)
    # off: numba caches apart, so no kernel compiled with _nrt=False is loaded
    cache = pathlib.Path(status["numba_cache_dir"])
    assert (cache.name == "mlnotes-fastpaths-off") is (not on)
    if not on:
        assert cache.parent == tmp_path / "numba"


@pytest.mark.parametrize("value, off", [("1", True), ("true", True), ("yes", True),
                                        ("0", False), ("", False), ("off", False)])
def test_switch_values(value, off, monkeypatch):
    monkeypatch.setenv(_fastpaths.ENV_VAR, value)
    assert _fastpaths._read_switch() is off


def test_forced_restores_the_switch():
    before = _fastpaths.enabled()
    with _fastpaths.forced(not before):
        assert _fastpaths.enabled() is (not before)
    assert _fastpaths.enabled() is before


# ----------------------------------------------------------- torch estimators' optimisers


def _params_and_grads(seed, n_steps):
    g = torch.Generator().manual_seed(seed)
    shapes = [(7, 5), (5,), (5, 3), (3,)]
    params = [torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    grads = [[torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
             for _ in range(n_steps)]
    # a gradient with a permuted layout (as autograd returns after a transpose): the
    # fused kernels ignore strides, so the fast path must make it contiguous first
    for step in grads:
        step[0] = step[0].t().contiguous().t()
    return params, grads


def _run_optimizer(make, on, n_steps=25, lr_changes=()):
    params, grads = _params_and_grads(0, n_steps)
    with _fastpaths.forced(on):
        opt = make(params)
        for t, step in enumerate(grads):
            if t in lr_changes:
                opt.set_learning_rate(lr_changes[t])
            opt.step(params, step)
    return [p.numpy().copy() for p in params]


@fast_on
@pytest.mark.parametrize("make", [
    lambda p: _Adam(p, 1e-2, 0.9, 0.999, 1e-8),
    lambda p: _Adam(p, 3e-2, 0.5, 0.9, 1e-4),
    lambda p: _SGD(p, 0.05, 0.9, True),
    lambda p: _SGD(p, 0.05, 0.9, False),
    lambda p: _SGD(p, 0.05, 0.0, False),
], ids=["adam", "adam-other-betas", "sgd-nesterov", "sgd-momentum", "sgd-plain"])
def test_estimator_optimisers_fast_and_fallback_agree(make):
    lr_changes = {10: 0.02, 17: 0.07}  # invscaling/adaptive change the step size
    fast = _run_optimizer(make, True, lr_changes=lr_changes)
    slow = _run_optimizer(make, False, lr_changes=lr_changes)
    start, _ = _params_and_grads(0, 0)
    for a, b, p0 in zip(fast, slow, start):
        assert not np.allclose(a, p0.numpy())  # the steps did something
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


@fast_on
@pytest.mark.parametrize("params", [
    dict(solver="adam"), dict(solver="sgd", nesterovs_momentum=True, learning_rate="invscaling"),
], ids=["adam", "sgd"])
def test_mlp_fit_same_with_fast_paths_off(params):
    from mlnotes.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    kw = dict(hidden_layer_sizes=(16, 8), max_iter=15, random_state=0, batch_size=32, **params)

    fast = MLPClassifier(**kw).fit(X, y)
    with _fastpaths.forced(False):
        slow = MLPClassifier(**kw).fit(X, y)
        proba_slow = slow.predict_proba(X)
    for a, b in zip(fast.coefs_ + fast.intercepts_, slow.coefs_ + slow.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(fast.loss_curve_, slow.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(fast.predict_proba(X), proba_slow, rtol=1e-6, atol=1e-12)


@fast_on
def test_mlp_module_layer_cache_follows_to():
    # the fast path relies on nn.Module._apply (private) running on .to(): if torch
    # stopped calling it, the cached layers would be the old float64 parameters
    from mlnotes.neural_network._mlp import _MLPModule

    torch.manual_seed(0)
    module = _MLPModule([4, 6, 2])
    for w in [*module.weights, *module.biases]:
        torch.nn.init.normal_(w)
    x = torch.randn(5, 4, dtype=torch.float64)
    module = module.to(torch.float32)
    out_fast = module(x.float())
    assert out_fast.dtype == torch.float32
    with _fastpaths.forced(False):
        out_slow = module(x.float())
    torch.testing.assert_close(out_fast, out_slow)


# ------------------------------------------------------------------------ agents


def _train(optimizer_factory, step, on, n_steps=30):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2))
    opt = optimizer_factory(net.parameters())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 4, generator=g)
    target = torch.randn(64, 2, generator=g)
    with _fastpaths.forced(on):
        for _ in range(n_steps):
            opt.zero_grad(set_to_none=True)
            loss = ((net(x) - target) ** 2).mean()
            loss.backward()
            step(opt)
    return [p.detach().numpy().copy() for p in net.parameters()], opt


def _adam(params):
    return torch.optim.Adam(params, lr=3e-3, fused=True)


def _adam_wd(params):
    return torch.optim.Adam(params, lr=3e-3, weight_decay=1e-2, fused=True)


def _rmsprop(params):  # SB3's A2C optimiser
    return torch.optim.RMSprop(params, lr=7e-4, alpha=0.99, eps=1e-5)


def _step_functions():
    from mlnotes.rl.common import _optim, continuous_policies, off_policy_algorithm

    return {"continuous_policies.optimizer_step": continuous_policies.optimizer_step,
            "off_policy_algorithm.adam_step": off_policy_algorithm.adam_step,
            "_optim.optimizer_step": _optim.optimizer_step}


@fast_on
@pytest.mark.parametrize("step_name, factory", [
    ("continuous_policies.optimizer_step", _adam),
    ("continuous_policies.optimizer_step", _adam_wd),
    ("off_policy_algorithm.adam_step", _adam),
    ("_optim.optimizer_step", _rmsprop),
])
def test_agent_optimiser_steps_fast_and_fallback_agree(step_name, factory):
    pytest.importorskip("stable_baselines3")
    step = _step_functions()[step_name]
    fast, opt_fast = _train(factory, step, True)
    slow, opt_slow = _train(factory, step, False)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # the comparison means something only if the fast path really ran
    fast_fn = (_fastpaths.fused_adam_step if isinstance(opt_fast, torch.optim.Adam)
               else _fastpaths.rmsprop_step)
    opt_fast.zero_grad()
    for p in [p for g in opt_fast.param_groups for p in g["params"]]:
        p.grad = torch.zeros_like(p)
    assert fast_fn(opt_fast) is True
    with _fastpaths.forced(False):
        assert fast_fn(opt_slow) is False


@fast_on
def test_fused_adam_step_declines_hooks_and_other_settings():
    net = torch.nn.Linear(3, 2)
    for opt in (torch.optim.Adam(net.parameters(), fused=False, foreach=False),
                torch.optim.Adam(net.parameters(), amsgrad=True, fused=True),
                torch.optim.SGD(net.parameters(), lr=0.1)):
        net(torch.ones(1, 3)).sum().backward()
        opt.step()  # state initialised
        net(torch.ones(1, 3)).sum().backward()
        assert _fastpaths.fused_adam_step(opt) is False
    opt = torch.optim.Adam(net.parameters(), fused=True)
    net(torch.ones(1, 3)).sum().backward()
    assert _fastpaths.fused_adam_step(opt) is False  # no state yet: step() creates it
    opt.step()
    calls = []
    handle = opt.register_step_post_hook(lambda *a: calls.append(1))
    assert _fastpaths.fused_adam_step(opt) is False  # a hook must run: ordinary step
    handle.remove()
    assert _fastpaths.fused_adam_step(opt) is True


@fast_on
@pytest.mark.parametrize("name", ["A2C", "SAC", "DQN"])
def test_agent_learns_the_same_with_fast_paths_off(name):
    rl = pytest.importorskip("mlnotes.rl")
    env_id = "Pendulum-v1" if name == "SAC" else "CartPole-v1"
    kw = dict(seed=0, device="cpu")
    if name == "SAC":
        kw.update(learning_starts=50, batch_size=32, policy_kwargs=dict(net_arch=[32, 32]))
    elif name == "DQN":
        kw.update(learning_starts=50, batch_size=32, train_freq=4,
                  policy_kwargs=dict(net_arch=[32, 32]))
    budget = {"A2C": 200, "SAC": 150, "DQN": 250}[name]

    def learn():
        agent = getattr(rl, name)("MlpPolicy", env_id, **kw)
        agent.learn(budget)
        return {f"{part}.{k}": v.detach().numpy().copy()
                for part, tensors in agent.get_parameters().items()
                for k, v in tensors.items() if torch.is_tensor(v)}

    fast = learn()
    with _fastpaths.forced(False):
        slow = learn()
    assert fast.keys() == slow.keys() and fast
    for k in fast:
        np.testing.assert_allclose(fast[k], slow[k], rtol=1e-5, atol=1e-6, err_msg=k)


@fast_on
def test_polyak_update_and_gradient_clipping_fast_and_fallback_agree():
    pytest.importorskip("stable_baselines3")
    from mlnotes.rl.common.off_policy_algorithm import polyak_update
    from mlnotes.utils._torch import clip_gradients

    def run(on):
        g = torch.Generator().manual_seed(0)
        params = [torch.randn(5, 3, generator=g), torch.randn(3, generator=g)]
        targets = [torch.randn(5, 3, generator=g), torch.randn(3, generator=g)]
        grads = [10 * torch.randn(5, 3, generator=g), 10 * torch.randn(3, generator=g)]
        with _fastpaths.forced(on):
            polyak_update(params, targets, 0.005)
            half = [t.clone() for t in targets]
            polyak_update(params, targets, 1.0)
            clip_gradients(grads, 0.5)
        return [t.numpy() for t in half + targets + grads]

    fast, slow = run(True), run(False)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    total = np.sqrt(sum((g ** 2).sum() for g in fast[-2:]))
    np.testing.assert_allclose(total, 0.5, rtol=1e-4)  # clipped to max_norm


# ------------------------------------------------------------------------ numba

NUMBA_KERNELS = """
    import json
    import os
    import sys
    import types
    import numpy as np
    import mlnotes
    from mlnotes import _fastpaths
    # the kernel modules alone, without mlnotes/tree/__init__.py's estimator imports
    package = types.ModuleType("mlnotes.tree")
    package.__path__ = [os.path.join(os.path.dirname(mlnotes.__file__), "tree")]
    sys.modules["mlnotes.tree"] = package
    from mlnotes.tree import _mae
    rng = np.random.default_rng(0)
    n = 50
    w = rng.uniform(0.5, 2.0, size=n)
    y = rng.normal(size=n)
    tw, twy = np.zeros(n + 1), np.zeros(n + 1)
    max_pow2 = _mae._fenwick_reset(tw, twy, n)
    for i in range(n):
        _mae._fenwick_add(tw, twy, n, i, w[i] * y[i], w[i])
    targets = rng.uniform(0, w.sum(), size=20)
    found = [list(_mae._fenwick_search(tw, twy, n, max_pow2, t)) for t in targets]
    print(json.dumps({"nrt_off": _fastpaths.report()["numba_nrt_off"],
                      "nrt_flag": _mae._fenwick_add.targetoptions.get("_nrt"),
                      "found": found, "targets": targets.tolist(),
                      "w": w.tolist(), "y": y.tolist()}))
"""


@fast_on
def test_numba_kernels_same_with_reference_counting():
    # small kernels (weighted-median Fenwick tree) compiled both ways, each cached where
    # mlnotes caches it (a whole tree costs minutes to compile; the fast-path-off CI
    # pass runs the tree tests that way)
    fast = _run(NUMBA_KERNELS, {_fastpaths.ENV_VAR: "0"})
    slow = _run(NUMBA_KERNELS, {_fastpaths.ENV_VAR: "1"})
    assert (fast["nrt_off"], fast["nrt_flag"]) == (True, False)
    assert (slow["nrt_off"], slow["nrt_flag"]) == (False, None)
    assert fast["found"] == slow["found"]
    # and both are right: the smallest rank whose cumulative weight exceeds the target
    w, y = np.array(fast["w"]), np.array(fast["y"])
    cum = np.cumsum(w)
    for t, (rank, _, w_before, wy_before) in zip(fast["targets"], fast["found"]):
        assert rank == int(np.searchsorted(cum, t, side="right"))
        np.testing.assert_allclose([w_before, wy_before],
                                   [w[:rank].sum(), (w * y)[:rank].sum()], rtol=1e-12)


# ------------------------------------------------ what is private stays listed in one place

def _library_sources():
    return [p for p in (ROOT / "mlnotes").rglob("*.py") if "__pycache__" not in p.parts]


def test_every_private_sklearn_name_in_use_is_listed():
    used = {}
    for path in _library_sources():
        text = path.read_text()
        for m in re.finditer(r"^\s*from\s+(sklearn[\w.]*)\s+import\s+(\([^)]*\)|[^\n]*)",
                             text, re.MULTILINE):
            module = m.group(1)
            names = [n.split(" as ")[0].strip() for n in
                     m.group(2).strip("()").replace("\n", " ").split("#")[0].split(",")]
            private_module = any(part.startswith("_") for part in module.split("."))
            for name in filter(None, names):
                if private_module or name.startswith("_"):
                    used.setdefault((module, name), path.relative_to(ROOT).as_posix())
    listed = {(m, n) for m, names in _fastpaths.SKLEARN_PRIVATE.items() for n in names}
    missing = {k: v for k, v in used.items() if k not in listed}
    assert not missing, f"private scikit-learn names not in SKLEARN_PRIVATE: {missing}"


@pytest.mark.parametrize("module", sorted(_fastpaths.SKLEARN_PRIVATE))
def test_listed_private_sklearn_names_exist(module):
    mod = importlib.import_module(module)
    gone = [n for n in _fastpaths.SKLEARN_PRIVATE[module] if not hasattr(mod, n)]
    assert not gone, f"scikit-learn moved or removed {module}.{gone}"


def test_numba_private_flag_goes_through_fastpaths():
    # a kernel compiled with numba's private _nrt=False is decorated by
    # mlnotes._fastpaths.njit, which drops the flag when the fast paths are off
    for path in _library_sources():
        rel = path.relative_to(ROOT).as_posix()
        text = path.read_text()
        if rel != "mlnotes/_fastpaths.py" and re.search(r"_nrt\s*=\s*False", text):
            assert re.search(r"^from mlnotes\._fastpaths import njit\b", text, re.MULTILINE), (
                f"{rel} passes _nrt=False: decorate with mlnotes._fastpaths.njit")
            assert not re.search(r"^from numba import .*\bnjit\b", text, re.MULTILINE), rel


def test_private_torch_and_sb3_use_goes_through_fastpaths():
    # torch's fused kernels and hook registries are used only in mlnotes/_fastpaths.py
    # and at the call sites it documents
    allowed = {
        "_fused_adam_": {"mlnotes/base.py"},
        "_fused_sgd_": {"mlnotes/base.py"},
        "_optimizer_step_pre_hooks": set(),
        "_global_optimizer_pre_hooks": set(),
        "_patch_env": set(),
        # not behind the switch (mlnotes/_fastpaths.py says why): the known users only
        "_foreach_norm": {"mlnotes/base.py", "mlnotes/utils/_torch.py"},  # (gated)
        "_foreach_lerp_": {"mlnotes/base.py", "mlnotes/rl/common/off_policy_algorithm.py",
                           "mlnotes/density/_gan.py"},
        "_foreach_copy_": {"mlnotes/rl/common/off_policy_algorithm.py"},
        "_foreach_mul_": {"mlnotes/base.py", "mlnotes/utils/_torch.py"},
        "_foreach_add_": {"mlnotes/base.py"},
        "_foreach_addcmul_": {"mlnotes/base.py"},
        "_foreach_addcdiv_": {"mlnotes/base.py"},
        "_foreach_sqrt": {"mlnotes/base.py"},
        "_ConvNd": {"mlnotes/base.py", "mlnotes/utils/_torch.py"},
    }
    for path in _library_sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel == "mlnotes/_fastpaths.py":
            continue
        text = path.read_text()
        for token, files in allowed.items():
            if re.search(rf"\b{token}\b\s*[(\[]|\.{token}\b|import {token}\b", text):
                assert rel in files, f"{rel} uses {token}: route it through mlnotes/_fastpaths.py"
