#!/usr/bin/env bash
# Set up a fresh clone (scripts/setup.sh), build everything, run every test (CTest). CUDA tests
# skip cleanly on machines without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh "$@"
cd build
../.venv/bin/ctest --output-on-failure -j "$(nproc)"
