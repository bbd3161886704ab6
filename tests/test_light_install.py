"""Without the "rl" extra, every estimator outside mlnotes.rl works; mlnotes.rl says
what to install (CONTRIBUTING.md, "Layout")."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    for name in ("gymnasium", "stable_baselines3", "sb3_contrib"):
        sys.modules[name] = None  # as if the rl extra were not installed
    import numpy as np
    from mlnotes.linear_model import Ridge
    from mlnotes.tree import DecisionTreeClassifier
    from mlnotes.utils.discovery import all_agents, all_estimators
    X = np.random.default_rng(0).normal(size=(40, 3))
    Ridge().fit(X, X[:, 0])
    DecisionTreeClassifier(random_state=0).fit(X, X[:, 0] > 0)
    names = [n for n, _ in all_estimators()]
    assert "Ridge" in names and "DynamicsEnsemble" not in names, names
    assert all_agents() == []
    try:
        import mlnotes.rl  # noqa: F401
    except ImportError as exc:
        assert "mlnotes[rl]" in str(exc), exc
        print("OK")
    else:
        raise AssertionError("import mlnotes.rl should fail without the rl extra")
""")


def test_estimators_work_without_the_rl_extra():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("OK")
    assert "gymnasium" not in out.stderr
