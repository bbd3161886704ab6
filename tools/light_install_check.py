"""Fit every estimator outside ``mlnotes.rl`` on a tiny dataset; check that
``import mlnotes.rl`` names the extra to install when the RL packages are missing.

Run by ``tools/check_light_install.sh`` in a fresh virtual environment made with
``pip install .`` (no extras), and by ``tests/test_light_install.py`` with the RL packages
blocked. Prints one line per estimator and ``OK`` at the end; exits 1 on any failure.

    python tools/light_install_check.py [--block-rl] [--only-numpy] [NAME ...]

``--block-rl`` makes gymnasium / stable_baselines3 / sb3_contrib unimportable (as if the
``rl`` extra were not installed); ``--only-numpy`` skips the torch estimators (a cheap
run for the test suite).
"""

import sys
import time
import warnings


def _block_rl():
    for name in ("gymnasium", "stable_baselines3", "sb3_contrib"):
        sys.modules[name] = None  # import raises ImportError


# the fewest iterations each torch or iterative estimator accepts: this checks that
# fit runs, not what it learns
_FAST = {"max_iter": 2, "n_epochs": 1, "epochs": 1, "n_iter": 2, "n_estimators": 3,
         "n_init": 1}


def _fast_params(est):
    params = est.get_params(deep=False)
    out = {key: min(value, params[key]) for key, value in _FAST.items()
           if isinstance(params.get(key), int) and not isinstance(params[key], bool)}
    if params.get("n_components") == "auto":  # random projections: 4 features only
        out["n_components"] = 2
    return out


def _data(est, rng):
    from sklearn.utils import get_tags

    tags = get_tags(est)
    X = rng.integers(0, 4, size=(40, 4)).astype(float) + rng.uniform(0, 0.1, size=(40, 4))
    if tags.input_tags.positive_only:
        X = abs(X)
    if tags.estimator_type == "classifier":
        return X, (X[:, 0] + X[:, 1] > 3.5).astype(int)
    if tags.estimator_type == "regressor" or tags.target_tags.required:
        return X, X[:, 0] - 0.5 * X[:, 1] + rng.normal(scale=0.1, size=40)
    return X, None


def main(argv):
    if "--block-rl" in argv:
        _block_rl()
    only_numpy = "--only-numpy" in argv
    names = [a for a in argv if not a.startswith("--")]

    import numpy as np

    from mlnotes.base import TorchEstimator
    from mlnotes.utils.discovery import all_agents, all_estimators

    failures = []
    estimators = all_estimators()
    in_rl = [name for name, cls in estimators if cls.__module__.startswith("mlnotes.rl")]
    if in_rl and "--block-rl" in argv:
        failures.append(f"all_estimators() lists mlnotes.rl classes without the extra: {in_rl}")
    estimators = [(name, cls) for name, cls in estimators if name not in in_rl]
    for name, cls in estimators:
        if names and name not in names:
            continue
        if only_numpy and issubclass(cls, TorchEstimator):
            continue
        est = cls()
        est.set_params(**_fast_params(est))
        rng = np.random.default_rng(0)
        X, y = _data(est, rng)
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est.fit(X) if y is None else est.fit(X, y)
        except Exception as exc:  # noqa: BLE001 - reported, then the run fails
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        else:
            print(f"fit  {name} ({time.perf_counter() - start:.2f} s)", flush=True)

    rl_installed = True
    try:
        import gymnasium  # noqa: F401
        import stable_baselines3  # noqa: F401
    except ImportError:
        rl_installed = False
    if not rl_installed:
        if all_agents() != []:
            failures.append(f"all_agents() without the rl extra: {all_agents()}")
        try:
            import mlnotes.rl  # noqa: F401
        except ImportError as exc:
            if "mlnotes[rl]" not in str(exc):
                failures.append(f"import mlnotes.rl: the message does not name the extra: {exc}")
            else:
                print(f"import mlnotes.rl: ImportError: {exc}")
        else:
            failures.append("import mlnotes.rl succeeded without gymnasium/stable_baselines3")
    if failures:
        print("\n".join(["FAILED:"] + failures))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
