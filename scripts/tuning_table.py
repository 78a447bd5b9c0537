#!/usr/bin/env python3
"""The tuning database as a Markdown table for docs/benchmarks.md.

    python3 scripts/tuning_table.py [autotune/db/tuning.json]

One row per complete entry: the shape, the chosen knobs, tuned and default times, the speed-up,
throughput and its share of the copy ceiling sampled between the same entry's runs, and the best
Halide autoscheduler where one was measured.
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
for e in sorted(db["entries"], key=lambda e: (e["target"], order.get(e["layer"], 9), e["direction"] != "forward",
                                               e["bucket"], e["m"])):
    if not e["complete"]:
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
