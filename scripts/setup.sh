#!/usr/bin/env bash
# The one setup command: creates .venv/ at the repository root and installs
# transferbench (editable, with its test extras) and everything it needs.
# Idempotent: a rerun with nothing changed returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "transferbench needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }

stamp=.venv/.transferbench-setup
wanted=$(cat pyproject.toml scripts/setup.sh examples/plugin-example/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && .venv/bin/python -c "import benchmark, torch, learn2learn" 2>/dev/null; then
    echo "setup: .venv is up to date"
    exit 0
fi

# torch/torchvision first and pinned: these exact versions are CPU-capable wheels
# that pip finds locally here; any other version pulls gigabytes of CUDA.
pip install "torch==2.14.1" "torchvision==0.29.1"

# learn2learn 0.2.0 ships no wheel and its sdist does not build on Python 3.11 with a
# plain `pip install`: its Cython extensions need an older Cython and no isolation.
if ! .venv/bin/python -c "import learn2learn" 2>/dev/null; then
    pip install "cython<3.1" setuptools wheel
    pip install --use-pep517 --no-build-isolation --config-settings="--global-option=build_ext" "learn2learn==0.2.0"
fi

pip install -e ".[test]"

echo "$wanted" > "$stamp"
echo "setup: done. Activate with: source .venv/bin/activate"
