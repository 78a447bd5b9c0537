#!/usr/bin/env python3
"""Turn `statemix bench --json` rows into the Markdown table of docs/benchmarks.md."""
import json
import sys

rows = json.load(open(sys.argv[1]))
print("| layer | m | forward algorithm | dir | ms | M tokens/s | GB/s | copy GB/s (same run) | % of copy | reference ms | × reference |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    ref = r["reference_ms"]
    print("| {layer} | {m} | {algorithm} | {direction} | {ms:.2f} | {mtokens_per_s:.2f} | {gbps:.0f} | {copy_gbps:.0f} | {pct:.0f}% | {ref} | {x} |".format(
        pct=100 * r["fraction_of_copy"], ref=f"{ref:.0f}" if ref > 0 else "-",
        x=f"{ref / r['ms']:.1f}" if ref > 0 else "-", **r))
