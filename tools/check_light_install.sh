#!/usr/bin/env bash
# The light install (CONTRIBUTING.md, "Supported versions"): in a fresh virtual
# environment, `pip install .` without extras (torch's CPU build first), then fit every
# estimator outside mlnotes.rl on a tiny dataset and check that `import mlnotes.rl`
# names the "rl" extra (tools/light_install_check.py).
#
#   tools/check_light_install.sh           # venv in $TMPDIR/mlnotes-light-install
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${LIGHT_VENV:-${TMPDIR:-/tmp}/mlnotes-light-install}"
TORCH_CPU_INDEX="${TORCH_CPU_INDEX:-https://download.pytorch.org/whl/cpu}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"

rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
PY="$VENV/bin/python"
"$PY" -m pip install -q --upgrade pip
if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/torch/', timeout=5)" \
        "$TORCH_CPU_INDEX" 2>/dev/null; then
    "$PY" -m pip install -q "torch==$TORCH_VERSION" --index-url "$TORCH_CPU_INDEX"
else
    "$PY" -m pip install -q "torch==$TORCH_VERSION"
fi
# a copy of the tree, so that the build leaves no build/ or *.egg-info in the checkout
SRC="$VENV/src"
mkdir -p "$SRC"
git -C "$ROOT" ls-files -z --cached --others --exclude-standard | (cd "$ROOT" && xargs -0 cp --parents -t "$SRC")
"$PY" -m pip install -q "$SRC"
for pkg in gymnasium stable_baselines3 sb3_contrib; do
    if "$PY" -c "import $pkg" 2>/dev/null; then
        echo "$pkg is installed without the rl extra"; exit 1
    fi
done
"$PY" -m pip list 2>/dev/null | sed 's/^/installed: /'
# run from outside the checkout, so that the installed package is the one imported
cd "$VENV"
export NUMBA_CACHE_DIR="$VENV/numba-cache" OMP_NUM_THREADS=1
"$PY" "$ROOT/tools/light_install_check.py" "$@"
