#!/usr/bin/env python3
"""The tuning database as a Markdown table for docs/benchmarks.md.

    python3 scripts/tuning_table.py [autotune/db/tuning.json]

One row per complete scan entry: the shape, the chosen knobs, tuned and default times, the
speed-up, throughput and its share of the copy ceiling sampled between the same entry's runs, and
the best Halide autoscheduler where one was measured. Then the RNN cores' entries (Elman, WCRNN,
LSTM): the implementation chosen (step kernels or one launch), GFLOP/s of their mat-vecs.
"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "autotune/db/tuning.json"
db = json.load(open(path))
buckets = {b["name"]: b for b in db["buckets"]}
print("| kernel | m | bucket (B, T, state) | chosen knobs | tuned ms | default ms | speed-up | GB/s | % of ceiling "
      "| best autoscheduler ms | tuned vs it | search, candidates |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
order = {"bdlru": 0, "hlru": 1}
RNN = ("elman", "wcrnn", "lstm")
for e in sorted(db["entries"], key=lambda e: (e["target"], order.get(e["layer"], 9), e["direction"] != "forward",
                                               e["bucket"], e["m"])):
    if not e["complete"] or e["layer"] in RNN:
        continue
    b = buckets.get(e["bucket"], {})
    knobs = " ".join(f"{k}={v}" for k, v in sorted(e["params"].items()) if k != "vector_width" or v != "0")
    gbs = e["bytes"] / (e["ms"] / 1e3) / 1e9
    autos = [c for c in e["candidates"] if c["source"].startswith("autoscheduler") and c["status"] == "ok"]
    failed_autos = [c for c in e["candidates"] if c["source"].startswith("autoscheduler") and c["status"] != "ok"]
    if autos:
        a = min(autos, key=lambda c: c["ms"])
        auto = f'{a["ms"]:.2f} ({a["source"].split(":")[1]})'
        vs = f'{a["ms"] / e["ms"]:.1f}x'
    elif failed_autos:
        auto, vs = "failed", "-"
    else:
        auto, vs = "-", "-"
    n = sum(1 for c in e["candidates"] if c["source"] == "tuned")
    print(f'| {e["layer"]} {e["direction"]} | {e["m"]} | {e["bucket"]} ({b.get("B")}, {b.get("T")}, {b.get("state")}) '
          f'| {knobs} | {e["ms"]:.2f} | {e["default_ms"]:.2f} | {e["default_ms"] / e["ms"]:.2f}x | {gbs:.1f} '
          f'| {100 * gbs / e["ceiling_gbs"]:.0f}% | {auto} | {vs} | {e["search"]}, {n} |')

rnn = [e for e in db["entries"] if e["complete"] and e["layer"] in RNN]
if rnn:
    print()
    print("| RNN core | bucket (B, T measured, H) | chosen | tuned ms | default (rule of thumb) | speed-up "
          "| GFLOP/s | best step kernels ms | best one launch ms | search, candidates |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for e in sorted(rnn, key=lambda e: (e["layer"], e["m"] != 2, e["direction"], e["bucket"])):
        b = buckets.get(e["bucket"], {})
        name = e["layer"] + (" (2x2 residual)" if e["layer"] == "wcrnn" and e["m"] == 2 else
                             " (dense residual)" if e["layer"] == "wcrnn" else "") + " " + e["direction"]
        knobs = " ".join(f"{k}={v}" for k, v in sorted(e["params"].items()))
        ok = [c for c in e["candidates"] if c["source"] == "tuned" and c["status"] == "ok"]
        best = {i: min((c["ms"] for c in ok if c["params"].get("impl") == i), default=0) for i in ("stepped", "scan")}
        dflt = next((c for c in ok if c["ms"] == e["default_ms"]), None)
        dname = dflt["params"].get("impl", "?") if dflt else "?"
        print(f'| {name} | {e["bucket"]} ({b.get("B")}, {max(1, b.get("T", 8) // 8)}, {b.get("state")}) | {knobs} '
              f'| {e["ms"]:.2f} | {e["default_ms"]:.2f} ({dname}) | {e["default_ms"] / e["ms"]:.2f}x '
              f'| {e["flops"] / (e["ms"] / 1e3) / 1e9:.0f} | {best["stepped"]:.2f} | {best["scan"]:.2f} '
              f'| {e["search"]}, {len(ok)} |')
