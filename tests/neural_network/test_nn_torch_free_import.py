"""``import mlnotes.neural_network`` does not import torch; the first fit, predict or
unpickling does (CONTRIBUTING.md, "Fast paths and private APIs"; mlnotes/utils/_lazy.py)."""

import pickle
import subprocess
import sys
import textwrap

import numpy as np

from mlnotes.neural_network import MLPClassifier


def _run(code):
    """Run ``code`` in a fresh interpreter (torch not yet imported) and return stdout."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ, "MLNOTES_TORCH_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_does_not_import_torch_and_fit_works():
    out = _run("""
        import sys
        import mlnotes.neural_network
        from mlnotes.neural_network import CNNClassifier, MLPClassifier, MLPRegressor
        print("after import:", "torch" in sys.modules)
        for cls in (CNNClassifier, MLPClassifier, MLPRegressor):
            cls().get_params()
            repr(cls(hidden_layer_sizes=(3,)))
        print("after params:", "torch" in sys.modules)
        import numpy as np
        rng = np.random.RandomState(0)
        X = rng.randn(60, 4)
        y = (X[:, 0] > 0).astype(int)
        clf = MLPClassifier(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=200,
                            random_state=0).fit(X, y)
        print("after fit:", "torch" in sys.modules, clf.score(X, y))
        """)
    lines = dict(line.split(":", 1) for line in out.strip().splitlines())
    assert lines["after import"].strip() == "False"
    assert lines["after params"].strip() == "False"
    flag, score = lines["after fit"].split()
    assert flag == "True" and float(score) > 0.9


def test_unpickling_in_a_fresh_interpreter_imports_torch_and_predicts(tmp_path):
    rng = np.random.RandomState(0)
    X = rng.randn(50, 3)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=100,
                        random_state=0).fit(X, y)
    path = tmp_path / "mlp.pkl"
    path.write_bytes(pickle.dumps(clf))
    np.save(tmp_path / "X.npy", X)
    out = _run(f"""
        import pickle, sys
        import numpy as np
        clf = pickle.loads(open({str(path)!r}, "rb").read())
        print("torch" in sys.modules)
        print(" ".join(repr(float(p)) for p in clf.predict_proba(np.load({str(tmp_path / "X.npy")!r}))[:, 1]))
        """)
    flag, probs = out.strip().splitlines()
    assert flag == "True"
    # (repr round-trips floats exactly; a tolerance for another torch thread count)
    np.testing.assert_allclose(np.array(probs.split(), dtype=float),
                               clf.predict_proba(X)[:, 1], rtol=1e-10, atol=1e-12)
