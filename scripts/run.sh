#!/usr/bin/env bash
# Set up a fresh clone, build, and run the main job on its embedded default: the kernel
# benchmark (every H-LRU / BD-LRU variant, forward and backward, vs the same-run copy ceiling and
# the plain C++ reference loop) on a small shape. Pass other `statemix bench` options to change it,
# e.g. scripts/run.sh --batch 16 --seq 2048 --width 1024.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
if [ $# -eq 0 ]; then
  set -- --batch 4 --seq 512 --width 256 --reps 3
fi
exec build/tools/statemix bench "$@"
