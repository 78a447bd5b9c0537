#!/usr/bin/env bash
# Set up a fresh clone, build, and run the main job on its embedded default: `statemix train`
# trains a BD-LRU (m = 2) token model on a small selective-copying task (about five minutes on a
# 2-core CPU) with a progress bar, then prints its test accuracy. The run lands in
# runs/main-<date>/ (config, metrics.jsonl, curves.svg, checkpoints). Pass other `statemix train`
# arguments to change it, e.g. scripts/run.sh configs/group_s3_bdlru.json; the kernel benchmark
# is `build/tools/statemix bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
if [ $# -eq 0 ]; then
  set -- --out "runs/main-$(date +%Y%m%d-%H%M%S)"
fi
exec build/tools/statemix train "$@"
