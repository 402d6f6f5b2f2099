#!/usr/bin/env bash
# The one setup command: creates .venv/ at the repository root and installs
# transferbench (editable, with its test and ray extras) and everything it needs.
# Idempotent: a rerun with nothing changed returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "transferbench needs Python >= 3.11"'
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
pip() { .venv/bin/python -m pip "$@"; }

# Headless Chromium renders the HTML leaderboard in its test (which skips, saying so, without it).
# Installed only as root with apt-get, only when missing; never fatal.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
              chromium chromium-driver; } >/dev/null 2>&1 \
            || echo "setup: could not install chromium (the HTML leaderboard test will skip)" >&2
    fi
fi

# The seed cases' assets (assets.toml), by name: downloaded once by pinned sha256 and laid out
# under the data root (./data, or $TRANSFERBENCH_DATA), verified; a rerun only hashes them again
# (about a second). Not fatal: offline, suites that declare them stop in one line naming the command.
fetch_assets() {
    .venv/bin/transferbench fetch efficientnet-lite0 efficientnet-lite2 elpv all-minilm-l6-v2 vader \
        || echo "setup: could not fetch the assets; rerun: .venv/bin/transferbench fetch efficientnet-lite0 efficientnet-lite2 elpv all-minilm-l6-v2 vader" >&2
}

# The offline sets beside the repository (../shared/data: MNIST, USPS, KMNIST, Omniglot, SpamAssassin,
# WordLlama) are linked into the default data root too, so a suite that reads them and the fetched
# assets together (suites/model-zoo.toml) runs with one data root. A folder ./data already has is kept.
link_shared_data() {
    [ -d ../shared/data ] || return 0
    mkdir -p data
    for dir in ../shared/data/*/; do
        name=$(basename "$dir")
        [ -e "data/$name" ] || ln -s "$(cd "$dir" && pwd)" "data/$name"
    done
}

stamp=.venv/.transferbench-setup
wanted=$(cat pyproject.toml scripts/setup.sh examples/plugin-example/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && .venv/bin/python -c "import benchmark, torch, learn2learn" 2>/dev/null; then
    fetch_assets
    link_shared_data
    echo "setup: .venv is up to date"
    exit 0
fi

# torch/torchvision first and pinned: these exact versions are CPU-capable wheels
# that pip finds locally here; any other version pulls gigabytes of CUDA.
pip install "torch==2.14.1" "torchvision==0.29.1"

# transferbench (editable) with its test and ray extras (so the Ray executor's tests run in
# CI, on a local Ray), and the "learn2learn" extra: what learn2learn imports, without it.
pip install -e ".[test,ray,learn2learn]"

# learn2learn 0.2.0 ships no wheel and its sdist does not build on Python 3.11 with a
# plain `pip install`: its Cython extensions need an older Cython and no isolation.
# --no-deps: its requirement qpth declares numpy<2 and would downgrade the environment
# (pyproject.toml says why that is safe). `pip check` then reports its unmet qpth and
# gsutil requirements; both are left out on purpose.
if ! .venv/bin/python -c "import learn2learn" 2>/dev/null; then
    pip install "cython<3.1" setuptools wheel
    pip install --no-deps --use-pep517 --no-build-isolation --config-settings="--global-option=build_ext" "learn2learn==0.2.0"
fi

fetch_assets
link_shared_data
echo "$wanted" > "$stamp"
echo "setup: done. Activate with: source .venv/bin/activate"
