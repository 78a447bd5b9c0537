#!/usr/bin/env python3
"""Turn `statemix bench --json` rows into the Markdown tables of docs/benchmarks.md.

Scan layers (hlru, bdlru): one table as before. RNN cores (elman, wcrnn, lstm) and their peers
(oneDNN / cuDNN rows, which have a non-empty "peer"): a second table, then a summary of statemix
against each peer (peer ms / statemix ms, > 1 means statemix is faster).
Usage: scripts/bench_table.py ROWS.json
"""
import json
import sys

RNN_CORES = ("elman", "wcrnn", "lstm")


def scan_table(rows):
    print("| layer | m | forward algorithm | dir | ms | M tokens/s | GB/s | copy GB/s (same run) | % of copy | reference ms | × reference |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = r["reference_ms"]
        print("| {layer} | {m} | {algorithm} | {direction} | {ms:.2f} | {mtokens_per_s:.2f} | {gbps:.0f} | {copy_gbps:.0f} | {pct:.0f}% | {ref} | {x} |".format(
            pct=100 * r["fraction_of_copy"], ref=f"{ref:.0f}" if ref > 0 else "-",
            x=f"{ref / r['ms']:.1f}" if ref > 0 else "-", **r))


def implementation(r):
    return "statemix" if not r.get("peer") else "{} ({})".format(r["peer"], r["algorithm"])


def rnn_table(rows):
    order = {c: i for i, c in enumerate(RNN_CORES)}
    rows = sorted(rows, key=lambda r: (r["device"], order[r["layer"]], bool(r.get("peer"))))
    print("| device | core | implementation | dir | ms | M tokens/s | GB/s | copy GB/s (same run) | % of copy | input GEMM ms | statemix speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        gemm = r.get("input_gemm_ms", 0)
        ratio = r.get("statemix_over_peer", 0)
        print("| {device} | {layer} | {impl} | {direction} | {ms:.2f} | {mtokens_per_s:.3f} | {gbps:.2f} | {copy_gbps:.0f} | {pct:.1f}% | {gemm} | {ratio} |".format(
            impl=implementation(r), pct=100 * r["fraction_of_copy"],
            gemm=f"{gemm:.2f}" if gemm > 0 else "-", ratio=f"{ratio:.2f}×" if ratio > 0 else "-", **r))


def main(path):
    rows = json.load(open(path))
    scans = [r for r in rows if r["layer"] not in RNN_CORES]
    cores = [r for r in rows if r["layer"] in RNN_CORES]
    if scans:
        scan_table(scans)
    if scans and cores:
        print()
    if cores:
        rnn_table(cores)


if __name__ == "__main__":
    main(sys.argv[1])
