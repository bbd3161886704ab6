"""Without the "rl" extra, every estimator outside mlnotes.rl fits and mlnotes.rl says
what to install (CONTRIBUTING.md, "Supported versions"). tools/check_light_install.sh
runs the same script in a fresh ``pip install .`` environment; here the RL packages are
blocked in a subprocess instead."""

import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "tools" / "light_install_check.py"


def test_every_estimator_fits_without_the_rl_extra():
    out = subprocess.run([sys.executable, str(SCRIPT), "--block-rl"], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-1] == "OK"
    fitted = {line.split()[1] for line in lines if line.startswith("fit ")}
    # the families outside mlnotes.rl, one estimator each
    assert {"Ridge", "DecisionTreeClassifier", "KMeans", "PCA", "SVC", "GaussianNB",
            "MLPClassifier", "VAE", "GaussianMixture", "RandomForestClassifier"} <= fitted
    assert "DynamicsEnsemble" not in fitted  # an estimator of mlnotes.rl: needs the extra
    message = next(line for line in lines if line.startswith("import mlnotes.rl"))
    assert "mlnotes[rl]" in message
    assert "gymnasium" not in out.stderr

