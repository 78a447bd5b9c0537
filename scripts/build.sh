#!/usr/bin/env bash
# Set-up (scripts/setup.sh) then configure and build everything into build/.
# Extra arguments go to CMake's configure step (e.g. -DSTATEMIX_CUDA=OFF).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
halide_root=$(.venv/bin/python -c "import halide, os; print(os.path.dirname(halide.__file__))")
.venv/bin/cmake -S . -B build -G Ninja -DCMAKE_MAKE_PROGRAM="$PWD/.venv/bin/ninja" \
  -DCMAKE_BUILD_TYPE=Release -DHalide_DIR="$halide_root/lib64/cmake/Halide" \
  -DHalideHelpers_DIR="$halide_root/lib64/cmake/HalideHelpers" "$@" >/dev/null
.venv/bin/cmake --build build -j "$(nproc)"
