#!/usr/bin/env bash
# Run a representative subset of the tests against the MINIMUM versions that
# pyproject.toml declares (every "name>=X" of the dependencies and of the "rl" extra
# installed as "name==X") in a throwaway virtual environment. CONTRIBUTING.md,
# "Supported versions", records what this was last run with.
#
#   tools/check_min_versions.sh            # venv in $TMPDIR/mlnotes-min-versions
#   MIN_VENV=/path PYTHON=python3.11 tools/check_min_versions.sh
#   REUSE=1 tools/check_min_versions.sh    # keep the venv of an earlier run (tests only)
#
# The venv's numba cache is its own (NUMBA_CACHE_DIR), so the kernels cached next to
# the sources for the development venv are left alone.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${MIN_VENV:-${TMPDIR:-/tmp}/mlnotes-min-versions}"
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"

PY="$VENV/bin/python"
if [ "${REUSE:-0}" = 1 ] && [ -f "$VENV/.installed" ]; then
    echo "reusing $VENV"
else
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip

# name==minimum for every "name>=minimum" in [project] dependencies and the rl extra
"$PY" - "$ROOT/pyproject.toml" > "$VENV/minimums.txt" <<'PYEOF'
import re
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
for req in project["dependencies"] + project["optional-dependencies"]["rl"]:
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*>=\s*([0-9][^,;\s]*)\s*", req)
    if m is None:
        sys.exit(f"cannot read a minimum from {req!r}")
    print(f"{m.group(1)}=={m.group(2)}")
PYEOF
echo "minimum versions:"; sed 's/^/  /' "$VENV/minimums.txt"

# torch's CPU build first (the default index's Linux wheel pulls the CUDA packages)
TORCH_PIN="$(grep '^torch==' "$VENV/minimums.txt")"
if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=5)" \
        "$TORCH_CPU_INDEX" 2>/dev/null; then
    "$PY" -m pip install -q "$TORCH_PIN" --index-url "$TORCH_CPU_INDEX"
else
    "$PY" -m pip install -q "$TORCH_PIN"
fi
# the minimums, plus what the tests need (any version compatible with them)
"$PY" -m pip install -q -r "$VENV/minimums.txt" pytest hypothesis pandas -c "$VENV/minimums.txt"
"$PY" -m pip list 2>/dev/null | grep -iE '^(numpy|scipy|scikit-learn|threadpoolctl|numba|llvmlite|torch|gymnasium|stable.baselines3|tqdm|rich) ' \
    | sed 's/^/installed: /'
touch "$VENV/.installed"
fi

# the sources as they are (not installed): python -m pytest puts the checkout first
cd "$ROOT"
export NUMBA_CACHE_DIR="$VENV/numba-cache" OMP_NUM_THREADS=1 PYTHONDONTWRITEBYTECODE=1
# (one pytest run per -k: pytest applies a single -k to every file it is given)
status=0
"$PY" -m pytest -q -p no:cacheprovider tests/test_common.py \
    -k "Ridge or LogisticRegression or GaussianNB or KMeans or DecisionTreeClassifier or MLPClassifier or GaussianMixture or PCA" \
    || status=1
"$PY" -m pytest -q -p no:cacheprovider tests/rl/test_agents_common.py -k "A2C or SAC or DQN" \
    || status=1
"$PY" -m pytest -q -p no:cacheprovider tests/linear_model/test_ridge.py tests/rl/test_a2c.py \
    tests/test_fastpaths.py "$@" || status=1
exit $status
