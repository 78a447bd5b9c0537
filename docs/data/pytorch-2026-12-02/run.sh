#!/bin/bash
# PyTorch 2.15.0 (PyPI wheel, eager, 2 threads) against `statemix train --profile` on one CPU, the
# model of #9's speed goal, alternating three times. From the repository root:
#   python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.15.0 numpy
#   bash docs/data/pytorch-2026-12-02/run.sh > docs/data/pytorch-2026-12-02/runs.txt 2>&1
PY=${PY:-/tmp/torchenv/bin/python}
D=docs/data/pytorch-2026-12-02
date -u; lscpu | grep -E "Model name|CPU family|^CPU\(s\)"
for r in 1 2 3; do
  for s in none assoc; do $PY $D/torch_token_model.py --scan $s --steps 6; done
  rm -rf /tmp/pt_cmp_run
  build/tools/statemix train configs/selective_copy_bdlru.json --set train.steps=12 --set train.warmup=2 \
    --set train.eval_every=0 --set train.checkpoint_every=0 --out /tmp/pt_cmp_run --profile 2>&1 | \
    tail -30
done
$PY $D/torch_token_model.py --scan loop --steps 2
date -u
